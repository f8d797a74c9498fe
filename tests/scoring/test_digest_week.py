"""The digest's calendar week: Monday 00:00 to Monday 00:00 local, whatever the weekday it is sent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.digest import (
    Period,
    calendar_week,
    digest_period,
    digest_week_name,
    week_starting,
    weekly_period,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")


def jst(day: int, hour: int = 0, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


WEEK_49 = Period(jst(30, month=11), jst(7))


@pytest.mark.parametrize(
    ("now", "weekday", "at"),
    [
        (jst(7, 9), 0, time(9)),  # sent Monday 09:00
        (jst(13, 23, 59), 0, time(9)),  # late replay, same digest
        (jst(7, 0), 0, time(0)),  # sent at the very end of the week
        (jst(11, 17), 4, time(17)),  # sent on Friday: still the week before
        (jst(13, 20), 6, time(20)),  # Sunday evening: the week now ending is not over yet
    ],
)
def test_the_week_reported_is_the_last_whole_local_week(
    now: datetime, weekday: int, at: time
) -> None:
    assert calendar_week(now, weekday=weekday, at=at, tz=TOKYO) == WEEK_49
    assert digest_week_name(WEEK_49, TOKYO) == "2026-W49"


def test_before_the_digest_time_the_previous_digest_is_the_latest() -> None:
    assert calendar_week(jst(7, 8, 59), weekday=0, at=time(9), tz=TOKYO) == Period(
        jst(23, month=11), jst(30, month=11)
    )


def test_the_week_is_local_not_utc() -> None:
    assert WEEK_49.start == datetime(2026, 11, 29, 15, 0, tzinfo=UTC)
    assert WEEK_49.end - WEEK_49.start == timedelta(days=7)


def test_a_calendar_week_across_the_dst_change_is_seven_local_days() -> None:
    # New York leaves DST on Sunday 1 Nov 2026: the week of 26 Oct has 169 hours.
    week = calendar_week(
        datetime(2026, 11, 2, 9, tzinfo=NEW_YORK), weekday=0, at=time(9), tz=NEW_YORK
    )
    assert week.start == datetime(2026, 10, 26, 4, tzinfo=UTC)
    assert week.end == datetime(2026, 11, 2, 5, tzinfo=UTC)
    assert week_starting(week, NEW_YORK) == date(2026, 10, 26)


def test_the_rolling_week_stays_behind_its_setting() -> None:
    now = jst(7, 9)
    rolling = digest_period(now, weekday=0, at=time(9), tz=TOKYO, week="rolling")
    assert rolling == weekly_period(now, weekday=0, at=time(9), tz=TOKYO)
    assert rolling == Period(jst(30, 9, month=11), jst(7, 9))
    assert digest_period(now, weekday=0, at=time(9), tz=TOKYO) == WEEK_49
    assert week_starting(rolling, TOKYO) is None
    # Named after the week its seven days start in: the same name as that morning's calendar week.
    assert digest_week_name(rolling, TOKYO) == "2026-W49"


def test_only_a_monday_to_monday_local_week_is_a_calendar_week() -> None:
    assert week_starting(WEEK_49, TOKYO) == date(2026, 11, 30)
    assert week_starting(WEEK_49, ZoneInfo("UTC")) is None
    assert week_starting(Period(jst(1), jst(8)), TOKYO) is None  # Tuesday to Tuesday
    assert week_starting(Period(jst(30, month=11), jst(14)), TOKYO) is None  # two weeks
