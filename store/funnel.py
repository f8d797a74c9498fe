"""The full funnel: a cohort's MQLs with their outcomes in two queries, the week's activity, per SDR."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.sql import Subquery
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.calibration import Sample
from scoring.currency import Money
from scoring.digest import BANDS, Period, band_of
from scoring.funnel import (
    ActivityCounts,
    Cohort,
    FunnelCounts,
    FunnelReport,
    MqlOutcome,
    SdrFunnel,
    grouped,
    medians,
    tally,
)
from store.aggregate import count_if
from store.models import Lead, Mql, MqlState, Opportunity
from store.types import UTCDateTime
from store.upsert import table_of

MQL = table_of(Mql)
OPP = table_of(Opportunity)
LEAD = table_of(Lead)
WON: Final = "won"
OPEN: Final = "open"
GROUPINGS: Final = ("source", "campaign", "band")


def _per_mql(as_of: datetime) -> Subquery:
    """Per attributed MQL: whether it has an opportunity (opened by ``as_of``) and a won one."""
    won = and_(OPP.c.status == WON, OPP.c.won_at < as_of)
    return (
        select(
            OPP.c.mql_id.label("mql_id"),
            func.max(case((won, 1), else_=0)).label("won"),
            func.min(OPP.c.opened_at).label("first_opened"),
            func.min(case((won, OPP.c.won_at), else_=None)).label("first_won"),
        )
        .where(OPP.c.mql_id.is_not(None), OPP.c.opened_at < as_of)
        .group_by(OPP.c.mql_id)
        .subquery("per_mql")
    )


def _created_in(period: Period) -> ColumnElement[bool]:
    return and_(MQL.c.created_at >= period.start, MQL.c.created_at < period.end)


async def load_outcomes(
    session: AsyncSession, *, period: Period, as_of: datetime
) -> list[MqlOutcome]:
    """The MQLs created in ``period`` and how far each got by ``as_of``: two queries, one row each.

    Every grouping, cohort and median is then counted from these rows in Python: a scan of the
    period's MQLs costs far more than tallying them, so it is done once however many views.
    """
    per = _per_mql(as_of)
    where = _created_in(period)
    sql = case((and_(MQL.c.state == MqlState.SQL.value, MQL.c.disposition_at < as_of), 1), else_=0)
    qualified = type_coerce(func.coalesce(MQL.c.qualified_at, MQL.c.created_at), UTCDateTime())
    won_flag = func.coalesce(per.c.won, 0)
    rows = await session.exec(  # type: ignore[call-overload]
        select(
            MQL.c.id,
            MQL.c.source,
            MQL.c.campaign,
            MQL.c.score,
            MQL.c.kind,
            MQL.c.state,
            MQL.c.owner_id,
            sql,
            MQL.c.created_at,
            qualified,
            type_coerce(per.c.first_opened, UTCDateTime()),
            type_coerce(per.c.first_won, UTCDateTime()),
            won_flag,
            MQL.c.bad_reason,
        )
        .select_from(MQL.outerjoin(per, per.c.mql_id == MQL.c.id))
        .where(where)
    )
    money = await _amounts(session, where, as_of)
    out = []
    for (mql_id, source, campaign, score, kind, state, owner, is_sql, created, at, opened,
         first_won, won, bad) in rows.all():  # fmt: skip
        pipeline, won_amount = money.get(int(mql_id), ({}, {}))
        out.append(
            MqlOutcome(
                mql_id=int(mql_id),
                source=source,
                campaign=campaign,
                score=float(score),
                kind=str(kind),
                state=str(state),
                owner_id=owner,
                sql=bool(is_sql),
                created_at=created,
                qualified_at=at,
                first_opened=opened,
                first_won=first_won if won else None,
                bad=bad is not None,
                pipeline=pipeline,
                won_amount=won_amount,
            )
        )
    return out


async def _amounts(
    session: AsyncSession, where: ColumnElement[bool], as_of: datetime
) -> dict[int, tuple[dict[str, Decimal], dict[str, Decimal]]]:
    """Per MQL: the open pipeline and the won amount of its opportunities by ``as_of``, per currency."""
    # The status as of ``as_of``: an opportunity won or lost later was still open then.
    status = case(
        (and_(OPP.c.status == WON, OPP.c.won_at < as_of), literal(WON)),
        (and_(OPP.c.status == "lost", OPP.c.lost_at < as_of), literal("lost")),
        else_=literal(OPEN),
    )
    rows = await session.exec(  # type: ignore[call-overload]
        select(OPP.c.mql_id, status.label("s"), OPP.c.currency, func.sum(OPP.c.amount_minor))
        .select_from(OPP.join(MQL, MQL.c.id == OPP.c.mql_id))
        .where(where, OPP.c.opened_at < as_of, OPP.c.currency.is_not(None))
        .group_by(OPP.c.mql_id, status, OPP.c.currency)
    )
    out: dict[int, tuple[dict[str, Decimal], dict[str, Decimal]]] = {}
    for mql_id, state, currency, minor in rows.all():
        if state == "lost" or not minor:
            continue
        amount = Money.of_minor(int(minor), str(currency))
        pipeline, won = out.setdefault(int(mql_id), ({}, {}))
        (won if state == WON else pipeline)[amount.currency] = amount.amount
    return out


def key_of(by: str, threshold: float) -> Callable[[MqlOutcome], str | None]:
    """The grouping of ``by``: source, campaign or score band."""
    if by == "source":
        return lambda row: row.source
    if by == "campaign":
        return lambda row: row.campaign
    if by == "band":
        return lambda row: band_of(row.score, threshold)
    raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")


def groups_of(rows: Sequence[MqlOutcome], by: str, threshold: float) -> tuple[FunnelCounts, ...]:
    """The rows grouped by ``by``: bands in score order, the others biggest first."""
    counts = grouped(rows, key_of(by, threshold))
    if by == "band":  # every band, in score order
        found = {g.key: g for g in counts}
        return tuple(found.get(b, FunnelCounts(b, 0, 0, 0, 0)) for b in BANDS)
    return tuple(counts)


async def cohort_counts(
    session: AsyncSession, *, period: Period, by: str, threshold: float, as_of: datetime
) -> tuple[FunnelCounts, ...]:
    """The MQLs created in ``period`` by group, and how far each group's MQLs got by ``as_of``."""
    key_of(by, threshold)  # an unknown grouping is refused before any query
    return groups_of(await load_outcomes(session, period=period, as_of=as_of), by, threshold)


