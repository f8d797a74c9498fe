"""Indexed scans for the scheduled jobs: nags due, recycled MQLs to return, scores to decay."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import Select

from store.models import Lead, Mql, MqlState, Reminder
from store.upsert import insert_returning_id, table_of

DueQuery = Select[datetime | None, int | None]


def due_query(*, now: datetime, after: tuple[datetime, int] | None, limit: int) -> DueQuery:
    """MQLs whose next reminder is due at ``now``, oldest first, after the keyset ``after``.

    A range on ``ix_mql_nag_due`` only: undue and finished MQLs are never read.
    """
    query = select(col(Mql.nag_due_at), col(Mql.id)).where(col(Mql.nag_due_at) <= now)
    if after is not None:
        last_due, last_id = after
        query = query.where(
            (col(Mql.nag_due_at) > last_due)
            | ((col(Mql.nag_due_at) == last_due) & (col(Mql.id) > last_id))
        )
    return query.order_by(col(Mql.nag_due_at), col(Mql.id)).limit(limit)


async def due_nags(
    session: AsyncSession, *, now: datetime, after: tuple[datetime, int] | None, limit: int
) -> list[tuple[datetime, int]]:
    """``(nag_due_at, id)`` of up to ``limit`` due MQLs (see ``due_query``)."""
    rows = await session.exec(due_query(now=now, after=after, limit=limit))
    return [(due, mql_id) for due, mql_id in rows.all() if due is not None and mql_id is not None]


async def lock_mql(session: AsyncSession, *, mql_id: int) -> Mql | None:
    """One MQL, row-locked on PostgreSQL until the transaction ends (SQLite locks at BEGIN)."""
    rows = await session.exec(select(Mql).where(col(Mql.id) == mql_id).with_for_update())
    return rows.first()


async def record_reminder(
    session: AsyncSession, *, mql_id: int, stage: str, level: int, now: datetime
) -> bool:
    """Record a level as sent; False when it already was (the unique key keeps it to once)."""
    new_id = await insert_returning_id(
        session,
        table_of(Reminder),
        ["mql_id", "stage", "level"],
        {"mql_id": mql_id, "stage": stage, "level": level, "sent_at": now},
    )
    return new_id is not None


async def returns_due(
    session: AsyncSession,
    *,
    states: Collection[MqlState],
    today: date,
    after_id: int,
    limit: int,
) -> Sequence[int]:
    """Ids of MQLs in one of ``states`` not yet returned whose ``recycle_until`` is ``today`` or earlier.

    ``states`` are the dispositions that return (the caller's table knows which); a range on
    ``ix_mql_recycle_due`` per state.
    """
    if not states:
        raise ValueError("returns_due needs at least one returning state")
    rows = await session.exec(
        select(Mql.id)
        .where(
            col(Mql.state).in_([state.value for state in states]),
            col(Mql.recycle_until) <= today,
            col(Mql.returned_at).is_(None),
            col(Mql.id) > after_id,
        )
        .order_by(col(Mql.id))
        .limit(limit)
    )
    return [mql_id for mql_id in rows.all() if mql_id is not None]


async def scored_leads(session: AsyncSession, *, after_id: int, limit: int) -> Sequence[Lead]:
    """Up to ``limit`` leads with a non-zero stored score, by id after ``after_id``."""
    rows = await session.exec(
        select(Lead)
        .where(col(Lead.score) != 0, col(Lead.id) > after_id)
        .order_by(col(Lead.id))
        .limit(limit)
    )
    return rows.all()
