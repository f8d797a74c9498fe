"""Every action_id, callback_id and input id the bot uses, shared by the builders and the listeners."""

from __future__ import annotations

from enum import StrEnum

# Slack caps option values at 150 characters; an opaque MQL id never comes close.
MAX_OPAQUE_ID_LENGTH = 100


class ActionId(StrEnum):
    """Ids the listeners register for.

    Buttons, overflow options and modals carry only the MQL id (as a string) in their ``value``
    or ``private_metadata``; the listener re-reads and re-checks everything server-side.
    """

    # Card buttons: value = MQL id.
    CLAIM = "mql_claim"
    DISPOSITION_SQL = "mql_disposition_sql"
    DISPOSITION_LEAD = "mql_disposition_lead"
    DISPOSITION_RECYCLED = "mql_disposition_recycled"
    DISPOSITION_DISQUALIFIED = "mql_disposition_disqualified"
    # "Not a real MQL": value = MQL id; its modal asks for a reason from [funnel] bad_mql_reasons.
    FLAG_BAD = "mql_flag_bad"
    # Card overflow for managers: option value = "<ManagerAction>:<MQL id>", see manager_value().
    MANAGER_MENU = "mql_manager_menu"

    # Modal callback ids (view_submission): private_metadata = MQL id.
    SQL_MODAL = "mql_sql_modal"
    LEAD_MODAL = "mql_lead_modal"
    RECYCLE_MODAL = "mql_recycle_modal"
    DISQUALIFY_MODAL = "mql_disqualify_modal"
    REASSIGN_MODAL = "mql_reassign_modal"
    FLAG_BAD_MODAL = "mql_flag_bad_modal"

    # Input elements inside the modals (action ids; the block ids are in BlockId).
    SQL_NOTE = "mql_sql_note"
    LEAD_NEXT_STEP = "mql_lead_next_step"
    LEAD_DATE = "mql_lead_date"
    # The recycle reason select dispatches block_actions so the listener can views.update the
    # return date with recycle_modal(..., default_reason=<selected>).
    RECYCLE_REASON = "mql_recycle_reason"
    RECYCLE_DATE = "mql_recycle_date"
    DISQUALIFY_REASON = "mql_disqualify_reason"
    DISQUALIFY_NOTE = "mql_disqualify_note"
    REASSIGN_USER = "mql_reassign_user"
    FLAG_BAD_REASON = "mql_flag_bad_reason"

    # App Home: link button to the card (Slack still sends block_actions for it: ack and ignore).
    HOME_OPEN_CARD = "home_open_card"


class BlockId(StrEnum):
    """Block ids of the modal input blocks (read them back with the parse_* helpers in blocks)."""

    SQL_NOTE = "mql_sql_note_block"
    LEAD_NEXT_STEP = "mql_lead_next_step_block"
    LEAD_DATE = "mql_lead_date_block"
    RECYCLE_REASON = "mql_recycle_reason_block"
    # Prefix only: the full id ends with the reason so that views.update resets the date picker.
    RECYCLE_DATE_PREFIX = "mql_recycle_date_block:"
    DISQUALIFY_REASON = "mql_disqualify_reason_block"
    DISQUALIFY_NOTE = "mql_disqualify_note_block"
    REASSIGN_USER = "mql_reassign_user_block"
    FLAG_BAD_REASON = "mql_flag_bad_reason_block"


class ManagerAction(StrEnum):
    """The options of the managers' overflow menu on a claimed card."""

    RELEASE = "release"
    REASSIGN = "reassign"
    REOPEN = "reopen"


def check_opaque_id(mql_id: str) -> str:
    """Return ``mql_id`` if it can travel in a button value, else raise ValueError saying why."""
    if not mql_id or len(mql_id) > MAX_OPAQUE_ID_LENGTH or ":" in mql_id:
        raise ValueError(
            f"MQL id {mql_id[:120]!r} cannot be used as a button value: it must be 1 to "
            f"{MAX_OPAQUE_ID_LENGTH} characters without ':'"
        )
    return mql_id


def manager_value(action: ManagerAction, mql_id: str) -> str:
    """The overflow option value for ``action`` on the card of ``mql_id``."""
    return f"{action.value}:{check_opaque_id(mql_id)}"


def parse_manager_value(value: str) -> tuple[ManagerAction, str]:
    """Split an overflow option value into (action, MQL id); ValueError for anything forged."""
    action, sep, mql_id = value.partition(":")
    if not sep or not mql_id:
        raise ValueError(f"manager menu value {value[:120]!r} is not '<action>:<mql id>'")
    try:
        parsed = ManagerAction(action)
    except ValueError:
        raise ValueError(f"manager menu value {value[:120]!r} names no known action") from None
    return parsed, check_opaque_id(mql_id)