async def activity(
    session: AsyncSession, *, period: Period
) -> tuple[ActivityCounts, ActivityCounts]:
    """What happened in ``period`` whatever the MQL's age, and the part not from an MQL.

    MQLs created, SQLs decided, opportunities opened and won in the period; pipeline is the
    amount of the opportunities opened in it that are still open, won the amount won in it.
    """

    def in_period(column: ColumnElement[Any]) -> ColumnElement[bool]:
        return and_(column >= period.start, column < period.end)

    created, sql = (
        await session.exec(  # type: ignore[call-overload]
            select(
                count_if(in_period(MQL.c.created_at)),
                count_if(and_(MQL.c.state == MqlState.SQL.value, in_period(MQL.c.disposition_at))),
            ).where(or_(in_period(MQL.c.created_at), in_period(MQL.c.disposition_at)))
        )
    ).one()
    figures: dict[bool, dict[str, Any]] = {
        attributed: {"opened": 0, "won": 0, "pipeline": {}, "won_amount": {}}
        for attributed in (True, False)
    }
    attributed = OPP.c.mql_id.is_not(None)
    won_in = and_(OPP.c.status == WON, in_period(OPP.c.won_at))
    rows = await session.exec(  # type: ignore[call-overload]
        select(
            attributed.label("a"),
            OPP.c.currency,
            count_if(in_period(OPP.c.opened_at)),
            count_if(won_in),
            func.sum(
                case(
                    (and_(in_period(OPP.c.opened_at), OPP.c.status == OPEN), OPP.c.amount_minor),
                    else_=0,
                )
            ),
            func.sum(case((won_in, OPP.c.amount_minor), else_=0)),
        )
        .where(or_(in_period(OPP.c.opened_at), won_in))
        .group_by(attributed, OPP.c.currency)
    )
    for is_attributed, currency, opened, won, pipeline, won_minor in rows.all():
        bucket = figures[bool(is_attributed)]
        bucket["opened"] += int(opened)
        bucket["won"] += int(won)
        if currency is not None:
            for name, minor in (("pipeline", pipeline), ("won_amount", won_minor)):
                if minor:
                    bucket[name][str(currency)] = Money.of_minor(int(minor), str(currency)).amount
    mine, other = figures[True], figures[False]
    week = ActivityCounts(
        int(created), int(sql), mine["opened"], mine["won"], mine["pipeline"], mine["won_amount"]
    )
    outside = ActivityCounts(
        0, 0, other["opened"], other["won"], other["pipeline"], other["won_amount"]
    )
    return week, outside


