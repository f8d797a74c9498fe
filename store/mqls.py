"""MQLs: create one (at most one open per lead, by unique key), link re-MQLs, read them back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Mql, MqlState
from store.upsert import insert_returning_id, table_of

MQL = table_of(Mql)


async def latest_mql(session: AsyncSession, *, lead_id: int) -> Mql | None:
    """The lead's most recent MQL, open or not."""
    rows = await session.exec(
        select(Mql).where(col(Mql.lead_id) == lead_id).order_by(col(Mql.id).desc()).limit(1)
    )
    return rows.first()


async def open_mql(session: AsyncSession, *, lead_id: int) -> Mql | None:
    """The lead's open (unclaimed or claimed) MQL, if any."""
    rows = await session.exec(select(Mql).where(col(Mql.open_lead_id) == lead_id))
    return rows.first()


async def get_mql(session: AsyncSession, *, mql_id: int) -> Mql | None:
    """One MQL by id."""
    rows = await session.exec(select(Mql).where(col(Mql.id) == mql_id))
    return rows.first()


async def create_mql(
    session: AsyncSession,
    *,
    lead_id: int,
    kind: str,
    reasons: Sequence[dict[str, Any]],
    score: float,
    source: str | None,
    campaign: str | None,
    now: datetime,
    nag_due_at: datetime | None = None,
    qualified_at: datetime | None = None,
) -> int | None:
    """Open a new MQL for the lead and return its id; None when the lead already has an open one.

    The unique ``open_lead_id`` is the guard (not a check-then-insert), so two replicas
    qualifying the same lead at once make one MQL. A re-MQL links to the lead's latest MQL.
    """
    previous = await latest_mql(session, lead_id=lead_id)
    return await insert_returning_id(
        session,
        MQL,
        ["open_lead_id"],
        {
            "lead_id": lead_id,
            "open_lead_id": lead_id,
            "previous_mql_id": None if previous is None else previous.id,
            "created_at": now,
            "kind": kind,
            "reasons": list(reasons),
            "score": score,
            "source": source,
            "campaign": campaign,
            "state": MqlState.OPEN.value,
            "sla_breached": False,
            "nag_due_at": nag_due_at,
            "qualified_at": qualified_at,
            "version": 1,
            "updated_at": now,
        },
    )


async def flag_bad(
    session: AsyncSession, *, mql_id: int, version: int, reason: str, actor: str, now: datetime
) -> bool:
    """Flag the MQL (still at ``version``, not flagged yet) "not a real MQL"; False if it moved."""
    result = await session.exec(
        update(Mql)
        .where(col(Mql.id) == mql_id, col(Mql.version) == version, col(Mql.bad_reason).is_(None))
        .values(bad_reason=reason, bad_by=actor, bad_at=now, version=col(Mql.version) + 1,
                updated_at=now)
    )  # fmt: skip
    return bool(result.rowcount == 1)
