"""The disposition and reassign modals, and the readers of what the user submitted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from handlers.present.actions import ActionId, BlockId, check_opaque_id
from handlers.present.blocks._text import (
    MAX_HINT,
    MAX_LABEL,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    MAX_PLACEHOLDER,
    MAX_SELECT_OPTIONS,
    Block,
    esc,
    mrkdwn_text,
    plain_text,
)
from handlers.present.catalog import Catalog

NOTE_MAX_LENGTH: Final = 2000
"""Longest note or next step a user may type (Slack enforces it in the input)."""
NEXT_STEP_MAX_LENGTH: Final = 500
_OPTION_VALUE_MAX: Final = 150


def _modal(
    callback_id: ActionId, mql_id: str, title: str, blocks: list[Block], catalog: Catalog
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id.value,
        "private_metadata": check_opaque_id(mql_id),
        "title": plain_text(title, MAX_MODAL_TITLE),
        "submit": plain_text(catalog.t("modal.submit"), MAX_MODAL_TITLE),
        "close": plain_text(catalog.t("modal.cancel"), MAX_MODAL_TITLE),
        "blocks": blocks,
    }


def _about(lead_name: str | None, catalog: Catalog) -> list[Block]:
    if not lead_name or not lead_name.strip():
        return []
    text = catalog.t("modal.about", name=esc(lead_name, 500))
    return [{"type": "context", "elements": [mrkdwn_text(text)]}]


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = False) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain_text(label, MAX_LABEL),
        "element": element,
        "optional": optional,
    }


def _text_input(action: ActionId, *, multiline: bool, max_length: int) -> dict[str, Any]:
    return {
        "type": "plain_text_input",
        "action_id": action.value,
        "multiline": multiline,
        "max_length": max_length,
    }


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain_text(label, MAX_OPTION_TEXT), "value": value}


def _check_reason_keys(keys: Sequence[str], what: str) -> None:
    if not keys:
        raise ValueError(f"no {what} reasons configured: the modal needs at least one")
    if len(keys) > MAX_SELECT_OPTIONS:
        raise ValueError(f"{len(keys)} {what} reasons configured: Slack shows at most 100")
    for key in keys:
        if not key or len(key) > _OPTION_VALUE_MAX:
            raise ValueError(f"{what} reason key {key[:40]!r} must be 1 to 150 characters")


def sql_modal(mql_id: str, catalog: Catalog, *, lead_name: str | None = None) -> dict[str, Any]:
    """SQL: an optional note. Submit → ``ActionId.SQL_MODAL``; read with ``parse_sql``."""
    note = _text_input(ActionId.SQL_NOTE, multiline=True, max_length=NOTE_MAX_LENGTH)
    blocks = [
        *_about(lead_name, catalog),
        _input(BlockId.SQL_NOTE.value, catalog.t("modal.sql.note"), note, optional=True),
    ]
    return _modal(ActionId.SQL_MODAL, mql_id, catalog.t("modal.sql.title"), blocks, catalog)


def lead_modal(
    mql_id: str, catalog: Catalog, *, lead_name: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """Lead: next step (required) and its date (required; starts at ``today`` when given).

    Submit → ``ActionId.LEAD_MODAL``; read with ``parse_lead``.
    """
    step = _text_input(ActionId.LEAD_NEXT_STEP, multiline=False, max_length=NEXT_STEP_MAX_LENGTH)
    picker: dict[str, Any] = {"type": "datepicker", "action_id": ActionId.LEAD_DATE.value}
    if today is not None:
        picker["initial_date"] = today.isoformat()
    blocks = [
        *_about(lead_name, catalog),
        _input(BlockId.LEAD_NEXT_STEP.value, catalog.t("modal.lead.next_step"), step),
        _input(BlockId.LEAD_DATE.value, catalog.t("modal.lead.date"), picker),
    ]
    return _modal(ActionId.LEAD_MODAL, mql_id, catalog.t("modal.lead.title"), blocks, catalog)


def recycle_date_block_id(reason: str) -> str:
    """Block id of the return-date picker while ``reason`` is selected.

    It changes with the reason on purpose: Slack keeps a block's typed-in value across
    ``views.update`` when the block id stays the same, which would ignore the new default date.
    """
    return f"{BlockId.RECYCLE_DATE_PREFIX.value}{reason}"


def recycle_modal(
    mql_id: str,
    reasons: Mapping[str, timedelta],
    default_reason: str | None,
    today: date,
    catalog: Catalog,
    *,
    lead_name: str | None = None,
) -> dict[str, Any]:
    """Recycled: a reason (``[recycle.reasons]``) and the return date, default today + its period.

    The reason select has ``dispatch_action``: when the user picks another reason Slack sends
    ``block_actions`` with ``ActionId.RECYCLE_REASON``; the listener then calls
    ``views.update(view_id=…, hash=…, view=recycle_modal(…, default_reason=<selected>, …))``
    (the date block id changes with the reason, so the date resets to the new default). With
    ``default_reason=None`` the first configured reason is selected. Submit →
    ``ActionId.RECYCLE_MODAL``; read with ``parse_recycle``.
    """
    keys = list(reasons)
    _check_reason_keys(keys, "recycle")
    reason = keys[0] if default_reason is None else default_reason
    if reason not in reasons:
        raise ValueError(f"default recycle reason {reason!r} is not one of {keys}")
    options = [_option(key, catalog.recycle_reason_label(key)) for key in keys]
    select = {
        "type": "static_select",
        "action_id": ActionId.RECYCLE_REASON.value,
        "placeholder": plain_text(catalog.t("modal.choose"), MAX_PLACEHOLDER),
        "options": options,
        "initial_option": options[keys.index(reason)],
    }
    period = reasons[reason]
    try:
        return_date = today + timedelta(days=period.days)
    except OverflowError:
        raise ValueError(f"recycle period of {reason!r} ({period}) is too long") from None
    picker = {
        "type": "datepicker",
        "action_id": ActionId.RECYCLE_DATE.value,
        "initial_date": return_date.isoformat(),
    }
    hint = catalog.t(
        "modal.recycle.hint", reason=catalog.recycle_reason_label(reason), days=period.days
    )
    reason_block = _input(BlockId.RECYCLE_REASON.value, catalog.t("modal.recycle.reason"), select)
    reason_block["dispatch_action"] = True
    date_block = _input(recycle_date_block_id(reason), catalog.t("modal.recycle.date"), picker)
    date_block["hint"] = plain_text(hint, MAX_HINT)
    blocks = [*_about(lead_name, catalog), reason_block, date_block]
    title = catalog.t("modal.recycle.title")
    return _modal(ActionId.RECYCLE_MODAL, mql_id, title, blocks, catalog)


def disqualify_modal(
    mql_id: str, reasons: Sequence[str], catalog: Catalog, *, lead_name: str | None = None
) -> dict[str, Any]:
    """Disqualified: a reason (``[disqualify] reasons``) and an optional note.

    Submit → ``ActionId.DISQUALIFY_MODAL``; read with ``parse_disqualify``.
    """
    keys = list(reasons)
    _check_reason_keys(keys, "disqualify")
    select = {
        "type": "static_select",
        "action_id": ActionId.DISQUALIFY_REASON.value,
        "placeholder": plain_text(catalog.t("modal.choose"), MAX_PLACEHOLDER),
        "options": [_option(key, catalog.disqualify_reason_label(key)) for key in keys],
    }
    note = _text_input(ActionId.DISQUALIFY_NOTE, multiline=True, max_length=NOTE_MAX_LENGTH)
    blocks = [
        *_about(lead_name, catalog),
        _input(BlockId.DISQUALIFY_REASON.value, catalog.t("modal.disqualify.reason"), select),
        _input(
            BlockId.DISQUALIFY_NOTE.value, catalog.t("modal.disqualify.note"), note, optional=True
        ),
    ]
    title = catalog.t("modal.disqualify.title")
    return _modal(ActionId.DISQUALIFY_MODAL, mql_id, title, blocks, catalog)


def flag_bad_modal(mql_id: str, reasons: Sequence[str], catalog: Catalog) -> dict[str, Any]:
    """Not a real MQL: why (``[funnel] bad_mql_reasons``). Submit → ``ActionId.FLAG_BAD_MODAL``."""
    keys = list(reasons)
    _check_reason_keys(keys, "bad MQL")
    select = {
        "type": "static_select",
        "action_id": ActionId.FLAG_BAD_REASON.value,
        "placeholder": plain_text(catalog.t("modal.choose"), MAX_PLACEHOLDER),
        "options": [_option(key, catalog.bad_mql_reason_label(key)) for key in keys],
    }
    blocks = [_input(BlockId.FLAG_BAD_REASON.value, catalog.t("modal.flag_bad.reason"), select)]
    return _modal(
        ActionId.FLAG_BAD_MODAL, mql_id, catalog.t("modal.flag_bad.title"), blocks, catalog
    )


def parse_flag_bad(values: Mapping[str, Any]) -> str | None:
    """The reason chosen in the "not a real MQL" modal."""
    return _selected(values, BlockId.FLAG_BAD_REASON.value, ActionId.FLAG_BAD_REASON)


def reassign_modal(
    mql_id: str,
    catalog: Catalog,
    *,
    current_owner: str | None = None,
    lead_name: str | None = None,
) -> dict[str, Any]:
    """Managers: pick the new owner. Submit → ``ActionId.REASSIGN_MODAL``; read with ``parse_reassign``."""
    select: dict[str, Any] = {"type": "users_select", "action_id": ActionId.REASSIGN_USER.value}
    if current_owner:
        select["initial_user"] = current_owner
    blocks = [
        *_about(lead_name, catalog),
        _input(BlockId.REASSIGN_USER.value, catalog.t("modal.reassign.user"), select),
    ]
    title = catalog.t("modal.reassign.title")
    return _modal(ActionId.REASSIGN_MODAL, mql_id, title, blocks, catalog)


# Reading submissions: ``values`` is ``view["state"]["values"]`` of the view_submission payload.


@dataclass(frozen=True)
class SqlInput:
    note: str | None


@dataclass(frozen=True)
class LeadInput:
    next_step: str
    next_step_date: date


@dataclass(frozen=True)
class RecycleInput:
    reason: str
    return_date: date


@dataclass(frozen=True)
class DisqualifyInput:
    reason: str
    note: str | None


@dataclass(frozen=True)
class ReassignInput:
    user_id: str


def _element(values: Mapping[str, Any], block_id: str, action: ActionId) -> Mapping[str, Any]:
    block = values.get(block_id)
    element = block.get(action.value) if isinstance(block, Mapping) else None
    if not isinstance(element, Mapping):
        raise ValueError(f"submission has no {block_id}/{action.value} input")
    return element


def _text(values: Mapping[str, Any], block_id: str, action: ActionId) -> str | None:
    value = _element(values, block_id, action).get("value")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"input {action.value} is not text")
    return value.strip() if value and value.strip() else None


def _selected(values: Mapping[str, Any], block_id: str, action: ActionId) -> str:
    option = _element(values, block_id, action).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"no option selected in {action.value}")
    return value


def _date(values: Mapping[str, Any], block_id: str, action: ActionId) -> date:
    raw = _element(values, block_id, action).get("selected_date")
    if not isinstance(raw, str):
        raise ValueError(f"no date picked in {action.value}")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"date {raw[:20]!r} in {action.value} is not YYYY-MM-DD") from None


def parse_sql(values: Mapping[str, Any]) -> SqlInput:
    """The SQL modal's note (None when left empty)."""
    return SqlInput(note=_text(values, BlockId.SQL_NOTE.value, ActionId.SQL_NOTE))