async def funnel_report(
    session: AsyncSession,
    *,
    period: Period,
    by: str,
    threshold: float,
    as_of: datetime,
    activity_period: Period | None = None,
    also_by: Sequence[str] = (),
    months: Sequence[tuple[date, Period]] = (),
) -> tuple[FunnelReport, tuple[Cohort, ...]]:
    """The MQLs of ``period`` by ``by`` (and ``also_by``) with totals and medians, the activity of
    ``activity_period``, and the cohorts of ``months`` (sub-periods of ``period``)."""
    for grouping in (by, *also_by):
        key_of(grouping, threshold)
    rows = await load_outcomes(session, period=period, as_of=as_of)
    to_opp, to_won = medians(rows)
    week = outside = None
    if activity_period is not None:
        week, outside = await activity(session, period=activity_period)
    report = FunnelReport(
        period=period,
        total=tally("total", rows),
        groups=groups_of(rows, by, threshold),
        by=by,
        median_to_opportunity=to_opp,
        median_to_won=to_won,
        activity=week,
        not_from_mql=outside,
        other_groups={other: groups_of(rows, other, threshold) for other in also_by},
    )
    cohorts = tuple(
        Cohort(first, tally("total", (r for r in rows if m.start <= r.created_at < m.end)))
        for first, m in months
    )
    return report, cohorts


async def sdr_funnel(session: AsyncSession, *, period: Period, as_of: datetime) -> list[SdrFunnel]:
    """Per SDR (the MQL's owner): MQLs of ``period`` → SQL → opportunity → won, most MQLs first."""
    rows = [r for r in await load_outcomes(session, period=period, as_of=as_of) if r.owner_id]
    counts = grouped(rows, lambda row: row.owner_id)
    return [SdrFunnel(str(c.key), c.mqls, c.sql, c.opportunities, c.won) for c in counts if c.key]


async def calibration_samples(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[Sample]:
    """The MQLs created in ``[since, until)`` with their outcome, deal and "not a real MQL" flag."""
    rows = await load_outcomes(session, period=Period(since, until), as_of=until)
    return [
        Sample(
            score=r.score,
            kind=r.kind,
            state=r.state,
            opportunity=r.first_opened is not None,
            won=r.first_won is not None,
            won_amount=r.won_amount,
            bad=r.bad,
        )
        for r in rows
    ]


async def leads_scoring_between(
    session: AsyncSession, *, lows: Sequence[float], high: float
) -> dict[float, int]:
    """How many leads not (yet) an MQL score in ``[low, high)`` now, per ``low``."""
    out: dict[float, int] = {}
    for low in lows:
        count = await session.exec(  # type: ignore[call-overload]
            select(func.count())
            .select_from(LEAD)
            .where(LEAD.c.score >= low, LEAD.c.score < high, LEAD.c.stage == "target")
        )
        out[low] = int(count.one()[0])
    return out
