"""The business-hours clock: hours, workdays and holidays; business time between instants."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib

# A calendar with no business day for this long is almost certainly misconfigured; scanning
# further would only turn the mistake into a hang.
_MAX_CLOSED_DAYS = 400
# A dated range longer than this is a typo (e.g. the wrong year), not a company holiday.
_MAX_RANGE_DAYS = 366

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"(\d{2}):(\d{2})-(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")
_COUNTRY = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z0-9]{1,5}))?")

MonthDay = tuple[int, int]


@dataclass(frozen=True)
class BusinessCalendar:
    """When the SLA clock runs: a window ``[opens, closes)`` of local wall-clock time per workday.

    ``closes == time(0)`` means the window ends at midnight (``24:00``); ``opens == closes ==
    time(0)`` is a 24-hour day. Overnight shifts (closing after midnight) are not supported.
    The window's instants come from the wall-clock times with ``fold=0``: an ambiguous time
    (the repeated hour when clocks go back) is its first occurrence, and a time that does not
    exist (skipped when clocks go forward) is read with the offset in force before the change.
    Business time is real elapsed time inside these windows, so a 09:00-18:00 day is 9 h on
    DST change days too, while a 00:00-24:00 day on such a day is 23 h or 25 h.
    """

    timezone: ZoneInfo
    opens: time
    closes: time
    workdays: frozenset[int]  # Monday = 0
    holiday_country: str | None = None  # an ISO code the holidays library knows, e.g. "JP"
    holiday_subdivision: str | None = None  # e.g. "NY" with country "US"
    extra_holidays: frozenset[date] = frozenset()
    # ((start month, day), (end month, day)), inclusive; start after end wraps over new year.
    recurring_holidays: tuple[tuple[MonthDay, MonthDay], ...] = ()

    def __post_init__(self) -> None:
        for name, value in (("opens", self.opens), ("closes", self.closes)):
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a local wall-clock time without tzinfo")
        if self.closes != time(0) and self.closes <= self.opens:
            raise ValueError(
                f"business hours {self.opens:%H:%M}-{self.closes:%H:%M}: closing must be after "
                "opening on the same day (overnight shifts are not supported; "
                "use 24:00 for midnight)"
            )
        if not self.workdays:
            raise ValueError("workdays: at least one workday is needed")
        if not self.workdays <= set(range(7)):
            raise ValueError(f"workdays {sorted(self.workdays)}: days are 0 (Monday) to 6 (Sunday)")
        for start, end in self.recurring_holidays:
            for month, day in (start, end):
                _check_month_day(month, day, f"recurring holiday {month:02d}-{day:02d}")
        if all(self._is_recurring_holiday(date(2024, 1, 1) + timedelta(n)) for n in range(366)):
            raise ValueError("recurring holidays cover the whole year: the clock would never run")
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise ValueError("holiday subdivision given without a country")
        if self.holiday_country is not None:
            _country_year(self.holiday_country, self.holiday_subdivision, 2000)  # fail early

    @classmethod
    def parse(
        cls, *, timezone: str, business_hours: str, workdays: str, holidays: Sequence[str]
    ) -> BusinessCalendar:
        """Build a calendar from the ``[sla]`` settings; ValueError names the bad part."""
        if isinstance(holidays, str):
            raise ValueError(f"holidays {holidays!r}: expected a list of entries, not one string")
        opens, closes = _parse_hours(business_hours)
        country: str | None = None
        subdivision: str | None = None
        extra: set[date] = set()
        recurring: list[tuple[MonthDay, MonthDay]] = []
        for entry in holidays:
            text = entry.strip()
            if ".." in text:
                first, _, last = text.partition("..")
                if _ISO_DATE.fullmatch(first) and _ISO_DATE.fullmatch(last):
                    extra.update(_parse_date_range(text, first, last))
                else:
                    recurring.append((_parse_month_day(text, first), _parse_month_day(text, last)))
            elif _ISO_DATE.fullmatch(text):
                extra.add(_parse_iso_date(text, text))
            elif _MONTH_DAY.fullmatch(text):
                day = _parse_month_day(text, text)
                recurring.append((day, day))
            elif match := _COUNTRY.fullmatch(text):
                if country is not None:
                    raise ValueError(
                        f"holidays {text!r}: only one country code is supported ({country} given)"
                    )
                country = match[1].upper()
                subdivision = match[2].upper() if match[2] else None
            else:
                raise ValueError(
                    f"holidays {entry!r}: expected a country code (JP, US-NY), "
                    "a date (2026-12-28), "
                    "a date range (2026-08-13..2026-08-16) or a yearly range (12-29..01-03)"
                )
        return cls(
            timezone=_parse_timezone(timezone),
            opens=opens,
            closes=closes,
            workdays=_parse_workdays(workdays),
            holiday_country=country,
            holiday_subdivision=subdivision,
            extra_holidays=frozenset(extra),
            recurring_holidays=tuple(recurring),
        )

    def is_holiday(self, d: date) -> bool:
        """True for a national, company or yearly holiday (whatever the weekday)."""
        if d in self.extra_holidays or self._is_recurring_holiday(d):
            return True
        country = self.holiday_country
        return country is not None and d in _country_year(country, self.holiday_subdivision, d.year)

    def is_business_day(self, d: date) -> bool:
        """True when the clock runs on this local date."""
        return d.weekday() in self.workdays and not self.is_holiday(d)

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls inside a business window (opening included, closing excluded)."""
        start, _ = next(_windows(self, _utc(at, "at")))
        return start <= at

    def next_opening(self, at: datetime) -> datetime:
        """The first open instant at or after ``at`` (``at`` itself when open), in UTC."""
        at = _utc(at, "at")
        start, _ = next(_windows(self, at))
        return max(start, at)

    def window(self, d: date) -> tuple[datetime, datetime] | None:
        """The UTC opening and closing instants of local date ``d``, or None when closed all day."""
        if not self.is_business_day(d):
            return None
        start = _instant(d, self.opens, self.timezone)
        if self.closes == time(0):
            end = _instant(d + timedelta(days=1), time(0), self.timezone)
        else:
            end = _instant(d, self.closes, self.timezone)
        # Only a window made entirely of skipped wall-clock time can come out empty.
        return (start, end) if start < end else None

    def _is_recurring_holiday(self, d: date) -> bool:
        key = (d.month, d.day)
        for start, end in self.recurring_holidays:
            if start <= end:
                if start <= key <= end:
                    return True
            elif key >= start or key <= end:
                return True
        return False


