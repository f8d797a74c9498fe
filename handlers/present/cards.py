"""The MQL card as stored data: load its view from the database and queue its post or update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.present.blocks import card_blocks, card_text
from handlers.present.catalog import Catalog
from handlers.present.views import (
    ActivityView,
    CardState,
    CardView,
    LeadView,
    OutcomeView,
    RequalifiedView,
)
from handlers.sla import card_sla
from scoring.currency import format_money
from scoring.outcomes import furthest
from store.events import recent_activities
from store.leads import get_lead
from store.models import Lead, Mql, OutboxKind
from store.mqls import get_mql
from store.opportunities import facts_of, mql_opportunities
from store.outbox import card_target, enqueue

# Properties that name what the lead touched, in the order a person would want to read them.
LABEL_PROPERTIES: tuple[str, ...] = ("asset", "title", "video", "url", "page", "form", "name")
MAX_LABEL = 200
# Activities loaded for a card: the builder shows the newest few and counts the rest, up to this.
CARD_ACTIVITY_LIMIT = 200


def event_label(properties: Mapping[str, Any]) -> str:
    """A short label for an event ("MA guide", "/pricing"), from its best-known property."""
    for name in LABEL_PROPERTIES:
        value = properties.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_LABEL]
    return ""


def lead_url(template: str | None, lead: Lead) -> str | None:
    """The CRM link for a lead from `[crm] lead_url_template`, when every value it needs is known."""
    if not template:
        return None
    values = {"lead_id": str(lead.id), "external_id": lead.external_id, "email": lead.email}
    needed = [name for name in values if "{" + name + "}" in template]
    if any(values[name] is None for name in needed):
        return None
    return template.format(**{k: quote(v or "", safe="@") for k, v in values.items()})


def permalink(channel: str | None, ts: str | None) -> str | None:
    """A link to a posted message that Slack resolves in the reader's workspace."""
    if not channel or not ts:
        return None
    return f"https://slack.com/archives/{channel}/p{ts.replace('.', '')}"


def _requalified(previous: Mql | None) -> RequalifiedView | None:
    if previous is None:
        return None
    try:
        state = CardState(previous.state)
    except ValueError:
        return None
    return RequalifiedView(
        previous_disposition=state,
        previous_reason=previous.reason,
        previous_at=previous.disposition_at or previous.updated_at,
        previous_permalink=permalink(previous.slack_channel, previous.slack_ts),
    )


async def load_card_view(session: AsyncSession, deps: Deps, mql_id: int) -> CardView:
    """Everything the card shows for this MQL, read in the caller's transaction."""
    mql = await get_mql(session, mql_id=mql_id)
    if mql is None:
        raise LookupError(f"MQL {mql_id} does not exist")
    lead = await get_lead(session, lead_id=mql.lead_id)
    if lead is None:
        raise LookupError(f"MQL {mql_id}: lead {mql.lead_id} does not exist")
    previous = (
        None if mql.previous_mql_id is None else await get_mql(session, mql_id=mql.previous_mql_id)
    )
    activities = await recent_activities(session, lead_id=lead.id or 0, limit=CARD_ACTIVITY_LIMIT)
    return CardView(
        mql_id=str(mql_id),
        lead=LeadView(
            name=lead.name or "",
            title=lead.title or "",
            company=lead.company or "",
            email=lead.email or "",
            source=mql.source or lead.source or "",
            campaign=mql.campaign or lead.campaign or "",
            crm_url=lead_url(deps.config.lead_url_template, lead),
        ),
        score=round(mql.score),
        reasons=list(mql.reasons),
        activities=[
            ActivityView(
                type=a.type,
                label=event_label(a.properties),
                occurred_at=a.occurred_at,
                points=round(a.points),
            )
            for a in activities
        ],
        created_at=mql.created_at,
        state=CardState(mql.state),
        owner_id=mql.owner_id,
        claimed_at=mql.claimed_at,
        reason=mql.reason,
        note=mql.note,
        next_step=mql.next_step,
        next_step_date=mql.next_step_on,
        recycle_until=mql.recycle_until,
        disposition_by=mql.disposition_by,
        disposition_at=mql.disposition_at,
        requalified=_requalified(previous),
        sla=card_sla(mql, deps.config, deps.clock()),
        outcome=await _outcome(session, mql_id, deps),
        bad_reason=mql.bad_reason,
        bad_by=mql.bad_by,
    )


async def _outcome(session: AsyncSession, mql_id: int, deps: Deps) -> OutcomeView | None:
    """The furthest stage the MQL's opportunities reached, or None before any opportunity."""
    opportunities = [facts_of(o) for o in await mql_opportunities(session, mql_id=mql_id)]
    best = furthest(opportunities)
    if best is None:
        return None
    amount = None if best.amount is None else format_money(best.amount, deps.config.language)
    return OutcomeView(
        status=best.status.value,
        stage=best.stage,
        amount=amount,
        lost_reason=best.lost_reason,
        opportunities=len(opportunities),
    )


def _catalog(deps: Deps) -> Catalog:
    return Catalog(deps.config.language, deps.config.timezone, names=deps.config.names)


async def render_card(session: AsyncSession, deps: Deps, mql_id: int) -> dict[str, Any]:
    """The card's ``{"text": ..., "blocks": [...]}`` as of now."""
    view = await load_card_view(session, deps, mql_id)
    catalog = _catalog(deps)
    return {
        "text": card_text(view, catalog),
        "blocks": card_blocks(view, catalog, now=deps.clock()),
    }


async def enqueue_card_post(session: AsyncSession, deps: Deps, mql_id: int) -> int | None:
    """Queue the card's first post to `sdr_channel` (once per MQL: dedupe key ``card:<id>``).

    The sender records the post's channel and ts on the row (result_channel/result_ts); every
    later update and thread reply finds them through the target key ``card:<id>``.
    """
    payload = await render_card(session, deps, mql_id)
    channel = deps.config.sdr_channel
    return await enqueue(
        session,
        dedupe_key=f"card:{mql_id}",
        kind=OutboxKind.POST,
        payload={"channel": channel, **payload},
        now=deps.queued_at(),
        channel=channel,
        target_key=card_target(mql_id),
        mql_id=mql_id,
    )


async def enqueue_card_update(
    session: AsyncSession, deps: Deps, mql_id: int, *, revision: str | None = None
) -> int | None:
    """Queue a ``chat.update`` of the card with its current state (once per MQL version).

    Call it after bumping ``Mql.version`` in the same transaction, or name the ``revision``
    when what changed is not the MQL itself (a CRM outcome: the version guards the SDR's
    clicks and must not move under them). The payload's ``channel``
    and ``ts`` are the MQL's when the post already went out; otherwise ``ts`` is null and the
    sender takes it from the post row with the same target key (``card:<id>``), which it sends
    first. A newer update supersedes older unsent ones (store.outbox.enqueue).
    """
    mql = await get_mql(session, mql_id=mql_id)
    if mql is None:
        raise LookupError(f"MQL {mql_id} does not exist")
    payload = await render_card(session, deps, mql_id)
    channel = mql.slack_channel or deps.config.sdr_channel
    return await enqueue(
        session,
        dedupe_key=f"card:{mql_id}:{revision or f'v{mql.version}'}",
        kind=OutboxKind.UPDATE,
        payload={"channel": channel, "ts": mql.slack_ts, **payload},
        now=deps.queued_at(),
        channel=channel,
        target_key=card_target(mql_id),
        mql_id=mql_id,
    )
