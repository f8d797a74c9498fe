"""Queries behind the App Home, `/mql queue` and `/mql lead`: indexed, aggregated, bounded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.aggregate import count_if, count_rows, past_sla, percentile
from store.models import (
    DISPOSITIONS,
    AuditEntry,
    Lead,
    Mql,
    MqlState,
    OutboxKind,
    OutboxMessage,
    OutboxStatus,
    SlackEventSeen,
)
from store.upsert import insert_ignore, table_of

MQL = table_of(Mql)
LEAD = table_of(Lead)
AUDIT = table_of(AuditEntry)

_ROW_COLUMNS: Final[tuple[ColumnElement[Any], ...]] = (
    MQL.c.id,
    MQL.c.lead_id,
    LEAD.c.name,
    LEAD.c.company,
    MQL.c.score,
    MQL.c.state,
    MQL.c.created_at,
    MQL.c.claimed_at,
    MQL.c.owner_id,
    MQL.c.slack_channel,
    MQL.c.slack_ts,
)


@dataclass(frozen=True)
class MqlRow:
    """One MQL as a list shows it, with its lead's name and company."""

    mql_id: int
    lead_id: int
    name: str | None
    company: str | None
    score: float
    state: str
    created_at: datetime
    claimed_at: datetime | None
    owner_id: str | None
    slack_channel: str | None
    slack_ts: str | None


@dataclass(frozen=True)
class OwnerWeek:
    """One owner's counts since ``start``: claims, dispositions, median business time to claim."""

    claimed: int
    sql: int
    lead: int
    recycled: int
    disqualified: int
    median_claim_seconds: float | None


@dataclass(frozen=True)
class OwnerLoad:
    """How many claimed, undecided MQLs one owner holds and how many of them are past the SLA."""

    owner_id: str
    open: int
    overdue: int


async def _listed(
    session: AsyncSession, where: ColumnElement[bool], first: ColumnElement[Any], *, limit: int
) -> tuple[list[MqlRow], int]:
    """The MQLs ``where`` selects, by ``first`` then id (at most ``limit``), and how many."""
    total = await count_rows(session, MQL, where)
    if total == 0:
        return [], 0
    rows = await session.exec(
        select(*_ROW_COLUMNS)
        .join(LEAD, LEAD.c.id == MQL.c.lead_id)
        .where(where)
        .order_by(first, MQL.c.id)
        .limit(limit)
    )
    return [MqlRow(*row) for row in rows.all()], total


async def claimed_by(
    session: AsyncSession, *, owner_id: str, limit: int
) -> tuple[list[MqlRow], int]:
    """The owner's claimed, undecided MQLs, longest claimed first (at most ``limit``), and how many.

    Uses the (owner_id, state) index: the cost grows with one person's queue, not the table.
    """
    where = and_(MQL.c.owner_id == owner_id, MQL.c.state == MqlState.CLAIMED.value)
    return await _listed(session, where, MQL.c.claimed_at, limit=limit)


async def unclaimed(session: AsyncSession, *, limit: int) -> tuple[list[MqlRow], int]:
    """Unclaimed MQLs, oldest first (at most ``limit``), and how many there are ((state, created_at) index)."""
    where = MQL.c.state == MqlState.OPEN.value
    return await _listed(session, where, MQL.c.created_at, limit=limit)


async def overdue(
    session: AsyncSession,
    *,
    claim_cutoff: datetime | None,
    work_cutoff: datetime | None,
    limit: int,
) -> tuple[list[MqlRow], int]:
    """MQLs past their SLA now: unclaimed since ``claim_cutoff`` or claimed since ``work_cutoff``.

    Oldest first, at most ``limit``, with the total. A None cutoff means that stage has no SLA.
    """
    where = past_sla(claim_cutoff, work_cutoff)
    if where is None:
        return [], 0
    return await _listed(session, where, MQL.c.created_at, limit=limit)


async def owner_loads(session: AsyncSession, *, work_cutoff: datetime | None) -> list[OwnerLoad]:
    """Claimed, undecided MQLs per owner and how many are past the work SLA, busiest first."""
    late = (
        func.sum(case((MQL.c.claimed_at <= work_cutoff, 1), else_=0))
        if work_cutoff is not None
        else func.sum(0)
    )
    rows = await session.exec(
        select(MQL.c.owner_id, func.count(), func.coalesce(late, 0))
        .where(MQL.c.state == MqlState.CLAIMED.value, MQL.c.owner_id.is_not(None))
        .group_by(MQL.c.owner_id)
    )
    loads = [OwnerLoad(str(owner), int(n), int(o)) for owner, n, o in rows.all()]
    return sorted(loads, key=lambda load: (-load.open, -load.overdue, load.owner_id))


