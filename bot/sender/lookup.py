"""Was an in-doubt row delivered by the attempt that never reported back? Look for its marker in Slack."""

from __future__ import annotations

import logging
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from bot.sender.payloads import marker_of
from bot.sender.wire import Wire
from store.outbox import ClaimedRow

log = logging.getLogger(__name__)

# Answers to a history lookup meaning "cannot look": fall back to sending again.
LOOKUP_UNAVAILABLE = frozenset({"missing_scope", "unknown_method", "not_in_channel", "not_allowed"})
HISTORY_PAGES = 5


def _cannot_look(exc: SlackApiError) -> str | None:
    """The Slack error when a lookup is impossible (no scope, not in the channel), else None."""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict) and data.get("error") in LOOKUP_UNAVAILABLE:
        return str(data.get("error"))
    return None


async def find_posted(
    wire: Wire, row: ClaimedRow, channel: str, thread_ts: str | None
) -> str | None:
    """The ts of this row's message if a lost attempt did post it, else None."""
    assert row.in_doubt_since is not None
    client = wire.client
    # A minute of slack for clock skew between this host and Slack.
    oldest = f"{(row.in_doubt_since - timedelta(minutes=1)).timestamp():.6f}"
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        try:
            if thread_ts is None:
                page = await wire.api(
                    "conversations.history",
                    client.conversations_history(
                        channel=channel, oldest=oldest, limit=200, cursor=cursor,
                        include_all_metadata=True,
                    ),
                )  # fmt: skip
            else:
                page = await wire.api(
                    "conversations.replies",
                    client.conversations_replies(
                        channel=channel, ts=thread_ts, oldest=oldest, limit=200,
                        cursor=cursor, include_all_metadata=True,
                    ),
                )  # fmt: skip
        except SlackApiError as exc:
            error = _cannot_look(exc)
            if error is None:
                raise
            log.warning(
                "outbox #%d may already be in Slack but %s cannot be read (%s): sending it again",
                row.id, channel, error,
            )  # fmt: skip
            return None
        for message in page.get("messages") or []:
            if marker_of(message) == row.dedupe_key:
                return str(message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return None


async def already_updated(wire: Wire, row: ClaimedRow, channel: str, ts: str) -> bool:
    """Whether the message already carries this update's marker (its answer was lost)."""
    try:
        page = await wire.api(
            "conversations.history",
            wire.client.conversations_history(
                channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1,
                include_all_metadata=True,
            ),
        )  # fmt: skip
    except SlackApiError as exc:
        if _cannot_look(exc) is not None:
            return False  # chat.update is idempotent: applying it again is harmless
        raise
    return any(
        message.get("ts") == ts and marker_of(message) == row.dedupe_key
        for message in page.get("messages") or []
    )