def parse_lead(values: Mapping[str, Any]) -> LeadInput:
    """The Lead modal's next step and date; ValueError naming what is missing."""
    step = _text(values, BlockId.LEAD_NEXT_STEP.value, ActionId.LEAD_NEXT_STEP)
    if step is None:
        raise ValueError("the next step is empty")
    return LeadInput(step, _date(values, BlockId.LEAD_DATE.value, ActionId.LEAD_DATE))


def parse_recycle(values: Mapping[str, Any]) -> RecycleInput:
    """The Recycle modal's reason and return date (the date block id depends on the reason).

    The listener must still check the reason against the configured ones and the date against
    today (answer ``response_action: errors`` with the block id from ``recycle_date_block_id``).
    """
    reason = _selected(values, BlockId.RECYCLE_REASON.value, ActionId.RECYCLE_REASON)
    date_blocks = [key for key in values if key.startswith(BlockId.RECYCLE_DATE_PREFIX.value)]
    if len(date_blocks) != 1:
        raise ValueError("submission has no single recycle return date input")
    return RecycleInput(reason, _date(values, date_blocks[0], ActionId.RECYCLE_DATE))


def parse_disqualify(values: Mapping[str, Any]) -> DisqualifyInput:
    """The Disqualify modal's reason and optional note."""
    reason = _selected(values, BlockId.DISQUALIFY_REASON.value, ActionId.DISQUALIFY_REASON)
    note = _text(values, BlockId.DISQUALIFY_NOTE.value, ActionId.DISQUALIFY_NOTE)
    return DisqualifyInput(reason, note)


def parse_reassign(values: Mapping[str, Any]) -> ReassignInput:
    """The Reassign modal's chosen user."""
    user = _element(values, BlockId.REASSIGN_USER.value, ActionId.REASSIGN_USER).get(
        "selected_user"
    )
    if not isinstance(user, str) or not user:
        raise ValueError("no user selected in the reassign modal")
    return ReassignInput(user)
