"""The four dispositions: buttons open their modal at once, submissions are checked and applied."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import Deps
from handlers.dispositions import DISPOSITION_OF, DISPOSITIONS, DispositionSpec
from handlers.present.actions import ActionId
from handlers.present.blocks import (
    disposition_reply,
    mql_not_found,
    not_allowed_to_disposition,
    recycle_modal,
)
from handlers.present.catalog import Catalog, catalog_of
from handlers.present.changes import Change, publish
from handlers.slack.ack_first import ListenerApp
from handlers.slack.disposition_forms import FORMS, Disposition, Errors, FormContext
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
from store import claims
from store.models import Mql, MqlState
from store.mqls import get_mql
from store.transient import retry_transient

BUTTONS: dict[str, DispositionSpec] = {spec.button.value: spec for spec in DISPOSITIONS}
"""Disposition button action id → the disposition it opens the modal for."""
_BY_MODAL: dict[str, DispositionSpec] = {spec.modal.value: spec for spec in DISPOSITIONS}
"""Disposition modal callback id → its disposition (its form is ``FORMS[spec.modal]``)."""


def _today(deps: Deps) -> date:
    return deps.clock().astimezone(deps.config.timezone).date()


# ----- buttons: open the modal before anything else (a trigger id lives 3 s) ------------------


def _context(deps: Deps, catalog: Catalog) -> FormContext:
    return FormContext(deps.config, _today(deps), catalog)


def disposition_modal(deps: Deps, spec: DispositionSpec, mql_id: int) -> dict[str, Any]:
    """The modal a disposition button opens (built from configuration only: no database)."""
    return FORMS[spec.modal].build(spec, str(mql_id), _context(deps, catalog_of(deps)))


async def handle_disposition_button(
    *, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps
) -> None:
    """``block_actions`` of SQL / Lead / Recycled / Disqualified: open the modal.

    Who may disposition is checked when the modal is submitted, against the state then.
    """
    await ack()
    action = first_action(body)
    spec = BUTTONS.get(str(action.get("action_id")))
    mql_id = parse_mql_id(action.get("value"))
    trigger = trigger_of(body)
    if spec is None or mql_id is None or trigger is None:
        channel = channel_of(body) or deps.config.sdr_channel
        text = mql_not_found(catalog_of(deps))
        await ephemeral(client, channel=channel, user=user_of(body), text=text)
        return
    await client.views_open(trigger_id=trigger, view=disposition_modal(deps, spec, mql_id))


async def handle_recycle_reason(
    *, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps
) -> None:
    """The reason select of the Recycle modal changed: reset the date to that reason's default."""
    await ack()
    view = view_of(body)
    reason = selected_value(first_action(body))
    mql_id = parse_mql_id(view.get("private_metadata"))
    view_id = view.get("id")
    if mql_id is None or reason not in deps.config.recycle_reasons or not isinstance(view_id, str):
        return  # not a modal of ours, or a reason we never offered: leave the modal as it is
    modal = recycle_modal(
        str(mql_id), deps.config.recycle_reasons, reason, _today(deps), catalog_of(deps)
    )
    view_hash = view.get("hash")
    await client.views_update(
        view_id=view_id, hash=view_hash if isinstance(view_hash, str) else None, view=modal
    )


# ----- submissions: validate, ack (with errors or not), then re-check and apply -------------


def read_submission(
    callback_id: str, values: Mapping[str, Any], deps: Deps, catalog: Catalog
) -> Disposition | Errors:
    """The disposition a modal asks for, or ``{block_id: error}`` to show in the modal."""
    spec = _BY_MODAL.get(callback_id)
    if spec is None:
        raise ValueError(f"{callback_id[:60]!r} is not a disposition modal")
    return FORMS[spec.modal].read(spec, values, _context(deps, catalog))


async def apply_disposition(
    deps: Deps, *, mql_id: int, actor: str, wanted: Disposition
) -> Refusal | None:
    """Re-read the MQL, check ``actor`` may do this now, and record it; a Refusal otherwise.

    The owner and managers may set or change a disposition of a claimed MQL; a disqualified
    one only a manager may change. Submitting the same disposition twice changes nothing, so a
    transaction the database drops (a restart) is simply run again.
    """
    return await retry_transient(
        lambda: _apply_once(deps, mql_id=mql_id, actor=actor, wanted=wanted),
        what=f"disposition of MQL {mql_id}",
    )