def business_elapsed(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time between two instants; zero when ``end`` is not after ``start``."""
    start, end = _utc(start, "start"), _utc(end, "end")
    total = timedelta()
    if end <= start:
        return total
    for opens, closes in _windows(cal, start):
        if opens >= end:
            break
        total += min(closes, end) - max(opens, start)
    return total


def add_business_time(cal: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    """The instant (UTC) at which ``delta`` of business time has passed since ``start``.

    Time outside business hours does not count, so a start outside hours begins at the next
    opening. A zero delta gives that next opening. When the delta runs out exactly at a
    closing instant, that closing instant is returned (the earliest instant that qualifies).
    """
    if delta < timedelta():
        raise ValueError(f"delta {delta}: business time to add cannot be negative")
    start = _utc(start, "start")
    remaining = delta
    for opens, closes in _windows(cal, start):
        begin = max(opens, start)
        if remaining == timedelta():
            return begin
        available = closes - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable: _windows never ends")  # pragma: no cover


def _windows(cal: BusinessCalendar, at: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business windows in order, from the first one that has not closed by ``at`` on, forever."""
    # Start a day early: a window ending at midnight belongs to the previous local date.
    day = at.astimezone(cal.timezone).date() - timedelta(days=1)
    closed_run = 0
    while True:
        window = cal.window(day)
        day += timedelta(days=1)
        if window is None:
            closed_run += 1
            if closed_run > _MAX_CLOSED_DAYS:
                raise ValueError(
                    f"business calendar has no business day in {_MAX_CLOSED_DAYS} days "
                    f"before {day.isoformat()}: check workdays and holidays"
                )
            continue
        closed_run = 0
        if window[1] > at:
            yield window


# Keyed by year so a long span costs one library call per year, not one per day.
@lru_cache(maxsize=256)
def _country_year(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    try:
        days = holidays_lib.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:
        name = f"{country}-{subdivision}" if subdivision else country
        raise ValueError(f"holidays {name!r}: not a country/subdivision known to holidays") from exc
    return frozenset(days.keys())


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()}: a time zone is required (naive datetime)")
    return value.astimezone(UTC)


def _instant(d: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, wall, tzinfo=zone).astimezone(UTC)


def _parse_timezone(text: str) -> ZoneInfo:
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"timezone {text!r}: not an IANA time zone (e.g. Asia/Tokyo, UTC)"
        ) from exc


