"""The outcome digest's figures as plain values: rates, trends, score bands, periods and SLA cutoffs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from scoring.clock import BusinessCalendar
from scoring.sla import ReminderLevel, Stage

MIN_RATE_BASE: Final = 5
"""Honest small numbers: a rate over fewer MQLs than this is shown as counts, not a percentage."""

BAND_EDGES: Final = (1.0, 1.25, 1.5)
"""Score bands as multiples of the MQL threshold: below it (triggers and external scores),
[1×, 1.25×), [1.25×, 1.5×) and 1.5× or more. Fixed multiples keep the bands meaningful when the
threshold changes, and the top two show whether raising the threshold would lose SQLs."""
BANDS: Final = ("below", "low", "mid", "high")

KINDS: Final = ("threshold", "trigger", "external")
HISTORY_PERIODS: Final = 4
# Same guard as the clock: a calendar closed this long is misconfigured, not a long holiday.
_MAX_CLOSED_DAYS: Final = 400
STATS_PERIODS: Final = {
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "quarter": timedelta(days=91),
}
"""`/mql stats` periods, ending now. A quarter is 13 whole weeks, so every period holds the same
mix of weekdays as the weekly digest and trends compare like with like."""


@dataclass(frozen=True)
class Rate:
    """``num`` out of ``den`` MQLs."""

    num: int
    den: int

    def __post_init__(self) -> None:
        if self.den < 0 or self.num < 0 or self.num > self.den:
            raise ValueError(f"rate {self.num}/{self.den}: need 0 <= num <= den")

    @property
    def is_small(self) -> bool:
        """Too few MQLs for a percentage to mean anything."""
        return self.den < MIN_RATE_BASE

    @property
    def value(self) -> float | None:
        """The fraction, or None when there is nothing to divide by."""
        return None if self.den == 0 else self.num / self.den

    def display(self) -> str:
        """``42%`` from 5 MQLs on, else the counts ``3/4`` (the same in every language)."""
        if self.is_small:
            return f"{self.num}/{self.den}"
        return f"{round(100 * self.num / self.den)}%"


@dataclass(frozen=True)
class Period:
    """A half-open interval ``[start, end)`` of aware instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"period {name} {value.isoformat()} needs a time zone")
        if self.end <= self.start:
            raise ValueError(
                f"period end {self.end.isoformat()} must be after start {self.start.isoformat()}"
            )


@dataclass(frozen=True)
class Conversion:
    """MQLs of one group (a source, campaign, score band or kind) and how many became SQL.

    ``key`` None is the group of MQLs without a value (no source, no campaign); ``other`` marks
    the folded remainder after the top groups.
    """

    key: str | None
    mqls: int
    sql: int
    other: bool = False

    @property
    def rate(self) -> Rate:
        return Rate(self.sql, self.mqls)


@dataclass(frozen=True)
class ReasonCount:
    """How many MQLs got one recycle or disqualification reason."""

    reason: str | None
    count: int


@dataclass(frozen=True)
class ClaimTimes:
    """Business time from MQL to claim over the claimed MQLs (percentile_cont semantics)."""

    count: int
    median_seconds: float | None
    p90_seconds: float | None


@dataclass(frozen=True)
class Outcomes:
    """Where the period's MQLs stood at the end of the period; ``open`` is not yet dispositioned."""

    sql: int = 0
    lead: int = 0
    recycled: int = 0
    disqualified: int = 0
    open: int = 0

    @property
    def total(self) -> int:
        return self.sql + self.lead + self.recycled + self.disqualified + self.open


@dataclass(frozen=True)
class PeriodFigures:
    """Everything the digest says about the MQLs created in one period, as of ``as_of``."""

    period: Period
    as_of: datetime
    created: int
    claimed: int
    claim_times: ClaimTimes
    sla_breaches: int
    outcomes: Outcomes
    by_source: tuple[Conversion, ...] = ()
    by_campaign: tuple[Conversion, ...] = ()
    by_band: tuple[Conversion, ...] = ()
    by_kind: tuple[Conversion, ...] = ()
    disqualify_reasons: tuple[ReasonCount, ...] = ()
    recycle_reasons: tuple[ReasonCount, ...] = ()

    def __post_init__(self) -> None:
        if self.outcomes.total != self.created:
            raise ValueError(
                f"outcomes add up to {self.outcomes.total}, not to the {self.created} MQLs created"
            )

    @property
    def conversion(self) -> Rate:
        """MQL → SQL over every MQL created in the period."""
        return Rate(self.outcomes.sql, self.created)

    @property
    def claim_rate(self) -> Rate:
        return Rate(self.claimed, self.created)


