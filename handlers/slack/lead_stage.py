"""A lead's funnel stage follows the outcome of its newest MQL, never of an older one."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from store.leads import set_stage
from store.models import LeadStage, Mql
from store.mqls import latest_mql


async def follow_outcome(session: AsyncSession, mql: Mql, stage: LeadStage, now: datetime) -> None:
    """Move ``mql``'s lead to ``stage``, unless the lead has qualified again since ``mql``."""
    latest = await latest_mql(session, lead_id=mql.lead_id)
    if latest is not None and latest.id == mql.id:
        await set_stage(session, lead_id=mql.lead_id, stage=stage, now=now)
