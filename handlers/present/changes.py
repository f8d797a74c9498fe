"""What every MQL state change writes in its transaction: audit, thread reply, card, CRM webhook."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.present.cards import enqueue_card_update
from handlers.present.home import enqueue_home_refreshes
from store import audit
from store.leads import get_lead
from store.models import Mql, OutboxKind
from store.outbox import card_target, enqueue

WEBHOOK_EVENT = "mql.state_changed"


@dataclass(frozen=True)
class Change:
    """One applied change of an MQL (``mql`` as it is now, re-read after the UPDATE)."""

    mql: Mql
    action: str  # claim | release | reassign | disposition | reopen
    actor: str
    from_state: str
    reply: str
    previous_owner: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


async def publish(session: AsyncSession, deps: Deps, change: Change, *, now: datetime) -> None:
    """Queue the change's audit entry, thread reply, card update and CRM webhook.

    Everything goes into the caller's transaction, so a rolled-back change leaves no trace and
    a committed one is never lost. Dedupe keys carry the MQL's new version: each change is
    written once even if the transaction is retried.
    """
    mql = change.mql
    assert mql.id is not None
    mql_id, version = mql.id, mql.version
    await audit.record(
        session,
        mql_id=mql_id,
        actor=change.actor,
        action=change.action,
        at=now,
        from_state=change.from_state,
        to_state=mql.state,
        detail={"owner": mql.owner_id, "previous_owner": change.previous_owner, **change.detail},
    )
    # The card changes first, then the thread says who did it (a card's rows go in order).
    await enqueue_card_update(session, deps, mql_id)
    await enqueue(
        session,
        dedupe_key=f"reply:{mql_id}:v{version}",
        kind=OutboxKind.REPLY,
        payload={"text": change.reply}
        | ({"channel": mql.slack_channel} if mql.slack_channel else {}),
        now=deps.queued_at(now),
        channel=mql.slack_channel,
        target_key=card_target(mql_id),
        mql_id=mql_id,
    )
    if deps.config.crm_webhook_url:
        await enqueue(
            session,
            dedupe_key=f"webhook:{mql_id}:v{version}",
            kind=OutboxKind.WEBHOOK,
            payload=await webhook_payload(session, change, now=now),
            now=deps.queued_at(now),
            mql_id=mql_id,
        )
    # The owners' and the managers' Home tabs list this MQL: refresh them (at most once a minute).
    await enqueue_home_refreshes(session, deps, [mql.owner_id, change.previous_owner])


async def webhook_payload(
    session: AsyncSession, change: Change, *, now: datetime
) -> dict[str, Any]:
    """The JSON the CRM receives for a change: which lead, from and to which state, by whom."""
    mql = change.mql
    lead = await get_lead(session, lead_id=mql.lead_id)
    return {
        "type": WEBHOOK_EVENT,
        "action": change.action,
        "mql_id": mql.id,
        "lead": {
            "id": None if lead is None else lead.external_id,
            "email": None if lead is None else lead.email,
            "key": None if lead is None else lead.key,
        },
        "from_state": change.from_state,
        "to_state": mql.state,
        "owner": mql.owner_id,
        "previous_owner": change.previous_owner,
        "actor": change.actor,
        "reason": mql.reason,
        "note": mql.note,
        "next_step": mql.next_step,
        "next_step_on": _iso(mql.next_step_on),
        "recycle_until": _iso(mql.recycle_until),
        "at": now.isoformat(),
    }