@dataclass(frozen=True)
class UnworkedMql:
    """An open MQL past its SLA: unclaimed past the claim SLA or claimed past the work SLA."""

    mql_id: int
    name: str | None
    company: str | None
    state: str  # open | claimed
    created_at: datetime
    claimed_at: datetime | None
    owner_id: str | None
    slack_channel: str | None
    slack_ts: str | None


@dataclass(frozen=True)
class ReturningLead:
    """A recycled MQL whose lead returns to Lead on ``recycle_until``."""

    mql_id: int
    name: str | None
    company: str | None
    reason: str | None
    recycle_until: date


@dataclass(frozen=True)
class CountTrend:
    """A count against the mean of the previous periods."""

    current: float
    baseline: float | None

    @property
    def change(self) -> float | None:
        """Relative change (0.25 = +25%); None without a baseline or when it is zero."""
        if self.baseline is None or self.baseline == 0:
            return None
        return (self.current - self.baseline) / self.baseline


@dataclass(frozen=True)
class RateTrend:
    """A rate against the pooled rate of the previous periods (their MQLs added up)."""

    current: Rate
    baseline: Rate

    @property
    def points(self) -> float | None:
        """Percentage-point difference; None when either side is too small to be a percentage."""
        if self.current.is_small or self.baseline.is_small:
            return None
        return 100 * (self.current.num / self.current.den - self.baseline.num / self.baseline.den)


@dataclass(frozen=True)
class Trends:
    """The headline figures against the previous periods."""

    created: CountTrend
    claimed: CountTrend
    sla_breaches: CountTrend
    sql: CountTrend
    conversion: RateTrend
    median_claim_seconds: CountTrend


@dataclass(frozen=True)
class DigestReport:
    """The digest: one period's figures, the previous periods for trends, and the two lists."""

    current: PeriodFigures
    previous: tuple[PeriodFigures, ...]  # most recent first
    threshold: float
    unworked: tuple[UnworkedMql, ...] = ()
    unworked_total: int = 0
    returning: tuple[ReturningLead, ...] = ()
    returning_total: int = 0
    returning_until: date | None = None  # last day of the look-ahead window for `returning`

    @property
    def trends(self) -> Trends:
        return trends(self.current, self.previous)


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def trends(current: PeriodFigures, previous: Sequence[PeriodFigures]) -> Trends:
    """Counts against the previous periods' mean, the conversion against their pooled rate."""
    medians = [p.claim_times.median_seconds for p in previous]
    known = [m for m in medians if m is not None]
    return Trends(
        created=CountTrend(current.created, _mean(p.created for p in previous)),
        claimed=CountTrend(current.claimed, _mean(p.claimed for p in previous)),
        sla_breaches=CountTrend(current.sla_breaches, _mean(p.sla_breaches for p in previous)),
        sql=CountTrend(current.outcomes.sql, _mean(p.outcomes.sql for p in previous)),
        conversion=RateTrend(
            current.conversion,
            Rate(sum(p.outcomes.sql for p in previous), sum(p.created for p in previous)),
        ),
        median_claim_seconds=CountTrend(
            current.claim_times.median_seconds or 0.0,
            _mean(known) if known and current.claim_times.median_seconds is not None else None,
        ),
    )


def band_of(score: float, threshold: float) -> str:
    """The score band of an MQL's score (see BAND_EDGES)."""
    for band, edge in zip(BANDS, BAND_EDGES, strict=False):
        if score < edge * threshold:
            return band
    return BANDS[-1]


def band_bounds(threshold: float) -> tuple[tuple[str, float | None, float | None], ...]:
    """``(band, low, high)`` score bounds per band, half-open; None is unbounded."""
    if threshold <= 0:
        raise ValueError(f"mql threshold {threshold}: must be positive for score bands")
    edges = [edge * threshold for edge in BAND_EDGES]
    lows: list[float | None] = [None, *edges]
    highs: list[float | None] = [*edges, None]
    return tuple(zip(BANDS, lows, highs, strict=True))


