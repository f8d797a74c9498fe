"""The full funnel by SQL aggregation: MQL cohorts and week activity through to opportunities and won."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, type_coerce
from sqlalchemy.sql import Subquery
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.calibration import Sample
from scoring.currency import Money
from scoring.digest import BANDS, Period
from scoring.funnel import ActivityCounts, FunnelCounts, FunnelReport, SdrFunnel, median_duration
from store.aggregate import count_if
from store.digest import _band
from store.models import Lead, Mql, MqlState, Opportunity
from store.types import UTCDateTime
from store.upsert import table_of

MQL = table_of(Mql)
OPP = table_of(Opportunity)
LEAD = table_of(Lead)
WON: Final = "won"
OPEN: Final = "open"
GROUPINGS: Final = ("source", "campaign", "band")


def _key(by: str, threshold: float) -> ColumnElement[Any]:
    if by == "source":
        return MQL.c.source
    if by == "campaign":
        return MQL.c.campaign
    if by == "band":
        return _band(threshold)
    if by == "total":
        return literal("total")
    if by == "owner":
        return MQL.c.owner_id
    raise ValueError(f"unknown grouping {by!r}; use one of {', '.join(GROUPINGS)}")


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


async def _counts(
    session: AsyncSession, where: ColumnElement[bool], key: ColumnElement[Any], as_of: datetime
) -> dict[str | None, list[int]]:
    per = _per_mql(as_of)
    labelled = key.label("k")
    sql = and_(MQL.c.state == MqlState.SQL.value, MQL.c.disposition_at < as_of)
    rows = await session.exec(  # type: ignore[call-overload]
        select(
            labelled,
            func.count(),
            count_if(sql),
            count_if(per.c.mql_id.is_not(None)),
            func.coalesce(func.sum(per.c.won), 0),
        )
        .select_from(MQL.outerjoin(per, per.c.mql_id == MQL.c.id))
        .where(where)
        .group_by(labelled)
    )
    return {None if k is None else str(k): [int(v) for v in vals] for k, *vals in rows.all()}


async def _amounts(
    session: AsyncSession, where: ColumnElement[bool], key: ColumnElement[Any], as_of: datetime
) -> dict[tuple[str | None, str], dict[str, Decimal]]:
    """(group, status) → currency → exact sum of the attributed opportunities' amounts."""
    labelled = key.label("k")
    # The status as of ``as_of``: an opportunity won or lost later was still open then.
    status = case(
        (and_(OPP.c.status == WON, OPP.c.won_at < as_of), literal(WON)),
        (and_(OPP.c.status == "lost", OPP.c.lost_at < as_of), literal("lost")),
        else_=literal(OPEN),
    )
    rows = await session.exec(  # type: ignore[call-overload]
        select(labelled, status.label("s"), OPP.c.currency, func.sum(OPP.c.amount_minor))
        .select_from(OPP.join(MQL, MQL.c.id == OPP.c.mql_id))
        .where(where, OPP.c.opened_at < as_of, OPP.c.currency.is_not(None))
        .group_by(labelled, status, OPP.c.currency)
    )
    out: dict[tuple[str | None, str], dict[str, Decimal]] = {}
    for k, s, currency, minor in rows.all():
        money = Money.of_minor(int(minor or 0), str(currency))
        out.setdefault((None if k is None else str(k), str(s)), {})[money.currency] = money.amount
    return out


async def cohort_counts(
    session: AsyncSession, *, period: Period, by: str, threshold: float, as_of: datetime
) -> list[FunnelCounts]:
    """The MQLs created in ``period`` by group, and how far each group's MQLs got by ``as_of``."""
    key = _key(by, threshold)
    where = _created_in(period)
    counts = await _counts(session, where, key, as_of)
    amounts = await _amounts(session, where, key, as_of)
    rows = [
        FunnelCounts(
            key=k,
            mqls=n,
            sql=sql,
            opportunities=opps,
            won=won,
            pipeline=amounts.get((k, OPEN), {}),
            won_amount=amounts.get((k, WON), {}),
        )
        for k, (n, sql, opps, won) in counts.items()
    ]
    if by == "band":  # bands in score order, the others biggest first
        return sorted(rows, key=lambda g: BANDS.index(g.key) if g.key in BANDS else len(BANDS))
    return sorted(rows, key=lambda g: (-g.mqls, g.key is None, g.key or ""))


