"""`mqlbot demo` runs to its end offline and shows the whole story in the stand-in's channels."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.run import run_demo


@pytest.mark.parametrize("language", ["en", "ja"])
def test_demo_runs_to_its_end_and_prints_the_channels(tmp_path: Path, language: str) -> None:
    lines: list[str] = []
    assert run_demo(keep=tmp_path / "demo", language=language, say=lines.append) == 0
    out = "\n".join(lines)
    assert '"mqls":["crm-00042","crm-00077","crm-00105","crm-00131"]' in out
    assert "4 MQL cards posted to #inside-sales" in out
    assert "'outcome': 'done', 'checked': 1, 'unclaimed_reminded': 1" in out
    assert "'queued': 2" in out
    assert "'mqls': 4, 'sql': 1" in out
    assert "(some messages were still queued" not in out
    assert (tmp_path / "demo" / "mqlbot.db").exists()
    if language == "en":
        assert "Already claimed by @sato." in out
        assert "@sato → SQL" in out
        assert "@emily → Recycled (Timing), back on" in out
        assert "@tanaka → Disqualified (Student)" in out
        assert "@sato @tanaka @emily This MQL has been unclaimed for 20 min" in out
        assert "MQL digest: " in out
        assert "📎 Chart: MQL funnel and conversion by source" in out
    else:
        assert "佐藤 愛子" in out
        assert "#marketing" in out
        assert "@sato → SQL" in out
