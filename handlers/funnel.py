"""The full-funnel and calibration figures for the digest and `mqlbot report`, each read at once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Final

from handlers.context import Deps
from scoring.calibration import CANDIDATE_FACTORS, Calibration, calibrate
from scoring.digest import Period
from scoring.funnel import Cohort, FunnelReport
from store.engine import READ_ONLY
from store.funnel import (
    GROUPINGS,
    calibration_samples,
    funnel_report,
    leads_scoring_between,
)

COHORT_MONTHS: Final = 6


def _shift(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(now: datetime, deps: Deps, months: int) -> list[tuple[date, Period]]:
    """The last ``months`` local calendar months up to ``now``'s own, oldest first."""
    tz = deps.config.timezone
    current = now.astimezone(tz).date().replace(day=1)
    out = []
    for back in range(months - 1, -1, -1):
        first, after = _shift(current, -back), _shift(current, 1 - back)
        period = Period(
            datetime(first.year, first.month, 1, tzinfo=tz).astimezone(UTC),
            datetime(after.year, after.month, 1, tzinfo=tz).astimezone(UTC),
        )
        out.append((first, period))
    return out


async def funnel_figures(
    deps: Deps,
    start: datetime,
    end: datetime,
    *,
    by: str = "source",
    as_of: datetime | None = None,
    cohort_months: int = 0,
    activity: Period | None = None,
    also_by: tuple[str, ...] = (),
) -> tuple[FunnelReport, tuple[Cohort, ...]]:
    """The funnel of the MQLs created in ``[start, end)`` by ``by``, as of ``as_of`` (default end).

    With the activity of ``activity`` (default: the same period) and the cohorts of the last
    ``cohort_months`` local months that lie within the period. One read-only transaction, one
    load of the period's MQLs: the figures agree.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")
    as_of = end if as_of is None else as_of
    period = Period(start, end)
    # Cohorts are counted from the period's MQLs: only months within it.
    months = [
        (first, month)
        for first, month in month_bounds(as_of, deps, cohort_months)
        if month.start >= period.start
    ]
    async with deps.sessions() as session:
        await session.connection(execution_options=READ_ONLY)
        report, cohorts = await funnel_report(
            session,
            period=period,
            by=by,
            threshold=float(deps.config.rules.threshold),
            as_of=as_of,
            activity_period=activity or period,
            also_by=also_by,
            months=months,
        )
        await session.rollback()
    return report, cohorts


async def calibration_figures(deps: Deps, now: datetime, *, days: int | None = None) -> Calibration:
    """The calibration over the MQLs of the last ``days`` (default ``[funnel] calibration_days``)."""
    config = deps.config
    days = config.calibration_days if days is None else days
    threshold = float(config.rules.threshold)
    lows = [round(threshold * f, 2) for f in CANDIDATE_FACTORS if f < 1]
    async with deps.sessions() as session:
        await session.connection(execution_options=READ_ONLY)
        samples = await calibration_samples(session, since=now - timedelta(days=days), until=now)
        between = await leads_scoring_between(session, lows=lows, high=threshold)
        await session.rollback()
    return calibrate(
        samples,
        threshold=threshold,
        days=days,
        hours_per_mql=config.sdr_hours_per_mql,
        leads_between=between,
    )
