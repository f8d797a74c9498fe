"""The managers' overflow on a card: release a claim, reassign it, reopen a locked (disqualified) MQL."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.dispositions import DISPOSITION_OF, LOCKED_STATES
from handlers.present.actions import ActionId, BlockId, ManagerAction, parse_manager_value
from handlers.present.blocks import (
    mql_not_found,
    not_a_manager,
    parse_reassign,
    reassign_modal,
    reassign_reply,
    release_reply,
    reopen_reply,
)
from handlers.present.catalog import catalog_of
from handlers.present.changes import Change, publish
from handlers.sla import on_claimed
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
    selected_value,
    trigger_of,
    user_of,
    view_of,
    view_values,
)
from handlers.slack.lead_stage import follow_outcome
from scoring.clock import business_elapsed
from scoring.sla import SlaSnapshot, Stage, next_due_at
from store import claims
from store.models import LeadStage, Mql, MqlState
from store.mqls import get_mql
from store.transient import retry_transient

# The shape of a Slack user id; anything else in a submission was not picked in Slack's select.
_USER_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def _load(session: AsyncSession, deps: Deps, mql_id: int) -> Mql | Refusal:
    mql = await get_mql(session, mql_id=mql_id)
    if mql is None:
        return Refusal(mql_not_found(catalog_of(deps)), deps.config.sdr_channel)
    return mql


def _changed(deps: Deps, mql: Mql) -> Refusal:
    return refusal_on_card(deps, mql, catalog_of(deps).t("ephemeral.changed_meanwhile"))


async def release_mql(deps: Deps, *, mql_id: int, manager: str) -> Refusal | None:
    """Put a claimed MQL back to open: the Claim button returns and the unclaimed clock resumes."""
    now = deps.clock()
    config = deps.config
    async with deps.sessions() as session, session.begin():
        mql = await _load(session, deps, mql_id)
        if isinstance(mql, Refusal):
            return mql
        if mql.state != MqlState.CLAIMED or mql.owner_id is None:
            return refusal_on_card(deps, mql, catalog_of(deps).t("ephemeral.release_not_claimed"))
        owner = mql.owner_id
        sent = await claims.sent_levels(session, mql_id=mql_id, stage=Stage.UNCLAIMED.value)
        due = next_due_at(
            SlaSnapshot(Stage.UNCLAIMED, mql.created_at, sent), config.levels, config.calendar
        )
        if not await claims.release(
            session, mql_id=mql_id, version=mql.version, now=now, nag_due_at=due
        ):
            return _changed(deps, mql)
        await session.refresh(mql)
        reply = release_reply(manager, owner, catalog_of(deps))
        change = Change(
            mql, "release", manager, MqlState.CLAIMED.value, reply, previous_owner=owner
        )
        await publish(session, deps, change, now=now)
    return None


async def _assign_clock(
    session: AsyncSession, deps: Deps, mql: Mql, now: datetime
) -> tuple[int, datetime | None]:
    assert mql.id is not None
    elapsed = business_elapsed(deps.config.calendar, mql.created_at, now)
    sent = await claims.sent_levels(session, mql_id=mql.id, stage=Stage.UNWORKED.value)
    claimed = mql.model_copy(update={"claimed_at": now})
    return int(elapsed.total_seconds()), on_claimed(claimed, deps.config, sent_levels=sent)


async def reassign_mql(deps: Deps, *, mql_id: int, manager: str, new_owner: str) -> Refusal | None:
    """Give the MQL to ``new_owner`` (an open one is claimed on their behalf)."""
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        mql = await _load(session, deps, mql_id)
        if isinstance(mql, Refusal):
            return mql
        if mql.owner_id == new_owner:
            return None  # already theirs: a repeated submission changes nothing
        previous, from_state = mql.owner_id, mql.state
        assign = (
            await _assign_clock(session, deps, mql, now) if mql.state == MqlState.OPEN else None
        )
        done = await claims.reassign(
            session,
            mql_id=mql_id,
            version=mql.version,
            new_owner=new_owner,
            now=now,
            assign=assign,
        )
        if not done:
            return _changed(deps, mql)
        await session.refresh(mql)
        reply = reassign_reply(manager, previous, new_owner, catalog_of(deps))
        change = Change(mql, "reassign", manager, from_state, reply, previous_owner=previous)
        await publish(session, deps, change, now=now)
    return None


async def reopen_mql(deps: Deps, *, mql_id: int, manager: str) -> Refusal | None:
    """Take back a locked disposition: the MQL becomes a Lead and the lead may qualify again."""
    now = deps.clock()
    async with deps.sessions() as session, session.begin():
        mql = await _load(session, deps, mql_id)
        if isinstance(mql, Refusal):
            return mql
        spec = DISPOSITION_OF.get(mql.state)
        if spec is None or not spec.locked:
            text = catalog_of(deps).t("ephemeral.reopen_not_disqualified")
            return refusal_on_card(deps, mql, text)
        previous_reason = mql.reason
        if not await claims.reopen(
            session,
            mql_id=mql_id,
            version=mql.version,
            locked=LOCKED_STATES,
            actor=manager,
            now=now,
        ):
            return _changed(deps, mql)
        await session.refresh(mql)
        await follow_outcome(session, mql, LeadStage.LEAD, now)
        change = Change(
            mql,
            "reopen",
            manager,
            spec.state.value,
            reopen_reply(manager, catalog_of(deps)),
            previous_owner=mql.owner_id,
            detail={"previous_reason": previous_reason},
        )
        await publish(session, deps, change, now=now)
    return None


async def handle_menu(*, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps) -> None:
    """``block_actions`` of the managers' overflow: refused for anyone not in ``managers``."""
    await ack()
    user = user_of(body)
    channel = channel_of(body) or deps.config.sdr_channel
    catalog = catalog_of(deps)
    if user not in deps.config.managers:
        await ephemeral(client, channel=channel, user=user, text=not_a_manager(catalog))
        return
    try:
        action, opaque = parse_manager_value(selected_value(first_action(body)) or "")
    except ValueError:
        action, opaque = None, ""
    mql_id = parse_mql_id(opaque)
    if action is None or mql_id is None:
        await ephemeral(client, channel=channel, user=user, text=mql_not_found(catalog))
        return
    if action is ManagerAction.REASSIGN:
        trigger = trigger_of(body)
        if trigger is not None:  # open the modal before any database work
            await client.views_open(trigger_id=trigger, view=reassign_modal(str(mql_id), catalog))
        return
    # Acknowledged already: a transaction the database drops (a restart) is run again.
    if action is ManagerAction.RELEASE:
        refusal = await retry_transient(
            lambda: release_mql(deps, mql_id=mql_id, manager=user), what=f"release of {mql_id}"
        )
    else:
        refusal = await retry_transient(
            lambda: reopen_mql(deps, mql_id=mql_id, manager=user), what=f"reopen of {mql_id}"
        )
    if refusal is not None:
        await ephemeral(client, channel=refusal.channel, user=user, text=refusal.text)