def top_with_other(rows: Sequence[Conversion], top: int) -> tuple[Conversion, ...]:
    """The ``top`` groups with most MQLs (ties by name), the rest folded into one "other" row."""
    if top < 1:
        raise ValueError(f"top {top}: must be at least 1")
    ordered = sorted(rows, key=lambda r: (-r.mqls, r.key is None, r.key or ""))
    head, tail = ordered[:top], ordered[top:]
    if not tail:
        return tuple(head)
    folded = Conversion(None, sum(r.mqls for r in tail), sum(r.sql for r in tail), other=True)
    return (*head, folded)


def in_band_order(rows: Iterable[Conversion]) -> tuple[Conversion, ...]:
    """Every band in order, empty ones included (a band with no MQLs is news too)."""
    found = {r.key: r for r in rows}
    return tuple(found.get(b, Conversion(b, 0, 0)) for b in BANDS)


def in_kind_order(rows: Iterable[Conversion]) -> tuple[Conversion, ...]:
    """Threshold, trigger, external (the last only when present), then any unknown kind."""
    found = {r.key: r for r in rows}
    known = [found.pop(k, Conversion(k, 0, 0)) for k in KINDS]
    if known[2].mqls == 0:
        known.pop()
    return (*known, *sorted(found.values(), key=lambda r: r.key or ""))


# Periods.


def _local(moment: datetime, tz: ZoneInfo, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} {moment.isoformat()} needs a time zone")
    return moment.astimezone(tz)


def _at(day: date, wall: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=tz)


DigestWeek = Literal["calendar", "rolling"]
"""Which week the digest reports: the local calendar week (Monday 00:00 to Sunday 24:00) that
ended before the digest time, or ("rolling", the behaviour before 2026-12) the seven days up to
the digest time."""


def last_digest_time(now: datetime, *, weekday: int, at: time, tz: ZoneInfo) -> datetime:
    """The latest digest time (``weekday`` 0 = Monday, ``at`` local) at or before ``now``, local."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"digest weekday {weekday}: 0 (Monday) to 6 (Sunday)")
    local = _local(now, tz, "now")
    day = local.date() - timedelta(days=(local.weekday() - weekday) % 7)
    if _at(day, at, tz) > local:
        day -= timedelta(days=7)
    return _at(day, at, tz)


def weekly_period(now: datetime, *, weekday: int, at: time, tz: ZoneInfo) -> Period:
    """The seven days ending at the latest digest time <= now (the "rolling" digest week).

    Seven local days, so a week across a DST change is 167 or 169 hours long.
    """
    sent = last_digest_time(now, weekday=weekday, at=at, tz=tz)
    # In UTC: Python subtracts datetimes sharing a tzinfo by wall clock, hiding the DST hour.
    return Period((sent - timedelta(days=7)).astimezone(UTC), sent.astimezone(UTC))


def calendar_week(now: datetime, *, weekday: int, at: time, tz: ZoneInfo) -> Period:
    """The local calendar week (Monday 00:00 to the next Monday 00:00) that had ended by the
    latest digest time <= now: with the digest on Monday 09:00, the week before that Monday."""
    sent = last_digest_time(now, weekday=weekday, at=at, tz=tz)
    monday = sent.date() - timedelta(days=sent.weekday())
    return Period(
        _at(monday - timedelta(days=7), time(), tz).astimezone(UTC),
        _at(monday, time(), tz).astimezone(UTC),
    )


def digest_period(
    now: datetime, *, weekday: int, at: time, tz: ZoneInfo, week: DigestWeek = "calendar"
) -> Period:
    """The period the weekly digest sent at the latest digest time <= now reports on."""
    pick = calendar_week if week == "calendar" else weekly_period
    return pick(now, weekday=weekday, at=at, tz=tz)


def week_starting(period: Period, tz: ZoneInfo) -> date | None:
    """The Monday of the local calendar week ``period`` is exactly, or None when it is not one."""
    start, end = period.start.astimezone(tz), period.end.astimezone(tz)
    first = start.date()
    if (
        start.time() == time()
        and first.weekday() == 0
        and end.time() == time()
        and end.date() == first + timedelta(days=7)
    ):
        return first
    return None


def previous_periods(period: Period, count: int, tz: ZoneInfo) -> tuple[Period, ...]:
    """The ``count`` periods of the same local length just before ``period``, most recent first."""
    start = period.start.astimezone(tz).replace(tzinfo=None)
    length = period.end.astimezone(tz).replace(tzinfo=None) - start
    result = []
    for index in range(1, count + 1):
        begin = start - length * index
        result.append(
            Period(
                begin.replace(tzinfo=tz).astimezone(UTC),
                (begin + length).replace(tzinfo=tz).astimezone(UTC),
            )
        )
    return tuple(result)


def stats_period(name: str, now: datetime) -> Period:
    """The `/mql stats` period ``7d``, ``30d`` or ``quarter`` (13 weeks) ending at ``now``."""
    length = STATS_PERIODS.get(name)
    if length is None:
        raise ValueError(f"unknown period {name!r}; use one of {', '.join(STATS_PERIODS)}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now {now.isoformat()} needs a time zone")
    return Period(now - length, now)


def iso_week(moment: datetime, tz: ZoneInfo) -> str:
    """``2026-W48``: the ISO week ``moment`` falls in, in the SLA time zone."""
    year, week, _ = _local(moment, tz, "moment").isocalendar()
    return f"{year}-W{week:02d}"


def digest_week_name(period: Period, tz: ZoneInfo) -> str:
    """The digest's slot and chart name: the ISO week its period starts in (``2026-W49`` for the
    calendar week 30 Nov - 6 Dec 2026, and for the rolling week from Monday 30 Nov 09:00)."""
    return iso_week(period.start, tz)


# SLA cutoffs on the business clock.


def stage_sla(levels: Sequence[ReminderLevel], stage: Stage) -> timedelta | None:
    """A stage's SLA: the business time of its first reminder level (None without levels)."""
    times = [level.after for level in levels if level.stage == stage]
    return min(times) if times else None