async def _apply_once(
    deps: Deps, *, mql_id: int, actor: str, wanted: Disposition
) -> Refusal | None:
    now = deps.clock()
    catalog = catalog_of(deps)
    config = deps.config
    async with deps.sessions() as session, session.begin():
        mql = await get_mql(session, mql_id=mql_id)
        if mql is None:
            return Refusal(mql_not_found(catalog), config.sdr_channel)
        manager = actor in config.managers
        if mql.owner_id is None or mql.state == MqlState.OPEN:
            return refusal_on_card(deps, mql, not_allowed_to_disposition(None, catalog))
        if not manager and actor != mql.owner_id:
            return refusal_on_card(deps, mql, not_allowed_to_disposition(mql.owner_id, catalog))
        current = DISPOSITION_OF.get(mql.state)
        if not manager and current is not None and current.locked:
            return refusal_on_card(deps, mql, catalog.t("ephemeral.disqualified_locked"))
        if _unchanged(mql, wanted):
            return None
        from_state = mql.state
        done = await claims.set_disposition(
            session,
            mql_id=mql_id,
            version=mql.version,
            disposition=wanted.state,
            actor=actor,
            now=now,
            owner_id=None if manager else actor,
            reason=wanted.reason,
            note=wanted.note,
            next_step=wanted.next_step,
            next_step_on=wanted.next_step_on,
            recycle_until=wanted.recycle_until,
        )
        if not done:
            return refusal_on_card(deps, mql, catalog.t("ephemeral.changed_meanwhile"))
        await session.refresh(mql)
        await follow_outcome(session, mql, DISPOSITION_OF[wanted.state].stage, now)
        reply = disposition_reply(
            actor,
            wanted.state.value,
            catalog,
            reason=wanted.reason,
            recycle_until=wanted.recycle_until,
            next_step=wanted.next_step,
            next_step_date=wanted.next_step_on,
            note=wanted.note,
        )
        change = Change(mql, "disposition", actor, from_state, reply, previous_owner=mql.owner_id)
        await publish(session, deps, change, now=now)
    return None


def _unchanged(mql: Mql, wanted: Disposition) -> bool:
    return bool(
        mql.state == wanted.state
        and mql.reason == wanted.reason
        and mql.note == wanted.note
        and mql.next_step == wanted.next_step
        and mql.next_step_on == wanted.next_step_on
        and mql.recycle_until == wanted.recycle_until
    )


async def handle_submission(*, ack: Ack, body: Body, client: AsyncWebClient, deps: Deps) -> None:
    """``view_submission`` of the four disposition modals."""
    catalog = catalog_of(deps)
    view = view_of(body)
    user = user_of(body)
    read = read_submission(str(view.get("callback_id")), view_values(body), deps, catalog)
    if isinstance(read, dict):
        await ack(response_action="errors", errors=read)
        return
    await ack()
    mql_id = parse_mql_id(view.get("private_metadata"))
    if mql_id is None:
        text = mql_not_found(catalog)
        await ephemeral(client, channel=deps.config.sdr_channel, user=user, text=text)
        return
    refusal = await apply_disposition(deps, mql_id=mql_id, actor=user, wanted=read)
    if refusal is not None:
        await ephemeral(client, channel=refusal.channel, user=user, text=refusal.text)


MODALS = tuple(spec.modal for spec in DISPOSITIONS)


def register(app: ListenerApp, deps: Deps) -> None:
    """Attach the disposition buttons, the recycle reason select and the modal submissions."""

    async def button(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_disposition_button(ack=ack, body=body, client=client, deps=deps)

    async def reason(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_recycle_reason(ack=ack, body=body, client=client, deps=deps)

    async def submission(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        await handle_submission(ack=ack, body=body, client=client, deps=deps)

    for action_id in BUTTONS:
        app.action(action_id)(button)
    app.action(ActionId.RECYCLE_REASON.value)(reason)
    for callback_id in MODALS:
        app.view(callback_id.value)(submission)
