"""The demo's fast-forwards show in the stand-in's timestamps, and its digest holds its MQLs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.demo.run import run_demo

STAMP = r"mqlbot  (\d{4}-\d{2}-\d{2} \d{2}:\d{2})"


def _channel(out: str, name: str) -> str:
    """One rendered channel: from its underlined title to the next channel's."""
    return re.split(r"\n#[\w-]+\n═+\n", out.split(f"#{name}\n═", 1)[1], maxsplit=1)[0]


@pytest.mark.parametrize(
    ("start", "digest_at"),
    [
        # Thursday 3 Dec, 15:00 in Tokyo: that week's digest goes out on Monday 7 Dec, 09:00.
        (datetime(2026, 12, 3, 6, 0, tzinfo=UTC), "2026-12-07 09:00"),
        # Monday 7 Dec, 08:00 in Tokyo, just before that morning's digest of the week before:
        # the demo waits for the next one, which reports the week its MQLs were created in.
        (datetime(2026, 12, 6, 23, 0, tzinfo=UTC), "2026-12-14 09:00"),
    ],
    ids=["thursday-afternoon", "monday-before-the-digest"],
)
def test_stamps_follow_the_demo_clock(tmp_path: Path, start: datetime, digest_at: str) -> None:
    lines: list[str] = []
    assert run_demo(keep=tmp_path / "demo", language="en", say=lines.append, start=start) == 0
    out = "\n".join(lines)
    tokyo = (start + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
    cards = _channel(out, "inside-sales").split("\n\n")
    unclaimed = next(card for card in cards if "unclaimed for 20 min" in card)
    card, reminder = re.findall(STAMP, unclaimed)[:2]
    assert card[:15] == tokyo[:15]  # the card: when the demo started (to the ten minutes)
    elapsed = datetime.fromisoformat(reminder) - datetime.fromisoformat(card)
    # The reminder: twenty minutes later (stamps are to the minute, the sender takes a moment).
    assert timedelta(minutes=20) <= elapsed <= timedelta(minutes=21)
    # The digest and its chart: at the digest time, a few days later.
    assert re.findall(STAMP, _channel(out, "marketing")) == [digest_at, digest_at]
    assert "'mqls': 4, 'sql': 1" in out
