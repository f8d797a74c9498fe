"""The business-hours clock: Tokyo with Japanese holidays, New York across DST, and parse errors."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.clock import BusinessCalendar, add_business_time, business_elapsed

TOKYO_TZ = ZoneInfo("Asia/Tokyo")
NY_TZ = ZoneInfo("America/New_York")

TOKYO = BusinessCalendar.parse(
    timezone="Asia/Tokyo",
    business_hours="09:00-18:00",
    workdays="mon-fri",
    holidays=["JP", "12-29..01-03"],
)
NEW_YORK = BusinessCalendar.parse(
    timezone="America/New_York", business_hours="09:00-18:00", workdays="mon-fri", holidays=["US"]
)
# Every day a workday, so the DST Sundays (2026-03-08, 2026-11-01) are business days.
NY_DAILY = BusinessCalendar.parse(
    timezone="America/New_York", business_hours="09:00-18:00", workdays="mon-sun", holidays=[]
)
NY_ROUND_CLOCK = BusinessCalendar.parse(
    timezone="America/New_York", business_hours="00:00-24:00", workdays="mon-sun", holidays=[]
)


def tk(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO_TZ)


def ny(month: int, day: int, hour: int = 0, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY_TZ)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2026, 11, 23), True),  # Labour Thanksgiving Day, a Monday
        (date(2026, 11, 24), False),
        (date(2026, 4, 29), True),  # Showa Day: Golden Week starts
        (date(2026, 4, 30), False),
        (date(2026, 5, 1), False),
        (date(2026, 5, 6), True),  # substitute holiday for Constitution Day on a Sunday
        (date(2026, 5, 7), False),
        (date(2026, 12, 28), False),
        (date(2026, 12, 29), True),  # company year-end break, wraps over new year
        (date(2026, 12, 31), True),
        (date(2027, 1, 2), True),
        (date(2027, 1, 3), True),
        (date(2027, 1, 4), False),
    ],
)
def test_tokyo_holidays(day: date, holiday: bool) -> None:
    assert TOKYO.is_holiday(day) is holiday


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (tk(11, 24, 9), True),  # exactly at opening
        (tk(11, 24, 8, 59), False),
        (tk(11, 24, 17, 59), True),
        (tk(11, 24, 18), False),  # exactly at closing
        (tk(11, 23, 10), False),  # Monday holiday
        (tk(11, 21, 10), False),  # Saturday
        (tk(12, 28, 10), True),
        (tk(12, 29, 10), False),
        (tk(1, 4, 10, year=2027), True),
        (tk(5, 1, 10), True),
        (tk(5, 6, 10), False),
        # 18:00 in Tokyo is 09:00 UTC: the instant decides, not the zone it is written in.
        (datetime(2026, 11, 24, 8, 59, tzinfo=UTC), True),
        (datetime(2026, 11, 24, 9, 0, tzinfo=UTC), False),
    ],
)
def test_tokyo_is_open(at: datetime, open_: bool) -> None:
    assert TOKYO.is_open(at) is open_


@pytest.mark.parametrize(
    ("at", "opening"),
    [
        (tk(11, 24, 12), tk(11, 24, 12)),  # open: itself
        (tk(11, 24, 3), tk(11, 24, 9)),
        (tk(11, 20, 18), tk(11, 24, 9)),  # Friday close -> Tuesday (Monday is a holiday)
        (tk(11, 27, 18, 30), tk(11, 30, 9)),  # Friday evening -> Monday
        (tk(12, 28, 18, 30), tk(1, 4, 9, year=2027)),  # year-end break
        (tk(4, 28, 18), tk(4, 30, 9)),
        (tk(5, 1, 18), tk(5, 7, 9)),  # Golden Week
    ],
)
def test_tokyo_next_opening(at: datetime, opening: datetime) -> None:
    result = TOKYO.next_opening(at)
    assert result == opening
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (tk(11, 24, 10), minutes(15), tk(11, 24, 10, 15)),
        (tk(11, 24, 22), minutes(15), tk(11, 25, 9, 15)),  # created at night
        (tk(11, 24, 3), minutes(15), tk(11, 24, 9, 15)),  # created before opening
        (tk(11, 20, 17, 50), minutes(15), tk(11, 24, 9, 5)),  # Friday evening, Monday holiday
        (tk(11, 27, 17, 50), minutes(15), tk(11, 30, 9, 5)),  # Friday evening -> Monday
        (tk(11, 23, 10), minutes(15), tk(11, 24, 9, 15)),  # created on a holiday
        (tk(11, 24, 9), minutes(15), tk(11, 24, 9, 15)),  # exactly at opening
        (tk(11, 24, 18), minutes(15), tk(11, 25, 9, 15)),  # exactly at closing
        (tk(11, 24, 17, 45), minutes(15), tk(11, 24, 18)),  # runs out exactly at closing
        (tk(11, 24, 22), timedelta(0), tk(11, 25, 9)),  # zero: the clock starts at opening
        (tk(11, 24, 10), timedelta(0), tk(11, 24, 10)),
        (tk(11, 24, 10), hours(48), tk(12, 1, 13)),  # 8+9+9+9+9 h, then 4 h on Tuesday
        (tk(12, 28, 17), hours(2), tk(1, 4, 10, year=2027)),  # across the year-end break
        (tk(5, 1, 17), hours(2), tk(5, 7, 10)),  # across Golden Week
    ],
)
def test_tokyo_add_business_time(start: datetime, delta: timedelta, expected: datetime) -> None:
    result = add_business_time(TOKYO, start, delta)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "end", "elapsed"),
    [
        (tk(11, 24, 10), tk(11, 24, 11, 30), minutes(90)),
        (tk(11, 24, 11), tk(11, 24, 10), timedelta(0)),  # end before start
        (tk(11, 24, 20), tk(11, 25, 8), timedelta(0)),  # overnight
        (tk(11, 20, 17), tk(11, 24, 10), hours(2)),  # Fri 1 h + Tue 1 h; Monday holiday
        (tk(11, 21, 0), tk(11, 23, 23, 59), timedelta(0)),  # weekend and holiday
        (tk(11, 24, 9), tk(11, 24, 18), hours(9)),
        # 261 weekdays - 17 weekday national holidays - 4 weekdays of the year-end break.
        (tk(1, 1), tk(1, 1, year=2027), hours(240 * 9)),
    ],
)
def test_tokyo_business_elapsed(start: datetime, end: datetime, elapsed: timedelta) -> None:
    assert business_elapsed(TOKYO, start, end) == elapsed


@pytest.mark.parametrize(
    ("cal", "start", "end", "elapsed"),
    [
        # Friday before spring-forward to Monday after: two 9 h days, EST then EDT.
        (NEW_YORK, ny(3, 6, 9), ny(3, 9, 18), hours(18)),
        (NEW_YORK, ny(10, 30, 9), ny(11, 2, 18), hours(18)),
        # The DST days themselves still have 9 business hours of 09:00-18:00.
        (NY_DAILY, ny(3, 8), ny(3, 9), hours(9)),
        (NY_DAILY, ny(11, 1), ny(11, 2), hours(9)),
        (NY_DAILY, ny(3, 7, 9), ny(3, 9, 9), hours(18)),
        # A round-the-clock calendar counts the real 23 h and 25 h days.
        (NY_ROUND_CLOCK, ny(3, 8), ny(3, 9), hours(23)),
        (NY_ROUND_CLOCK, ny(11, 1), ny(11, 2), hours(25)),
        (NY_ROUND_CLOCK, ny(3, 7), ny(3, 8), hours(24)),
        (NEW_YORK, ny(11, 25, 17), ny(11, 27, 10), hours(2)),  # Thanksgiving 11-26
    ],
)
def test_new_york_business_elapsed(
    cal: BusinessCalendar, start: datetime, end: datetime, elapsed: timedelta
) -> None:
    assert business_elapsed(cal, start, end) == elapsed


@pytest.mark.parametrize(
    ("cal", "start", "delta", "expected_utc"),
    [
        # Friday 17:00 EST + 2 h -> Monday 10:00 EDT (14:00 UTC).
        (NEW_YORK, ny(3, 6, 17), hours(2), datetime(2026, 3, 9, 14, tzinfo=UTC)),
        # Friday 17:00 EDT + 2 h -> Monday 10:00 EST (15:00 UTC).
        (NEW_YORK, ny(10, 30, 17), hours(2), datetime(2026, 11, 2, 15, tzinfo=UTC)),
        (NY_DAILY, ny(3, 8, 9), hours(9), datetime(2026, 3, 8, 22, tzinfo=UTC)),  # 18:00 EDT
        (NY_DAILY, ny(11, 1, 9), hours(9), datetime(2026, 11, 1, 23, tzinfo=UTC)),  # 18:00 EST
        # 01:30 EST + 1 h of real time is 03:30 EDT: 02:00-03:00 never happened.
        (NY_ROUND_CLOCK, ny(3, 8, 1, 30), hours(1), datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),
        # 00:30 EDT + 2 h is the second 01:30 (EST) on the fall-back night.
        (NY_ROUND_CLOCK, ny(11, 1, 0, 30), hours(2), datetime(2026, 11, 1, 6, 30, tzinfo=UTC)),
    ],
)
def test_new_york_add_business_time(
    cal: BusinessCalendar, start: datetime, delta: timedelta, expected_utc: datetime
) -> None:
    assert add_business_time(cal, start, delta) == expected_utc


def test_opening_in_the_skipped_hour_opens_when_the_clocks_have_jumped() -> None:
    cal = BusinessCalendar.parse(
        timezone="America/New_York", business_hours="02:30-10:00", workdays="mon-sun", holidays=[]
    )
    # 02:30 does not exist on 2026-03-08; the clock opens at 03:30 EDT, one real hour later.
    assert cal.next_opening(ny(3, 8, 0)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert business_elapsed(cal, ny(3, 8), ny(3, 9)) == hours(6.5)


def test_closing_at_midnight() -> None:
    cal = BusinessCalendar.parse(
        timezone="Asia/Tokyo", business_hours="09:00-24:00", workdays="mon-fri", holidays=[]
    )
    assert cal.closes == time(0)
    assert cal.is_open(tk(11, 24, 23, 59))
    assert not cal.is_open(tk(11, 25, 0, 0))
    assert add_business_time(cal, tk(11, 24, 23, 50), minutes(15)) == tk(11, 25, 9, 5)
    assert business_elapsed(cal, tk(11, 24), tk(11, 26)) == hours(30)


def test_midnight_to_midnight_is_open_all_day() -> None:
    cal = BusinessCalendar.parse(
        timezone="UTC", business_hours="00:00-24:00", workdays="mon-fri", holidays=[]
    )
    assert business_elapsed(cal, tk(11, 20), tk(11, 27)) == hours(5 * 24)
    # Friday 23:59 UTC + 2 min: Saturday is closed, so Monday 00:01 UTC.
    friday = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
    assert add_business_time(cal, friday, minutes(2)) == datetime(2026, 11, 23, 0, 1, tzinfo=UTC)


def test_a_year_long_span() -> None:
    start, end = ny(1, 2, 9), ny(1, 4, 9, year=2027)
    # 260 weekdays from Jan 2 to Dec 31, minus 10 federal holidays on weekdays.
    elapsed = business_elapsed(NEW_YORK, start, end)
    assert elapsed == hours(250 * 9)
    # The earliest instant with that much business time is the last closing of 2026.
    assert add_business_time(NEW_YORK, start, elapsed) == ny(12, 31, 18)


@pytest.mark.parametrize(
    ("workdays", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,tue,thu", {0, 1, 3}),
        ("sun-thu", {6, 0, 1, 2, 3}),
        ("Mon - Wed, Fri", {0, 1, 2, 4}),
        ("sat", {5}),
    ],
)
def test_parse_workdays(workdays: str, days: set[int]) -> None:
    cal = BusinessCalendar.parse(
        timezone="UTC", business_hours="09:00-18:00", workdays=workdays, holidays=[]
    )
    assert cal.workdays == frozenset(days)


def test_parse_holiday_entries() -> None:
    cal = BusinessCalendar.parse(
        timezone="America/New_York",
        business_hours="09:00-18:00",
        workdays="mon-fri",
        holidays=["us-ny", "2026-12-28", "2026-08-13..2026-08-16", "12-24", "12-29..01-03"],
    )
    assert (cal.holiday_country, cal.holiday_subdivision) == ("US", "NY")
    assert cal.extra_holidays == {
        date(2026, 12, 28),
        date(2026, 8, 13),
        date(2026, 8, 14),
        date(2026, 8, 15),
        date(2026, 8, 16),
    }
    assert cal.recurring_holidays == (((12, 24), (12, 24)), ((12, 29), (1, 3)))
    assert cal.is_holiday(date(2026, 2, 12))  # Lincoln's Birthday: New York only
    assert not NEW_YORK.is_holiday(date(2026, 2, 12))
    assert cal.is_holiday(date(2031, 12, 24))
    assert not cal.is_holiday(date(2027, 8, 13))  # a dated range does not recur


_GOOD = {
    "timezone": "Asia/Tokyo",
    "business_hours": "09:00-18:00",
    "workdays": "mon-fri",
    "holidays": ["JP"],
}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"business_hours": "9-6"}, "business_hours '9-6': expected HH:MM-HH:MM"),
        ({"business_hours": "09:00-25:00"}, "business_hours '09:00-25:00': not a valid time"),
        ({"business_hours": "24:00-24:00"}, "business_hours '24:00-24:00': not a valid time"),
        ({"business_hours": "22:00-06:00"}, "overnight shifts are not supported"),
        ({"business_hours": "09:00-09:00"}, "closing must be after opening"),
        ({"workdays": "mon-fry"}, "workdays 'mon-fry': 'fry' is not a day"),
        ({"workdays": ""}, "workdays '': '' is not a day"),
        ({"timezone": "Asia/Tokio"}, "timezone 'Asia/Tokio': not an IANA time zone"),
        ({"timezone": "../etc"}, "timezone '../etc': not an IANA time zone"),
        ({"holidays": ["XX"]}, "holidays 'XX': not a country/subdivision"),
        ({"holidays": ["US-ZZ"]}, "holidays 'US-ZZ': not a country/subdivision"),
        ({"holidays": ["JP", "US"]}, "holidays 'US': only one country code"),
        ({"holidays": ["2026-02-30"]}, "holidays '2026-02-30': '2026-02-30' is not a valid date"),
        ({"holidays": ["13-01..01-03"]}, "holidays '13-01..01-03': 13-01 is not a day"),
        ({"holidays": ["02-30"]}, "holidays '02-30': 02-30 is not a day"),
        ({"holidays": ["12-29..2027-01-03"]}, "'2027-01-03' is not MM-DD"),
        ({"holidays": ["2026-08-16..2026-08-13"]}, "the range ends before it starts"),
        ({"holidays": ["2026-01-01..2027-06-01"]}, "a range may span at most 366 days"),
        ({"holidays": ["next friday"]}, "holidays 'next friday': expected a country code"),
        ({"holidays": "JP"}, "holidays 'JP': expected a list of entries"),
        ({"holidays": ["01-01..12-31"]}, "recurring holidays cover the whole year"),
    ],
)
def test_parse_errors_name_the_bad_part(override: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        BusinessCalendar.parse(**{**_GOOD, **override})  # type: ignore[arg-type]


def test_direct_construction_is_validated() -> None:
    utc = ZoneInfo("UTC")
    with pytest.raises(ValueError, match="overnight shifts are not supported"):
        BusinessCalendar(utc, time(22), time(6), frozenset({0}))
    with pytest.raises(ValueError, match="at least one workday"):
        BusinessCalendar(utc, time(9), time(18), frozenset())
    with pytest.raises(ValueError, match="days are 0 \\(Monday\\) to 6"):
        BusinessCalendar(utc, time(9), time(18), frozenset({7}))
    with pytest.raises(ValueError, match="subdivision given without a country"):
        BusinessCalendar(utc, time(9), time(18), frozenset({0}), holiday_subdivision="NY")


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 24, 10)
    with pytest.raises(ValueError, match="at 2026-11-24T10:00:00: a time zone is required"):
        TOKYO.is_open(naive)
    with pytest.raises(ValueError, match="end 2026-11-24T10:00:00: a time zone is required"):
        business_elapsed(TOKYO, tk(11, 24), naive)
    with pytest.raises(ValueError, match="start 2026-11-24T10:00:00: a time zone is required"):
        add_business_time(TOKYO, naive, minutes(1))


def test_negative_delta_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot be negative"):
        add_business_time(TOKYO, tk(11, 24, 10), -minutes(1))


def test_a_calendar_that_never_opens_is_reported_not_looped() -> None:
    cal = BusinessCalendar(
        ZoneInfo("UTC"),
        time(9),
        time(18),
        frozenset({0}),
        extra_holidays=frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(800)),
    )
    with pytest.raises(ValueError, match="no business day in 400 days"):
        cal.next_opening(datetime(2026, 1, 1, tzinfo=UTC))


# Instants over two years, minute-aligned or not, spanning both DST changes and the year-end.
_BASE = datetime(2025, 12, 20, tzinfo=UTC)
_instants = st.integers(min_value=0, max_value=2 * 366 * 86400).map(
    lambda s: _BASE + timedelta(seconds=s)
)
_calendars = st.sampled_from([TOKYO, NEW_YORK, NY_DAILY, NY_ROUND_CLOCK])


@settings(max_examples=200, deadline=None)
@given(cal=_calendars, start=_instants, end=_instants)
def test_adding_the_elapsed_time_lands_on_the_same_business_instant(
    cal: BusinessCalendar, start: datetime, end: datetime
) -> None:
    start, end = min(start, end), max(start, end)
    elapsed = business_elapsed(cal, start, end)
    landed = add_business_time(cal, start, elapsed)
    assert business_elapsed(cal, start, landed) == elapsed
    # No business time between where we landed and `end`, in either direction.
    assert business_elapsed(cal, landed, end) == timedelta(0)
    assert business_elapsed(cal, end, landed) == timedelta(0)


@settings(max_examples=200, deadline=None)
@given(
    cal=_calendars,
    start=_instants,
    delta=st.integers(min_value=0, max_value=300 * 3600).map(lambda s: timedelta(seconds=s)),
)
def test_elapsed_after_adding_is_the_delta(
    cal: BusinessCalendar, start: datetime, delta: timedelta
) -> None:
    landed = add_business_time(cal, start, delta)
    assert business_elapsed(cal, start, landed) == delta
    if delta:
        # The earliest such instant: one second earlier is not enough.
        assert business_elapsed(cal, start, landed - timedelta(seconds=1)) < delta
