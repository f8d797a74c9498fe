"""The card's "Not a real MQL" flag: the button opens the reason modal, the submission records it.

The calibration counts these flags as its strongest signal. Only the owner or a manager may
flag, once per MQL; the card shows the flag and its thread says who set it and why.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import Deps
from handlers.present.actions import ActionId, BlockId
from handlers.present.blocks import mql_not_found
from handlers.present.blocks._text import escape
from handlers.present.blocks.modals import flag_bad_modal, parse_flag_bad
from handlers.present.catalog import catalog_of
from handlers.present.changes import Change, publish
from handlers.slack.ack_first import ListenerApp
from handlers.slack.interaction import (
    Ack,
    Body,
    Refusal,
    channel_of,
    ephemeral,
    first_action,
    parse_mql_id,
    refusal_on_card,
    trigger_of,
    user_of,
    view_of,
    view_values,
)
from store.models import MqlState
from store.mqls import flag_bad, get_mql


async def handle_flag_button(*, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps) -> None:
    """Open the reason modal at once (a trigger id lives 3 s); who may flag is checked on submit."""
    await ack()
    action = first_action(body)
    mql_id = parse_mql_id(action.get("value"))
    trigger = trigger_of(body)
    catalog = catalog_of(deps)
    if mql_id is None or trigger is None:
        channel = channel_of(body) or deps.config.sdr_channel
        await ephemeral(client, channel=channel, user=user_of(body), text=mql_not_found(catalog))
        return
    modal = flag_bad_modal(str(mql_id), deps.config.bad_mql_reasons, catalog)
    await client.views_open(trigger_id=trigger, view=modal)


async def apply_flag(deps: Deps, *, mql_id: int, actor: str, reason: str) -> Refusal | None:
    """Re-read the MQL, check ``actor`` may flag it, and record the flag; a Refusal otherwise."""
    now = deps.clock()
    catalog = catalog_of(deps)
    async with deps.sessions() as session, session.begin():
        mql = await get_mql(session, mql_id=mql_id)
        if mql is None or mql.id is None:
            return Refusal(mql_not_found(catalog), deps.config.sdr_channel)
        allowed = actor in deps.config.managers or (
            mql.owner_id is not None and actor == mql.owner_id
        )
        if not allowed or mql.state == MqlState.OPEN:
            return refusal_on_card(deps, mql, catalog.t("ephemeral.flag_bad_not_allowed"))
        if mql.bad_reason is not None:
            return None  # flagged already (a double submit): nothing to do
        if not await flag_bad(
            session, mql_id=mql.id, version=mql.version, reason=reason, actor=actor, now=now
        ):
            return refusal_on_card(deps, mql, catalog.t("ephemeral.changed_meanwhile"))
        await session.refresh(mql)
        label = escape(catalog.bad_mql_reason_label(reason))
        reply = catalog.t("reply.flagged_bad", user=escape(actor), reason=label)
        change = Change(
            mql, "flag_bad", actor, mql.state, reply, previous_owner=mql.owner_id,
            detail={"reason": reason},
        )  # fmt: skip
        await publish(session, deps, change, now=now)
    return None


async def handle_flag_submission(
    *, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps
) -> None:
    """``view_submission`` of the reason modal: a configured reason is required."""
    catalog = catalog_of(deps)
    view = view_of(body)
    reason = parse_flag_bad(view_values(body))
    if reason not in deps.config.bad_mql_reasons:
        errors = {BlockId.FLAG_BAD_REASON.value: catalog.t("modal.error.unknown_reason")}
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    user = user_of(body)
    mql_id = parse_mql_id(view.get("private_metadata"))
    if mql_id is None or reason is None:
        text = mql_not_found(catalog)
        await ephemeral(client, channel=deps.config.sdr_channel, user=user, text=text)
        return
    refusal = await apply_flag(deps, mql_id=mql_id, actor=user, reason=reason)
    if refusal is not None:
        await ephemeral(client, channel=refusal.channel, user=user, text=refusal.text)


def register(app: ListenerApp, deps: Deps) -> None:
    """Attach the flag button and its modal's submission."""

    async def button(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_flag_button(ack=ack, body=body, client=client, deps=deps)

    async def submission(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_flag_submission(ack=ack, body=body, client=client, deps=deps)

    app.action(ActionId.FLAG_BAD.value)(button)
    app.view(ActionId.FLAG_BAD_MODAL.value)(submission)
