"""The digest's figures by SQL aggregation over the MQLs of a period (no row-by-row loading)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, false, func, literal, or_, true
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.digest import (
    BAND_EDGES,
    BANDS,
    ClaimTimes,
    Conversion,
    Outcomes,
    Period,
    PeriodFigures,
    ReasonCount,
    ReturningLead,
    SlaCutoffs,
    UnworkedMql,
    in_band_order,
    in_kind_order,
    top_with_other,
)
from store.aggregate import count_if, count_rows, past_sla, percentile
from store.models import DISPOSITIONS, Lead, Mql, MqlState, OutboxMessage
from store.upsert import table_of

MQL = table_of(Mql)
LEAD = table_of(Lead)
OUTBOX = table_of(OutboxMessage)

_UNWORKED_COLUMNS: Final[tuple[ColumnElement[Any], ...]] = (
    MQL.c.id,
    LEAD.c.name,
    LEAD.c.company,
    MQL.c.state,
    MQL.c.created_at,
    MQL.c.claimed_at,
    MQL.c.owner_id,
    MQL.c.slack_channel,
    MQL.c.slack_ts,
)
_RETURNING_COLUMNS: Final[tuple[ColumnElement[Any], ...]] = (
    MQL.c.id,
    LEAD.c.name,
    LEAD.c.company,
    MQL.c.reason,
    MQL.c.recycle_until,
)

TOP_SOURCES: Final = 8
TOP_CAMPAIGNS: Final = 5
TOP_REASONS: Final = 5


class _Cohort:
    """SQL conditions over the MQLs created in a period, judged as of one instant."""

    def __init__(self, period: Period, as_of: datetime, sla: SlaCutoffs) -> None:
        self.where = and_(MQL.c.created_at >= period.start, MQL.c.created_at < period.end)
        self.as_of = as_of
        self.sla = sla

    def outcome(self, state: MqlState) -> ColumnElement[bool]:
        """Dispositioned as ``state`` before ``as_of`` (a later disposition was still open then)."""
        return and_(MQL.c.state == state.value, MQL.c.disposition_at < self.as_of)

    def decided(self) -> ColumnElement[bool]:
        return and_(
            MQL.c.state.in_([s.value for s in DISPOSITIONS]), MQL.c.disposition_at < self.as_of
        )

    def claimed(self) -> ColumnElement[bool]:
        return or_(MQL.c.claimed_at < self.as_of, self.decided())

    def timed_claim(self) -> ColumnElement[bool]:
        """Claimed before ``as_of`` with its business time to claim recorded."""
        return and_(MQL.c.claimed_at < self.as_of, MQL.c.claim_business_seconds.is_not(None))

    def breached(self) -> ColumnElement[bool]:
        """Flagged by the reminder job, claimed slower than the claim SLA, or past an SLA now."""
        sla = self.sla
        conditions: list[ColumnElement[bool]] = [MQL.c.sla_breached == true()]
        if sla.claim_seconds is not None:
            conditions.append(
                and_(
                    MQL.c.claimed_at < self.as_of,
                    MQL.c.claim_business_seconds > sla.claim_seconds,
                )
            )
        if sla.claim_cutoff is not None:
            conditions.append(
                and_(
                    ~func.coalesce(self.claimed(), false()),
                    MQL.c.created_at <= sla.claim_cutoff,
                )
            )
        if sla.work_cutoff is not None:
            conditions.append(
                and_(
                    MQL.c.claimed_at <= sla.work_cutoff,
                    ~func.coalesce(self.decided(), false()),
                )
            )
        return or_(*conditions)


def _band(threshold: float) -> ColumnElement[Any]:
    whens = [
        (MQL.c.score < edge * threshold, literal(band))
        for band, edge in zip(BANDS, BAND_EDGES, strict=False)
    ]
    return case(*whens, else_=literal(BANDS[-1]))


async def period_figures(
    session: AsyncSession,
    *,
    period: Period,
    threshold: float,
    sla: SlaCutoffs,
    as_of: datetime | None = None,
    detail: bool = True,
) -> PeriodFigures:
    """The figures of the MQLs created in ``period`` as they stood at ``as_of`` (default: its end).

    ``sla`` must be computed for the same ``as_of``. Without ``detail`` only the headline
    figures are queried (enough for the trend periods).
    """
    as_of = period.end if as_of is None else as_of
    cohort = _Cohort(period, as_of, sla)
    columns: list[ColumnElement[Any]] = [
        func.count(),
        count_if(cohort.claimed()),
        count_if(cohort.breached()),
        *(count_if(cohort.outcome(s)) for s in DISPOSITIONS),
        count_if(cohort.timed_claim()),
    ]
    totals = (await session.exec(select(*columns).where(cohort.where))).one()
    created, claimed, breaches, sql, lead, recycled, disqualified, timed = (int(v) for v in totals)
    outcomes = Outcomes(
        sql=sql,
        lead=lead,
        recycled=recycled,
        disqualified=disqualified,
        open=created - sql - lead - recycled - disqualified,
    )
    figures = PeriodFigures(
        period=period,
        as_of=as_of,
        created=created,
        claimed=claimed,
        claim_times=await _claim_times(session, cohort, timed),
        sla_breaches=breaches,
        outcomes=outcomes,
    )
    if not detail or created == 0:
        return figures
    reasons = await _reasons(session, cohort)
    return replace(
        figures,
        by_source=top_with_other(await _conversions(session, cohort, MQL.c.source), TOP_SOURCES),
        by_campaign=top_with_other(
            await _conversions(session, cohort, MQL.c.campaign), TOP_CAMPAIGNS
        ),
        by_band=in_band_order(await _conversions(session, cohort, _band(threshold))),
        by_kind=in_kind_order(await _conversions(session, cohort, MQL.c.kind)),
        disqualify_reasons=reasons.get(MqlState.DISQUALIFIED.value, ()),
        recycle_reasons=reasons.get(MqlState.RECYCLED.value, ()),
    )


async def _conversions(
    session: AsyncSession, cohort: _Cohort, key: ColumnElement[Any]
) -> list[Conversion]:
    labelled = key.label("k")
    rows = await session.exec(
        select(labelled, func.count(), count_if(cohort.outcome(MqlState.SQL)))
        .where(cohort.where)
        .group_by(labelled)
    )
    return [Conversion(None if k is None else str(k), int(n), int(s)) for k, n, s in rows.all()]


async def _reasons(session: AsyncSession, cohort: _Cohort) -> dict[str, tuple[ReasonCount, ...]]:
    decided_with_reason = or_(
        cohort.outcome(MqlState.RECYCLED), cohort.outcome(MqlState.DISQUALIFIED)
    )
    rows = await session.exec(
        select(MQL.c.state, MQL.c.reason, func.count().label("n"))
        .where(cohort.where, decided_with_reason)
        .group_by(MQL.c.state, MQL.c.reason)
    )
    grouped: dict[str, list[ReasonCount]] = {}
    for state, reason, count in rows.all():
        grouped.setdefault(str(state), []).append(ReasonCount(reason, int(count)))
    return {
        state: tuple(
            sorted(items, key=lambda r: (-r.count, r.reason is None, r.reason or ""))[:TOP_REASONS]
        )
        for state, items in grouped.items()
    }


async def _claim_times(session: AsyncSession, cohort: _Cohort, count: int) -> ClaimTimes:
    """Median and 90th percentile of the ``count`` timed claims (percentile_cont semantics)."""
    seconds = MQL.c.claim_business_seconds
    where = and_(cohort.where, cohort.timed_claim())
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    if dialect == "postgresql":
        row = (
            await session.exec(
                select(
                    func.count(seconds),
                    func.percentile_cont(0.5).within_group(seconds),
                    func.percentile_cont(0.9).within_group(seconds),
                ).where(where)
            )
        ).one()
        count, median, p90 = row
        return ClaimTimes(
            int(count),
            None if median is None else round(float(median), 3),
            None if p90 is None else round(float(p90), 3),
        )
    if count == 0:
        return ClaimTimes(0, None, None)
    median = await percentile(session, seconds, where, count=count, fraction=0.5)
    p90 = await percentile(session, seconds, where, count=count, fraction=0.9)
    # Rounded like the PostgreSQL branch so both databases give the same figures.
    return ClaimTimes(count, round(median, 3), round(p90, 3))


async def unworked_mqls(
    session: AsyncSession, *, sla: SlaCutoffs, limit: int = 10
) -> tuple[tuple[UnworkedMql, ...], int]:
    """Open MQLs past their SLA now (oldest first, at most ``limit``) and how many there are."""
    where = past_sla(sla.claim_cutoff, sla.work_cutoff)
    if where is None:
        return (), 0
    total = await count_rows(session, MQL, where)
    rows = await session.exec(
        select(*_UNWORKED_COLUMNS)
        .join(LEAD, LEAD.c.id == MQL.c.lead_id)
        .where(where)
        .order_by(MQL.c.created_at, MQL.c.id)
        .limit(limit)
    )
    return tuple(UnworkedMql(*row) for row in rows.all()), total


async def returning_recycled(
    session: AsyncSession, *, first_day: date, last_day: date, limit: int = 10
) -> tuple[tuple[ReturningLead, ...], int]:
    """Recycled MQLs due back between the two days (inclusive), soonest first, and their count."""
    where = and_(
        MQL.c.state == MqlState.RECYCLED.value,
        MQL.c.recycle_until >= first_day,
        MQL.c.recycle_until <= last_day,
        MQL.c.returned_at.is_(None),
    )
    total = await count_rows(session, MQL, where)
    rows = await session.exec(
        select(*_RETURNING_COLUMNS)
        .join(LEAD, LEAD.c.id == MQL.c.lead_id)
        .where(where)
        .order_by(MQL.c.recycle_until, MQL.c.id)
        .limit(limit)
    )
    return tuple(ReturningLead(*row) for row in rows.all()), total


async def already_queued(session: AsyncSession, *, dedupe_key: str) -> bool:
    """Whether an outbox row with this key exists (a digest re-run then skips its work)."""
    rows = await session.exec(select(OUTBOX.c.id).where(OUTBOX.c.dedupe_key == dedupe_key).limit(1))
    return rows.first() is not None
