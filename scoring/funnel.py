"""The full funnel as plain values: MQL → SQL → Opportunity → Won, per group, with money per currency."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from scoring.currency import Money
from scoring.digest import Period, Rate


class _Money:
    """Open pipeline and won amounts per currency (never added across currencies)."""

    pipeline: Mapping[str, Decimal]
    won_amount: Mapping[str, Decimal]

    def money(self, *, won: bool) -> list[Money]:
        """The pipeline (or won) amounts as money, by currency code."""
        amounts = self.won_amount if won else self.pipeline
        return [Money(amounts[c], c) for c in sorted(amounts)]


@dataclass(frozen=True)
class FunnelCounts(_Money):
    """How many MQLs of one group reached each stage (an MQL counts once however many deals)."""

    key: str | None
    mqls: int
    sql: int
    opportunities: int
    won: int
    pipeline: Mapping[str, Decimal] = field(default_factory=dict)
    won_amount: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.mqls >= self.opportunities >= self.won >= 0 or self.sql > self.mqls:
            raise ValueError(
                f"funnel {self.key!r}: need mqls >= opportunities >= won and sql <= mqls, got "
                f"{self.mqls}/{self.sql}/{self.opportunities}/{self.won}"
            )

    @property
    def sql_rate(self) -> Rate:
        return Rate(self.sql, self.mqls)

    @property
    def opportunity_rate(self) -> Rate:
        return Rate(self.opportunities, self.mqls)

    @property
    def won_rate(self) -> Rate:
        return Rate(self.won, self.mqls)


def median_duration(values: Sequence[timedelta]) -> timedelta | None:
    """The median of some durations (the mean of the middle two for an even count)."""
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


@dataclass(frozen=True)
class ActivityCounts(_Money):
    """What happened in a period whatever the MQL's age (or, for ``not_from_mql``, without one)."""

    mqls: int
    sql: int
    opportunities: int
    won: int
    pipeline: Mapping[str, Decimal] = field(default_factory=dict)
    won_amount: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class FunnelReport:
    """The full-funnel figures of a period: totals, groups, speeds, and what did not come from an MQL.

    ``cohort`` counts the MQLs created in the period and what they have become by ``as_of``;
    ``activity`` what happened in the period whatever the MQL's age: MQLs created, SQLs decided,
    opportunities opened and won (with their amounts).
    """

    period: Period
    total: FunnelCounts
    groups: tuple[FunnelCounts, ...] = ()
    by: str = "source"
    median_to_opportunity: timedelta | None = None
    median_to_won: timedelta | None = None
    activity: ActivityCounts | None = None
    not_from_mql: ActivityCounts | None = None
    # The same MQLs grouped other ways (the digest shows campaign and score band too).
    other_groups: Mapping[str, tuple[FunnelCounts, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Cohort:
    """The MQLs of one local calendar month and what they have become so far."""

    month: date  # its first day
    counts: FunnelCounts


@dataclass(frozen=True)
class SdrFunnel:
    """One SDR's MQLs of a period and how far they went: whose SQLs hold up."""

    owner_id: str
    mqls: int
    sql: int
    opportunities: int
    won: int


@dataclass(frozen=True)
class MqlOutcome:
    """One MQL of a cohort and how far it got by the report's instant (one row, all groupings)."""

    mql_id: int
    source: str | None
    campaign: str | None
    score: float
    kind: str
    state: str
    owner_id: str | None
    sql: bool  # dispositioned SQL by then
    created_at: datetime
    qualified_at: datetime
    first_opened: datetime | None  # its first opportunity, opened by then
    first_won: datetime | None  # its first won one, won by then
    bad: bool  # flagged "not a real MQL"
    pipeline: Mapping[str, Decimal] = field(default_factory=dict)
    won_amount: Mapping[str, Decimal] = field(default_factory=dict)


def _add(target: dict[str, Decimal], amounts: Mapping[str, Decimal]) -> None:
    for currency, amount in amounts.items():
        target[currency] = target.get(currency, Decimal(0)) + amount


def tally(key: str | None, rows: Iterable[MqlOutcome]) -> FunnelCounts:
    """One group's counts and money (exact, per currency)."""
    mqls = sql = opportunities = won = 0
    pipeline: dict[str, Decimal] = {}
    won_amount: dict[str, Decimal] = {}
    for row in rows:
        mqls += 1
        sql += row.sql
        opportunities += row.first_opened is not None
        won += row.first_won is not None
        _add(pipeline, row.pipeline)
        _add(won_amount, row.won_amount)
    return FunnelCounts(key, mqls, sql, opportunities, won, pipeline, won_amount)


def grouped(
    rows: Iterable[MqlOutcome], key_of: Callable[[MqlOutcome], str | None]
) -> list[FunnelCounts]:
    """The rows' counts per group, biggest first (ties by name, the group without a value last)."""
    groups: dict[str | None, list[MqlOutcome]] = {}
    for row in rows:
        groups.setdefault(key_of(row), []).append(row)
    counts = [tally(key, members) for key, members in groups.items()]
    return sorted(counts, key=lambda g: (-g.mqls, g.key is None, g.key or ""))


def medians(rows: Iterable[MqlOutcome]) -> tuple[timedelta | None, timedelta | None]:
    """Median time from qualification to the first opportunity, and to the first won one."""
    to_opp: list[timedelta] = []
    to_won: list[timedelta] = []
    for row in rows:
        if row.first_opened is not None:
            to_opp.append(max(row.first_opened - row.qualified_at, timedelta(0)))
        if row.first_won is not None:
            to_won.append(max(row.first_won - row.qualified_at, timedelta(0)))
    return median_duration(to_opp), median_duration(to_won)
