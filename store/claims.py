"""Claims and dispositions: every MQL state change is one conditional UPDATE (rowcount 1 wins)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import DISPOSITIONS, Mql, MqlState, Reminder


async def _apply(session: AsyncSession, conditions: list[Any], values: dict[str, Any]) -> bool:
    values["version"] = col(Mql.version) + 1
    result = await session.exec(update(Mql).where(*conditions).values(**values))
    return result.rowcount == 1


async def claim(
    session: AsyncSession,
    *,
    mql_id: int,
    user_id: str,
    now: datetime,
    claim_business_seconds: int,
    nag_due_at: datetime | None,
) -> bool:
    """Make ``user_id`` the owner of an open MQL; True only for the one caller that won.

    The WHERE clause is the guard: however many transactions run this at once, on SQLite or
    PostgreSQL, exactly one sees rowcount 1 and every other sees 0 and changes nothing.
    """
    return await _apply(
        session,
        [
            col(Mql.id) == mql_id,
            col(Mql.state) == MqlState.OPEN.value,
            col(Mql.owner_id).is_(None),
        ],
        {
            "state": MqlState.CLAIMED.value,
            "owner_id": user_id,
            "claimed_at": now,
            "claim_business_seconds": claim_business_seconds,
            "nag_due_at": nag_due_at,
            "updated_at": now,
        },
    )


async def release(
    session: AsyncSession,
    *,
    mql_id: int,
    version: int,
    now: datetime,
    nag_due_at: datetime | None,
) -> bool:
    """Put a claimed MQL (still at ``version``) back to open without an owner."""
    return await _apply(
        session,
        [
            col(Mql.id) == mql_id,
            col(Mql.version) == version,
            col(Mql.state) == MqlState.CLAIMED.value,
        ],
        {
            "state": MqlState.OPEN.value,
            "owner_id": None,
            "claimed_at": None,
            "claim_business_seconds": None,
            "nag_due_at": nag_due_at,
            "updated_at": now,
        },
    )


async def reassign(
    session: AsyncSession,
    *,
    mql_id: int,
    version: int,
    new_owner: str,
    now: datetime,
    assign: tuple[int, datetime | None] | None = None,
) -> bool:
    """Give the MQL (still at ``version``) to ``new_owner``.

    With ``assign=(claim_business_seconds, nag_due_at)`` an open MQL is claimed on the new
    owner's behalf (the claim clock stops now); without it only the owner of a claimed or
    dispositioned MQL changes and its clocks keep running.
    """
    conditions = [col(Mql.id) == mql_id, col(Mql.version) == version]
    values: dict[str, Any] = {"owner_id": new_owner, "updated_at": now}
    if assign is None:
        conditions.append(col(Mql.state) != MqlState.OPEN.value)
    else:
        conditions.append(col(Mql.state) == MqlState.OPEN.value)
        values |= {
            "state": MqlState.CLAIMED.value,
            "claimed_at": now,
            "claim_business_seconds": assign[0],
            "nag_due_at": assign[1],
        }
    return await _apply(session, conditions, values)


async def set_disposition(
    session: AsyncSession,
    *,
    mql_id: int,
    version: int,
    disposition: MqlState,
    actor: str,
    now: datetime,
    owner_id: str | None = None,
    reason: str | None = None,
    note: str | None = None,
    next_step: str | None = None,
    next_step_on: date | None = None,
    recycle_until: date | None = None,
) -> bool:
    """Record a disposition of a claimed (or already dispositioned) MQL still at ``version``.

    ``owner_id`` adds "and it is still owned by this user" to the guard. The MQL leaves the
    open set (``open_lead_id`` NULL, so the lead may qualify again) and its nag clock stops.
    Fields of an earlier disposition that do not apply to this one are cleared.
    """
    if disposition not in DISPOSITIONS:
        raise ValueError(f"{disposition!r} is not a disposition; expected one of {DISPOSITIONS}")
    conditions = [
        col(Mql.id) == mql_id,
        col(Mql.version) == version,
        col(Mql.state) != MqlState.OPEN.value,
        col(Mql.owner_id).is_not(None),
    ]
    if owner_id is not None:
        conditions.append(col(Mql.owner_id) == owner_id)
    return await _apply(
        session,
        conditions,
        {
            "state": disposition.value,
            "open_lead_id": None,
            "disposition_at": now,
            "disposition_by": actor,
            "reason": reason,
            "note": note,
            "next_step": next_step,
            "next_step_on": next_step_on,
            "recycle_until": recycle_until,
            "returned_at": None,
            "nag_due_at": None,
            "updated_at": now,
        },
    )


async def reopen(
    session: AsyncSession,
    *,
    mql_id: int,
    version: int,
    locked: Collection[MqlState],
    actor: str,
    now: datetime,
) -> bool:
    """A manager takes back a locked disposition: the MQL (still at ``version``) becomes a Lead.

    ``locked`` are the states a manager may reopen (the caller's dispositions table knows them).
    """
    if not locked:
        raise ValueError("reopen needs at least one locked state")
    return await _apply(
        session,
        [
            col(Mql.id) == mql_id,
            col(Mql.version) == version,
            col(Mql.state).in_([state.value for state in locked]),
        ],
        {
            "state": MqlState.LEAD.value,
            "disposition_at": now,
            "disposition_by": actor,
            "reason": None,
            "next_step": None,
            "next_step_on": None,
            "recycle_until": None,
            "updated_at": now,
        },
    )


async def sent_levels(session: AsyncSession, *, mql_id: int, stage: str) -> frozenset[int]:
    """Reminder levels of ``stage`` already sent for this MQL (each goes out once per MQL)."""
    rows = await session.exec(
        select(Reminder.level).where(col(Reminder.mql_id) == mql_id, col(Reminder.stage) == stage)
    )
    return frozenset(int(level) for level in rows.all())
