"""`mqlbot demo` runs to its end offline and tells the same story on any day, hour, TZ and load."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo.run import Demo, run_demo
from bot.standin.faults import Fault


def assert_whole_story(out: str, language: str) -> None:
    """Every step of the demo's story reached the stand-in's channels."""
    assert "Unhandled request" not in out
    assert "@sato → SQL" in out
    if language == "en":
        assert '"mqls":["crm-00042","crm-00077","crm-00105","crm-00131"]' in out
        assert "4 MQL cards posted to #inside-sales" in out
        assert "'outcome': 'done', 'checked': 1, 'unclaimed_reminded': 1" in out
        assert "'queued': 2" in out
        assert "'mqls': 4, 'sql': 1" in out
        assert "(some messages were still queued" not in out
        assert "Already claimed by @sato." in out
        assert "@emily → Recycled (Timing), back on" in out
        assert "@tanaka → Disqualified (Student)" in out
        assert "@sato @tanaka @emily This MQL has been unclaimed for 20 min" in out
        assert "MQL digest: " in out
        assert "📎 Chart: MQL funnel and conversion by source" in out
    else:
        assert "MQL になったリード 4件：crm-00042、crm-00077、crm-00105、crm-00131" in out
        assert "#inside-sales に MQL カードが4件投稿されました" in out
        assert "MQL 1件を確認、未担当のリマインド 1件" in out
        assert "MQL 4件・SQL 1件、送信待ちに 2件" in out
        assert "送信待ちのメッセージがありました" not in out
        assert "佐藤 愛子" in out
        assert "#marketing" in out


@pytest.mark.parametrize("language", ["en", "ja"])
def test_demo_runs_to_its_end_and_prints_the_channels(tmp_path: Path, language: str) -> None:
    lines: list[str] = []
    assert run_demo(keep=tmp_path / "demo", language=language, say=lines.append) == 0
    assert_whole_story("\n".join(lines), language)
    assert (tmp_path / "demo" / "mqlbot.db").exists()


@pytest.fixture
def local_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The process's local time zone (``TZ``) for one test, restored afterwards."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("start", "local_tz"),
    [
        # Friday 18:30 in Tokyo, after business hours everywhere in Asia.
        pytest.param(datetime(2026, 12, 4, 9, 30, tzinfo=UTC), "Asia/Tokyo", id="friday-evening"),
        # Sunday 23:00 in Tokyo, the eve of Coming of Age Day (Mon 11 Jan 2027).
        pytest.param(datetime(2027, 1, 10, 14, 0, tzinfo=UTC), "Asia/Tokyo", id="holiday-eve"),
        # 31 December 23:30 in Tokyo: the week-later digest falls in the next year.
        pytest.param(datetime(2026, 12, 31, 14, 30, tzinfo=UTC), "UTC", id="new-years-eve"),
        # 01:30 in New York half an hour before clocks spring forward (14 Mar 2027).
        pytest.param(
            datetime(2027, 3, 14, 6, 30, tzinfo=UTC), "America/New_York", id="dst-spring-forward"
        ),
        # 01:30 EDT in New York, half an hour before clocks fall back (1 Nov 2026).
        pytest.param(
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", id="dst-fall-back"
        ),
    ],
    indirect=["local_tz"],
)
def test_demo_tells_the_same_story_at_awkward_instants(
    tmp_path: Path, start: datetime, local_tz: str
) -> None:
    lines: list[str] = []
    assert run_demo(keep=tmp_path / "demo", say=lines.append, start=start) == 0
    out = "\n".join(lines)
    assert_whole_story(out, "en")
    # The story is told as of `start`: the reminder job runs 20 minutes (and seconds) later.
    slot = (start + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    assert f"'job': 'nag', 'slot': '{slot}'" in out


def test_demo_tells_the_whole_story_when_slack_answers_slowly(tmp_path: Path) -> None:
    """A slow Slack (posts, card updates and modals answered late) loses no step of the story."""
    lines: list[str] = []
    demo = Demo(tmp_path, "en", lines.append)
    for method in ("chat.postMessage", "chat.update"):
        demo.state.faults.inject(method, Fault.slow(0.4), count=6)
    # Modals open late, so the Home tab a claim refreshes is published before them.
    demo.state.faults.inject("views.open", Fault.slow(1.5), count=3)
    asyncio.run(demo.run())
    assert_whole_story("\n".join(lines), "en")
