"""The audit trail: every claim, release, reassignment, disposition and return, with who and when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import AuditEntry


async def record(
    session: AsyncSession,
    *,
    mql_id: int,
    actor: str,
    action: str,
    at: datetime,
    from_state: str | None = None,
    to_state: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry (flushed, not committed)."""
    entry = AuditEntry(
        mql_id=mql_id,
        actor=actor,
        action=action,
        at=at,
        from_state=from_state,
        to_state=to_state,
        detail=detail or {},
    )
    session.add(entry)
    await session.flush()
    return entry


async def history(session: AsyncSession, *, mql_id: int) -> Sequence[AuditEntry]:
    """An MQL's entries, oldest first."""
    rows = await session.exec(
        select(AuditEntry).where(col(AuditEntry.mql_id) == mql_id).order_by(col(AuditEntry.id))
    )
    return rows.all()
