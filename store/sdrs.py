"""SDR round robin for auto-assignment: persistent counts, away flags, no burst on return."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import SdrState
from store.upsert import insert_ignore, table_of


async def _active_floor(session: AsyncSession, user_ids: Sequence[str]) -> int:
    """The lowest count among the SDRs not away (0 when none): where a newcomer starts."""
    rows = await session.exec(
        select(func.min(SdrState.assigned_count)).where(
            col(SdrState.user_id).in_(list(user_ids)), col(SdrState.away).is_(False)
        )
    )
    value = rows.first()
    return int(value) if value is not None else 0


async def ensure_sdrs(session: AsyncSession, *, user_ids: Sequence[str], now: datetime) -> None:
    """Create missing rows; a new SDR starts at the active minimum, so it gets no burst either."""
    floor = await _active_floor(session, user_ids)
    for user_id in user_ids:
        await session.exec(
            insert_ignore(session, table_of(SdrState), ["user_id"]).values(
                user_id=user_id, assigned_count=floor, away=False, updated_at=now
            )
        )


async def pick_sdr(session: AsyncSession, *, user_ids: Sequence[str], now: datetime) -> str | None:
    """The next SDR in the round robin, counted as assigned; None when all are away.

    Fair over time: the SDR with the fewest assignments wins, ties go to the configured order,
    so a steady stream goes A, B, C, A, B, C … and the counts survive restarts.
    """
    if not user_ids:
        return None
    await ensure_sdrs(session, user_ids=user_ids, now=now)
    rows = await session.exec(
        select(SdrState).where(
            col(SdrState.user_id).in_(list(user_ids)), col(SdrState.away).is_(False)
        )
    )
    candidates = rows.all()
    if not candidates:
        return None
    order = {user_id: index for index, user_id in enumerate(user_ids)}
    chosen = min(candidates, key=lambda s: (s.assigned_count, order[s.user_id]))
    await session.exec(
        update(SdrState)
        .where(col(SdrState.user_id) == chosen.user_id)
        .values(assigned_count=col(SdrState.assigned_count) + 1, updated_at=now)
    )
    return chosen.user_id


async def set_away(
    session: AsyncSession, *, user_id: str, away: bool, sdr_ids: Sequence[str], now: datetime
) -> None:
    """Mark an SDR away or back; on return its count rises to the active minimum (no burst).

    Without that, an SDR back from a week off would have the lowest count by far and receive
    every auto-assignment until it caught up.
    """
    await ensure_sdrs(session, user_ids=[*sdr_ids, user_id], now=now)
    if away:
        await session.exec(
            update(SdrState)
            .where(col(SdrState.user_id) == user_id)
            .values(away=True, updated_at=now)
        )
        return
    others = [u for u in sdr_ids if u != user_id]
    floor = await _active_floor(session, others) if others else 0
    await session.exec(
        update(SdrState).where(col(SdrState.user_id) == user_id).values(away=False, updated_at=now)
    )
    await session.exec(
        update(SdrState)
        .where(col(SdrState.user_id) == user_id, col(SdrState.assigned_count) < floor)
        .values(assigned_count=floor)
    )


async def away_sdrs(session: AsyncSession) -> set[str]:
    """The SDRs marked away (out of auto-assignment) right now."""
    rows = await session.exec(select(SdrState.user_id).where(col(SdrState.away).is_(True)))
    return set(rows.all())
