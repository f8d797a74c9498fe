"""Reading Slack interaction payloads and answering the clicker: ids, channel, ephemerals."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import Deps
from store.models import Mql

log = logging.getLogger(__name__)

Ack = Callable[..., Awaitable[Any]]
"""Bolt's ``ack`` (``AsyncAck``) or a test's recording stand-in."""

Body = Mapping[str, Any]


@dataclass(frozen=True)
class Refusal:
    """Why nothing changed, and the channel where the clicker is told (ephemerally)."""

    text: str
    channel: str


def refusal_on_card(deps: Deps, mql: Mql, text: str) -> Refusal:
    """A refusal shown in the card's channel (the SDR channel while the card is not posted)."""
    return Refusal(text, mql.slack_channel or deps.config.sdr_channel)


# Database ids fit in a signed 64-bit integer; anything longer is not one of ours.
_MAX_ID_DIGITS = 18


def parse_mql_id(value: object) -> int | None:
    """The MQL id a button value or ``private_metadata`` carries; None for anything else."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    if len(value) > _MAX_ID_DIGITS or int(value) < 1:
        return None
    return int(value)


def user_of(body: Body) -> str:
    """The id of the user who clicked or submitted (Slack signs it: it is trusted)."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("Slack payload has no user.id")
    return user_id


def channel_of(body: Body) -> str | None:
    """The channel of the clicked message, when the payload has one."""
    channel = body.get("channel")
    if isinstance(channel, Mapping) and isinstance(channel.get("id"), str):
        return str(channel["id"])
    container = body.get("container")
    if isinstance(container, Mapping) and isinstance(container.get("channel_id"), str):
        return str(container["channel_id"])
    return None


def first_action(body: Body) -> Mapping[str, Any]:
    """The clicked element of a ``block_actions`` payload (an empty mapping when missing)."""
    actions = body.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], Mapping):
        return actions[0]
    return {}


def selected_value(action: Mapping[str, Any]) -> str | None:
    """The value of a select's or overflow's chosen option."""
    option = action.get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


def view_of(body: Body) -> Mapping[str, Any]:
    """The modal of a ``view_submission`` or of a ``block_actions`` inside a modal."""
    view = body.get("view")
    return view if isinstance(view, Mapping) else {}


def view_values(body: Body) -> Mapping[str, Any]:
    """``view.state.values`` of a submission."""
    state = view_of(body).get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def trigger_of(body: Body) -> str | None:
    """The trigger id a click carries (it opens a modal within 3 s)."""
    trigger = body.get("trigger_id")
    return trigger if isinstance(trigger, str) and trigger else None


async def ephemeral(client: AsyncWebClient, *, channel: str, user: str, text: str) -> None:
    """Instant feedback only the clicker sees (sent directly: losing it loses nothing).

    Slack refuses ephemerals to someone outside the channel (a public card seen without
    joining); that is logged, not raised, since nothing about the MQL depends on it.
    """
    try:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
    except SlackApiError as exc:
        log.info(
            "could not show %s an ephemeral in %s: %s", user, channel, exc.response.get("error")
        )
