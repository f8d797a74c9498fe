"""The recycle job: a returning disposition whose date has come goes back to Lead, with a fresh score."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.dispositions import DISPOSITION_OF, RETURNING_STATES
from handlers.jobs.batch import sweep
from handlers.present.blocks.replies import recycle_return_reply
from handlers.present.catalog import Catalog
from handlers.present.changes import Change, publish
from scoring.engine import reset_score, score_at
from scoring.state import LeadScoreState
from store.leads import get_lead
from store.models import LeadStage
from store.sweeps import lock_mql, returns_due

log = logging.getLogger(__name__)

BATCH = 200
SYSTEM = "system"


async def run_recycle(deps: Deps, now: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Return every MQL in a returning state whose ``recycle_until`` (a date in the SLA time
    zone) has come; which states return is the dispositions table's ``returns``.

    Indexed on ``(state, recycle_until)``; each MQL in its own transaction, so one failure is
    logged and the others still return.
    """
    now = now.astimezone(UTC)
    deps = deps.as_if_at(now)
    today = now.astimezone(deps.config.timezone).date()

    async def read(session: AsyncSession, after: int | None, limit: int) -> Sequence[int]:
        return await returns_due(
            session, states=RETURNING_STATES, today=today, after_id=after or 0, limit=limit
        )

    async def apply(session: AsyncSession, mql_id: int) -> str:
        return await _return_one(session, deps, mql_id, now)

    def failed(mql_id: int) -> None:
        log.exception("recycle: MQL %s failed; it will be retried next hour", mql_id)

    return await sweep(deps.sessions, read=read, apply=apply, batch=batch, on_failure=failed)


async def _return_one(session: AsyncSession, deps: Deps, mql_id: int, now: datetime) -> str:
    config = deps.config
    mql = await lock_mql(session, mql_id=mql_id)
    spec = None if mql is None else DISPOSITION_OF.get(mql.state)
    if mql is None or spec is None or not spec.returns or mql.returned_at is not None:
        return "moved"  # re-dispositioned or returned since the batch was read
    lead = await get_lead(session, lead_id=mql.lead_id)
    if lead is None:
        raise LookupError(f"MQL {mql_id}: lead {mql.lead_id} does not exist")
    mql.returned_at = now
    session.add(mql)
    if lead.stage != spec.stage:
        # Qualified again (a newer MQL) or moved by hand meanwhile: the lead is not touched.
        return "superseded"
    mql.version += 1
    mql.updated_at = now
    score_before = lead.score
    lead.stage = LeadStage.LEAD
    if config.reset_score_on_return:
        state = reset_score(LeadScoreState.from_json(lead.score_state), now)
        lead.score_state = state.to_json()
        lead.score = score_at(state, config.rules, now)
    lead.updated_at = now
    session.add(lead)
    await session.flush()
    catalog = Catalog(config.language, config.timezone, names=config.names)
    # The MQL keeps its disposition; what changed is the lead's stage, so the audit
    # entry and the CRM webhook report the move to "lead".
    change = Change(
        mql=mql.model_copy(update={"state": LeadStage.LEAD.value}),
        action="recycle_return",
        actor=SYSTEM,
        from_state=spec.state.value,
        reply=recycle_return_reply(mql.reason or "", catalog),
        detail={"score_before": score_before, "score_after": lead.score},
    )
    await publish(session, deps, change, now=now)
    return "returned"