async def handle_reassign(*, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps) -> None:
    """``view_submission`` of the reassign modal: managers only, re-checked here."""
    catalog = catalog_of(deps)
    try:
        chosen = parse_reassign(view_values(body))
        if not _USER_ID.fullmatch(chosen.user_id):
            raise ValueError("not a user id")
    except ValueError:
        errors = {BlockId.REASSIGN_USER.value: catalog.t("modal.error.invalid")}
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    user = user_of(body)
    mql_id = parse_mql_id(view_of(body).get("private_metadata"))
    refusal: Refusal | None
    if user not in deps.config.managers:
        refusal = Refusal(not_a_manager(catalog), deps.config.sdr_channel)
    elif mql_id is None:
        refusal = Refusal(mql_not_found(catalog), deps.config.sdr_channel)
    else:
        refusal = await retry_transient(
            lambda: reassign_mql(deps, mql_id=mql_id, manager=user, new_owner=chosen.user_id),
            what=f"reassign of {mql_id}",
        )
    if refusal is not None:
        await ephemeral(client, channel=refusal.channel, user=user, text=refusal.text)


def register(app: ListenerApp, deps: Deps) -> None:
    """Attach the managers' overflow menu and the reassign modal's submission."""

    async def menu(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_menu(ack=ack, body=body, client=client, deps=deps)

    async def reassign(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_reassign(ack=ack, body=body, client=client, deps=deps)

    app.action(ActionId.MANAGER_MENU.value)(menu)
    app.view(ActionId.REASSIGN_MODAL.value)(reassign)
