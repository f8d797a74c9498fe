"""The full funnel as plain values: MQL → SQL → Opportunity → Won, per group, with money per currency."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
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