async def owner_week(
    session: AsyncSession, *, owner_id: str, start: datetime, end: datetime
) -> OwnerWeek:
    """What the owner did in ``[start, end)``: MQLs claimed and their current owner's decisions.

    Counted over the MQLs the person owns now (the (owner_id, state) index), so a claim that a
    manager reassigned counts for the new owner.
    """
    mine = MQL.c.owner_id == owner_id
    claimed_in = and_(MQL.c.claimed_at >= start, MQL.c.claimed_at < end)
    decided_in = and_(MQL.c.disposition_at >= start, MQL.c.disposition_at < end)

    totals: Any = (
        await session.exec(
            select(
                count_if(claimed_in),
                *(count_if(and_(decided_in, MQL.c.state == s.value)) for s in DISPOSITIONS),
            ).where(mine)
        )
    ).one()
    claimed, sql, lead, recycled, disqualified = (int(v) for v in totals)
    seconds = MQL.c.claim_business_seconds
    timed = and_(mine, claimed_in, seconds.is_not(None))
    return OwnerWeek(
        claimed=claimed,
        sql=sql,
        lead=lead,
        recycled=recycled,
        disqualified=disqualified,
        median_claim_seconds=await _median(session, seconds, timed),
    )


async def _median(
    session: AsyncSession, value: ColumnElement[Any], where: ColumnElement[bool]
) -> float | None:
    """The median of ``value`` over ``where``, fetching at most two rows."""
    count = await count_rows(session, MQL, where)
    if count == 0:
        return None
    return await percentile(session, value, where, count=count, fraction=0.5)


# ----- `/mql lead` ---------------------------------------------------------------------------


async def find_lead(session: AsyncSession, *, query: str) -> Lead | None:
    """The lead an SDR means by ``query``: an e-mail address, else a CRM id or the lead's number.

    E-mail matches the lead key (lower-cased at ingest) or the stored address exactly or
    lower-cased (both indexed); when several leads share it, the most recently updated wins.
    """
    text = query.strip()
    if "@" in text:
        where: ColumnElement[bool] = or_(
            col(Lead.key) == f"email:{text.lower()}",
            col(Lead.email) == text,
            col(Lead.email) == text.lower(),
        )
    else:
        branches = [col(Lead.key) == f"id:{text}", col(Lead.external_id) == text]
        if text.isdigit() and len(text) < 19:
            branches.append(col(Lead.id) == int(text))
        where = or_(*branches)
    rows = await session.exec(
        select(Lead)
        .where(where)
        .order_by(col(Lead.updated_at).desc(), col(Lead.id).desc())
        .limit(1)
    )
    return rows.first()


async def lead_mqls(session: AsyncSession, *, lead_id: int, limit: int) -> tuple[list[Mql], int]:
    """The lead's MQLs, newest first (at most ``limit``), and how many it has had."""
    where = MQL.c.lead_id == lead_id
    total = await count_rows(session, MQL, where)
    rows = await session.exec(
        select(Mql).where(col(Mql.lead_id) == lead_id).order_by(col(Mql.id).desc()).limit(limit)
    )
    return list(rows.all()), total


async def lead_audit(
    session: AsyncSession, *, lead_id: int, limit: int
) -> tuple[list[AuditEntry], int]:
    """The newest audit entries over all the lead's MQLs (at most ``limit``), and how many."""
    mqls = select(MQL.c.id).where(MQL.c.lead_id == lead_id)
    where = col(AuditEntry.mql_id).in_(mqls)
    total = await count_rows(session, AUDIT, where)
    rows = await session.exec(
        select(AuditEntry)
        .where(where)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(limit)
    )
    return list(rows.all()), total


# ----- Events API delivery dedupe ------------------------------------------------------------


async def first_delivery(session: AsyncSession, *, event_id: str, now: datetime) -> bool:
    """Record an Events API ``event_id``; True the first time, False for Slack's retries."""
    result = await session.exec(
        insert_ignore(session, table_of(SlackEventSeen), ["event_id"]).values(
            event_id=event_id, seen_at=now
        )
    )
    return bool(result.rowcount == 1)


# ----- App Home refreshes --------------------------------------------------------------------


async def replace_pending_home(
    session: AsyncSession, *, dedupe_key: str, payload: dict[str, Any]
) -> bool:
    """Give a queued Home tab publish a newer view; False when it is sent or already leased.

    Only an unleased pending row is changed: a leased one may be on its way with the old view.
    """
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.dedupe_key) == dedupe_key,
            col(OutboxMessage.kind) == OutboxKind.HOME,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.locked_by).is_(None),
        )
        .values(payload=payload)
    )
    return bool(result.rowcount == 1)
