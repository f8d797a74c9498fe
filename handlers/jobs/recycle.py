"""The recycle job: a Recycled MQL whose return date has come goes back to Lead, with a fresh score."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.slack.blocks.replies import recycle_return_reply
from handlers.slack.cards import enqueue_card_update
from handlers.slack.catalog import Catalog
from scoring.engine import reset_score, score_at
from scoring.state import LeadScoreState
from store import audit
from store.leads import get_lead
from store.models import LeadStage, Mql, MqlState
from store.outbox import card_target, enqueue

log = logging.getLogger(__name__)

BATCH = 200
SYSTEM = "system"


async def run_recycle(deps: Deps, now: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Return every Recycled MQL whose ``recycle_until`` (a date in the SLA time zone) has come.

    Indexed on ``(state, recycle_until)``; each MQL in its own transaction, so one failure is
    logged and the others still return.
    """
    deps = dataclasses.replace(deps, clock=lambda: now)
    today = now.astimezone(deps.config.timezone).date()
    counts: Counter[str] = Counter()
    last_id = 0
    while True:
        async with deps.sessions() as session:
            rows = (
                await session.exec(
                    select(Mql.id)
                    .where(
                        col(Mql.state) == MqlState.RECYCLED,
                        col(Mql.recycle_until) <= today,
                        col(Mql.returned_at).is_(None),
                        col(Mql.id) > last_id,
                    )
                    .order_by(col(Mql.id))
                    .limit(batch)
                )
            ).all()
        for mql_id in rows:
            assert mql_id is not None
            last_id = mql_id
            try:
                async with deps.sessions() as session, session.begin():
                    outcome = await _return_one(session, deps, mql_id, now)
            except Exception:  # one failing MQL never stops the batch
                log.exception("recycle: MQL %s failed; it will be retried next hour", mql_id)
                outcome = "failed"
            counts[outcome] += 1
        if len(rows) < batch:
            break
    return {"checked": sum(counts.values()), **dict(sorted(counts.items()))}


async def _return_one(session: AsyncSession, deps: Deps, mql_id: int, now: datetime) -> str:
    config = deps.config
    mql = (await session.exec(select(Mql).where(col(Mql.id) == mql_id).with_for_update())).first()
    if mql is None or mql.state != MqlState.RECYCLED or mql.returned_at is not None:
        return "moved"  # re-dispositioned or returned since the batch was read
    lead = await get_lead(session, lead_id=mql.lead_id)
    if lead is None:
        raise LookupError(f"MQL {mql_id}: lead {mql.lead_id} does not exist")
    mql.returned_at = now
    mql.version += 1
    mql.updated_at = now
    session.add(mql)
    if lead.stage != LeadStage.RECYCLED:
        # Qualified again (a newer MQL) or moved by hand meanwhile: the lead is not touched.
        return "superseded"
    score_before = lead.score
    lead.stage = LeadStage.LEAD
    if config.reset_score_on_return:
        state = reset_score(LeadScoreState.from_json(lead.score_state), now)
        lead.score_state = state.to_json()
        lead.score = score_at(state, config.rules, now)
    lead.updated_at = now
    session.add(lead)
    await session.flush()
    await audit.record(
        session,
        mql_id=mql_id,
        actor=SYSTEM,
        action="recycle_return",
        at=now,
        from_state=MqlState.RECYCLED,
        to_state=LeadStage.LEAD,
        detail={
            "reason": mql.reason,
            "recycle_until": mql.recycle_until.isoformat() if mql.recycle_until else None,
            "score_before": score_before,
            "score_after": lead.score,
        },
    )
    catalog = Catalog(config.language, config.timezone)
    await enqueue(
        session,
        dedupe_key=f"recycle:{mql_id}:return",
        kind="reply",
        payload={"text": recycle_return_reply(mql.reason or "", catalog)}
        | ({"channel": mql.slack_channel} if mql.slack_channel else {}),
        now=now,
        channel=mql.slack_channel,
        target_key=card_target(mql_id),
        mql_id=mql_id,
    )
    if config.crm_webhook_url:
        await enqueue(
            session,
            dedupe_key=f"recycle:{mql_id}:webhook",
            kind="webhook",
            payload={
                "type": "mql.recycle_returned",
                "mql_id": mql_id,
                "lead": {"id": lead.external_id, "email": lead.email, "key": lead.key},
                "from_stage": LeadStage.RECYCLED.value,
                "to_stage": LeadStage.LEAD.value,
                "reason": mql.reason,
                "recycle_until": mql.recycle_until.isoformat() if mql.recycle_until else None,
                "score": lead.score,
                "at": now.isoformat(),
            },
            now=now,
            mql_id=mql_id,
        )
    await enqueue_card_update(session, deps, mql_id)
    return "returned"