async def _medians(
    session: AsyncSession, period: Period, as_of: datetime
) -> tuple[timedelta | None, timedelta | None]:
    """Median time from qualification to the first opportunity, and to the first won one."""
    per = _per_mql(as_of)
    qualified = type_coerce(func.coalesce(MQL.c.qualified_at, MQL.c.created_at), UTCDateTime())
    opened_at = type_coerce(per.c.first_opened, UTCDateTime())
    won_at = type_coerce(per.c.first_won, UTCDateTime())
    rows = await session.exec(  # type: ignore[call-overload]
        select(qualified, opened_at, won_at)
        .select_from(MQL.join(per, per.c.mql_id == MQL.c.id))
        .where(_created_in(period))
    )
    to_opp: list[timedelta] = []
    to_won: list[timedelta] = []
    for at, opened, won in rows.all():
        if opened is not None:
            to_opp.append(max(opened - at, timedelta(0)))
        if won is not None:
            to_won.append(max(won - at, timedelta(0)))
    return median_duration(to_opp), median_duration(to_won)


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


def _total(rows: Sequence[FunnelCounts], key: str = "total") -> FunnelCounts:
    pipeline: dict[str, Decimal] = {}
    won: dict[str, Decimal] = {}
    for row in rows:
        for target, source in ((pipeline, row.pipeline), (won, row.won_amount)):
            for currency, amount in source.items():
                target[currency] = target.get(currency, Decimal(0)) + amount
    return FunnelCounts(
        key=key,
        mqls=sum(r.mqls for r in rows),
        sql=sum(r.sql for r in rows),
        opportunities=sum(r.opportunities for r in rows),
        won=sum(r.won for r in rows),
        pipeline=pipeline,
        won_amount=won,
    )


async def funnel_report(
    session: AsyncSession,
    *,
    period: Period,
    by: str,
    threshold: float,
    as_of: datetime,
    activity_period: Period | None = None,
) -> FunnelReport:
    """The cohort of ``period`` by ``by`` with totals and medians, and ``activity_period``'s activity."""
    groups = await cohort_counts(session, period=period, by=by, threshold=threshold, as_of=as_of)
    to_opp, to_won = await _medians(session, period, as_of)
    week = outside = None
    if activity_period is not None:
        week, outside = await activity(session, period=activity_period)
    return FunnelReport(
        period=period,
        total=_total(groups),
        groups=tuple(groups),
        by=by,
        median_to_opportunity=to_opp,
        median_to_won=to_won,
        activity=week,
        not_from_mql=outside,
    )


async def sdr_funnel(session: AsyncSession, *, period: Period, as_of: datetime) -> list[SdrFunnel]:
    """Per SDR (the MQL's owner): MQLs of ``period`` → SQL → opportunity → won, most MQLs first."""
    where = and_(_created_in(period), MQL.c.owner_id.is_not(None))
    counts = await _counts(session, where, MQL.c.owner_id, as_of)
    rows = [SdrFunnel(str(k), *v) for k, v in counts.items() if k is not None]
    return sorted(rows, key=lambda r: (-r.mqls, r.owner_id))


async def calibration_samples(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[Sample]:
    """The MQLs created in ``[since, until)`` with their outcome, deal and "not a real MQL" flag."""
    per = _per_mql(until)
    won_rows = await session.exec(  # type: ignore[call-overload]
        select(OPP.c.mql_id, OPP.c.currency, func.sum(OPP.c.amount_minor))
        .join(MQL, MQL.c.id == OPP.c.mql_id)
        .where(
            MQL.c.created_at >= since,
            MQL.c.created_at < until,
            OPP.c.status == WON,
            OPP.c.won_at < until,
            OPP.c.currency.is_not(None),
        )
        .group_by(OPP.c.mql_id, OPP.c.currency)
    )
    won: dict[int, dict[str, Decimal]] = {}
    for mql_id, currency, minor in won_rows.all():
        money = Money.of_minor(int(minor or 0), str(currency))
        won.setdefault(int(mql_id), {})[money.currency] = money.amount
    rows = await session.exec(  # type: ignore[call-overload]
        select(
            MQL.c.id,
            MQL.c.score,
            MQL.c.kind,
            MQL.c.state,
            per.c.mql_id,
            per.c.won,
            MQL.c.bad_reason,
        )
        .select_from(MQL.outerjoin(per, per.c.mql_id == MQL.c.id))
        .where(MQL.c.created_at >= since, MQL.c.created_at < until)
    )
    return [
        Sample(
            score=float(score),
            kind=str(kind),
            state=str(state),
            opportunity=has is not None,
            won=won.get(int(mql_id), {}) if won_flag else {},
            bad=bad is not None,
        )
        for mql_id, score, kind, state, has, won_flag, bad in rows.all()
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