def _parse_hours(text: str) -> tuple[time, time]:
    match = _HOURS.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"business_hours {text!r}: expected HH:MM-HH:MM, e.g. 09:00-18:00")
    oh, om, ch, cm = (int(part) for part in match.groups())
    if oh > 23 or om > 59 or ch > 24 or cm > 59 or (ch == 24 and cm != 0):
        raise ValueError(f"business_hours {text!r}: not a valid time of day (00:00 to 24:00)")
    opens, closes = time(oh, om), time(ch % 24, cm)
    if closes != time(0) and closes <= opens:
        raise ValueError(
            f"business_hours {text!r}: closing must be after opening on the same day "
            "(overnight shifts are not supported; use 24:00 for midnight)"
        )
    return opens, closes


def _parse_workdays(text: str) -> frozenset[int]:
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        start = _day_index(first, text)
        if not dash:
            days.add(start)
            continue
        end = _day_index(last, text)
        # Ranges wrap over the week end, so "sun-thu" works for a Sunday-to-Thursday week.
        days.update((start + n) % 7 for n in range((end - start) % 7 + 1))
    return frozenset(days)


def _day_index(name: str, text: str) -> int:
    if name not in _DAY_NAMES:
        raise ValueError(
            f"workdays {text!r}: {name!r} is not a day; use mon tue wed thu fri sat sun, "
            "as a range (mon-fri) or a list (mon,tue,thu)"
        )
    return _DAY_NAMES.index(name)


def _parse_iso_date(entry: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"holidays {entry!r}: {text!r} is not a valid date") from exc


def _parse_date_range(entry: str, first: str, last: str) -> list[date]:
    start, end = _parse_iso_date(entry, first), _parse_iso_date(entry, last)
    if end < start:
        raise ValueError(f"holidays {entry!r}: the range ends before it starts")
    if (end - start).days >= _MAX_RANGE_DAYS:
        raise ValueError(f"holidays {entry!r}: a range may span at most {_MAX_RANGE_DAYS} days")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _parse_month_day(entry: str, text: str) -> MonthDay:
    match = _MONTH_DAY.fullmatch(text)
    if match is None:
        raise ValueError(
            f"holidays {entry!r}: {text!r} is not MM-DD (yearly range) nor YYYY-MM-DD (dated range)"
        )
    month, day = int(match[1]), int(match[2])
    _check_month_day(month, day, f"holidays {entry!r}")
    return month, day


def _check_month_day(month: int, day: int, what: str) -> None:
    try:
        date(2024, month, day)  # a leap year, so 02-29 is accepted
    except ValueError as exc:
        raise ValueError(f"{what}: {month:02d}-{day:02d} is not a day of the year") from exc
