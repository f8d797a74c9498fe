"""An outbox row's payload as Web API arguments: message fields, the row's marker, file content."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from bot.sender.policy import PayloadError

MARKER_KEY = "mqlbot_outbox_key"
MARKER_EVENT_TYPE = "mqlbot_outbox"
MESSAGE_FIELDS = ("text", "blocks", "attachments", "unfurl_links", "unfurl_media", "mrkdwn")


def with_marker(metadata: Any, key: str) -> dict[str, Any]:
    """The message metadata carrying the row's marker (kept beside the caller's own metadata)."""
    if metadata is not None and not isinstance(metadata, dict):
        raise PayloadError("metadata must be an object with event_type and event_payload")
    meta = dict(metadata or {})
    event_payload = dict(meta.get("event_payload") or {})
    event_payload[MARKER_KEY] = key
    meta.setdefault("event_type", MARKER_EVENT_TYPE)
    meta["event_payload"] = event_payload
    return meta


def marker_of(message: dict[str, Any]) -> Any:
    """The outbox key a message in Slack carries in its metadata, if any."""
    return ((message.get("metadata") or {}).get("event_payload") or {}).get(MARKER_KEY)


def message_args(payload: dict[str, Any]) -> dict[str, Any]:
    """The chat.postMessage arguments a row's payload gives (text or blocks at least)."""
    args = {k: payload[k] for k in MESSAGE_FIELDS if payload.get(k) is not None}
    if "text" not in args and "blocks" not in args:
        raise PayloadError("a message needs text or blocks")
    return args


def upload_content(payload: dict[str, Any]) -> bytes:
    """The bytes of an upload row's file."""
    # Files travel inside the row (base64 or text): a path would only exist on one replica.
    if "content_b64" in payload:
        try:
            return base64.b64decode(str(payload["content_b64"]), validate=True)
        except binascii.Error as exc:
            raise PayloadError(f"content_b64 is not base64: {exc}") from exc
    if isinstance(payload.get("content"), str):
        return str(payload["content"]).encode()
    raise PayloadError("an upload needs content_b64 (base64) or content (text)")