@dataclass(frozen=True)
class SlaCutoffs:
    """The SLA as of one instant: an MQL created (claimed) at or before a cutoff is past it."""

    claim_seconds: int | None  # the claim SLA in business seconds
    claim_cutoff: datetime | None  # unclaimed and created at or before this: past the claim SLA
    work_cutoff: datetime | None  # claimed at or before this and undecided: past the work SLA


def sla_cutoffs(
    levels: Sequence[ReminderLevel], cal: BusinessCalendar, as_of: datetime
) -> SlaCutoffs:
    """The claim and work SLAs of ``levels`` turned into cutoff instants for ``as_of``."""
    claim = stage_sla(levels, Stage.UNCLAIMED)
    work = stage_sla(levels, Stage.UNWORKED)
    return SlaCutoffs(
        claim_seconds=None if claim is None else int(claim.total_seconds()),
        claim_cutoff=None if claim is None else business_cutoff(cal, as_of, claim),
        work_cutoff=None if work is None else business_cutoff(cal, as_of, work),
    )


def business_cutoff(cal: BusinessCalendar, end: datetime, delta: timedelta) -> datetime:
    """The latest instant from which ``delta`` of business time has passed by ``end``.

    Anything that started at or before it is past an SLA of ``delta``: the inverse of
    ``scoring.clock.add_business_time``, walking the business windows backwards.
    """
    if delta < timedelta():
        raise ValueError(f"delta {delta}: business time cannot be negative")
    if end.tzinfo is None or end.utcoffset() is None:
        raise ValueError(f"end {end.isoformat()} needs a time zone")
    remaining = delta
    if remaining == timedelta():
        return end
    # A window ending at midnight belongs to the day before, so start one day late.
    day = end.astimezone(cal.timezone).date() + timedelta(days=1)
    closed_run = 0
    while closed_run <= _MAX_CLOSED_DAYS:
        window = cal.window(day)
        day -= timedelta(days=1)
        opens, closes = window if window is not None else (end, end)
        closes = min(closes, end)
        if closes <= opens:
            closed_run += 1
            continue
        closed_run = 0
        available = closes - opens
        if remaining <= available:
            return closes - remaining
        remaining -= available
    raise ValueError(
        f"business calendar has no business day in {_MAX_CLOSED_DAYS} days before "
        f"{day.isoformat()}: check workdays and holidays"
    )
