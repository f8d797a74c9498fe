"""One small delivery function per outbox kind, looked up by the row's kind."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from bot.sender.lookup import already_updated, find_posted
from bot.sender.payloads import message_args, upload_content, with_marker
from bot.sender.policy import Delivered, PayloadError, TargetNotReady, WebhookError
from bot.sender.signing import sign_webhook
from bot.sender.wire import Wire
from store.models import OutboxKind
from store.outbox import ClaimedRow

log = logging.getLogger(__name__)

Deliver = Callable[[Wire, ClaimedRow], Awaitable[Delivered]]
"""Send one leased row; raise on failure (the retry policy classifies the exception)."""


async def post_message(
    wire: Wire, row: ClaimedRow, channel: str, thread_ts: str | None = None
) -> Delivered:
    """chat.postMessage with the row's marker, unless a lost attempt already posted it."""
    if row.in_doubt_since is not None:
        found = await find_posted(wire, row, channel, thread_ts)
        if found is not None:
            log.info("outbox #%d was already posted (ts %s): not sending again", row.id, found)
            return Delivered(channel, found, found=True)
    args = message_args(row.payload)
    if thread_ts is not None:
        args["thread_ts"] = thread_ts
        if row.payload.get("reply_broadcast"):
            args["reply_broadcast"] = True
    response = await wire.api(
        "chat.postMessage",
        wire.client.chat_postMessage(
            channel=channel,
            metadata=with_marker(row.payload.get("metadata"), row.dedupe_key),
            **args,
        ),
    )
    return Delivered(str(response["channel"]), str(response["ts"]))


def _target(row: ClaimedRow) -> tuple[str, str]:
    if row.target_channel is None or row.target_ts is None:
        raise TargetNotReady(f"target {row.target_key} has no Slack message yet")
    return row.target_channel, row.target_ts


async def deliver_post(wire: Wire, row: ClaimedRow) -> Delivered:
    """A new message (a card, a digest) in the row's channel."""
    if not row.channel:
        raise PayloadError("a post needs a channel")
    return await post_message(wire, row, row.channel)


async def deliver_reply(wire: Wire, row: ClaimedRow) -> Delivered:
    """A reply in the thread of the row's target (a card)."""
    channel, ts = _target(row)
    return await post_message(wire, row, channel, ts)


async def deliver_update(wire: Wire, row: ClaimedRow) -> Delivered:
    """chat.update of the row's target, unless a lost attempt already applied it."""
    channel, ts = _target(row)
    if row.in_doubt_since is not None and await already_updated(wire, row, channel, ts):
        log.info("outbox #%d was already applied to %s: not sending again", row.id, ts)
        return Delivered(channel, ts, found=True)
    payload = row.payload
    # Always send blocks: chat.update without them keeps the old ones (stale buttons).
    # The marker replaces the message's metadata, so the last applied update is known.
    response = await wire.api(
        "chat.update",
        wire.client.chat_update(
            channel=channel,
            ts=ts,
            text=payload.get("text"),
            blocks=payload.get("blocks") or [],
            metadata=with_marker(payload.get("metadata"), row.dedupe_key),
        ),
    )
    return Delivered(str(response["channel"]), str(response["ts"]))


async def deliver_dm(wire: Wire, row: ClaimedRow) -> Delivered:
    """A direct message: open the conversation with the user, then post into it."""
    user = row.payload.get("user") or row.channel
    if not user:
        raise PayloadError("a dm needs payload.user (a user id)")
    opened = await wire.api("conversations.open", wire.client.conversations_open(users=str(user)))
    return await post_message(wire, row, str(opened["channel"]["id"]))


async def deliver_home(wire: Wire, row: ClaimedRow) -> Delivered:
    """views.publish of a user's App Home tab (idempotent: never looked up)."""
    user = row.payload.get("user_id") or row.payload.get("user")
    view = row.payload.get("view")
    if not user or not isinstance(view, dict):
        raise PayloadError("a home tab needs payload.user_id and payload.view")
    await wire.api("views.publish", wire.client.views_publish(user_id=str(user), view=view))
    return Delivered()


async def deliver_upload(wire: Wire, row: ClaimedRow) -> Delivered:
    """A file (the digest's chart) shared into the row's channel."""
    payload = row.payload
    if not row.channel or not payload.get("filename"):
        raise PayloadError("an upload needs a channel and payload.filename")
    args: dict[str, Any] = {
        "channel": row.channel,
        "filename": str(payload["filename"]),
        "content": upload_content(payload),
        "title": str(payload.get("title") or payload["filename"]),
    }
    if payload.get("initial_comment"):
        args["initial_comment"] = str(payload["initial_comment"])
    await wire.api("files.upload_v2", wire.client.files_upload_v2(**args))
    return Delivered(row.channel)


async def deliver_webhook(wire: Wire, row: ClaimedRow) -> Delivered:
    """The row's payload POSTed to the CRM webhook, signed when a secret is configured."""
    runtime = wire.runtime
    url = runtime.config.crm_webhook_url
    if not url:
        raise PayloadError("no [crm] webhook_url is configured")
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-MQLBot-Delivery": row.dedupe_key}
    secret = runtime.settings.crm_webhook_secret
    if secret is not None:
        timestamp = int(runtime.clock().timestamp())
        headers.update(sign_webhook(secret.get_secret_value(), timestamp, body))
    async with wire.http.post(url, data=body, headers=headers) as response:
        outcome = "ok" if response.status < 300 else str(response.status)
        runtime.metrics.slack_calls.labels(method="crm.webhook", outcome=outcome).inc()
        if response.status >= 300:
            raise WebhookError(response.status, response.headers.get("Retry-After"))
    return Delivered()


DELIVERIES: Final[Mapping[OutboxKind, Deliver]] = MappingProxyType(
    {
        OutboxKind.POST: deliver_post,
        OutboxKind.REPLY: deliver_reply,
        OutboxKind.UPDATE: deliver_update,
        OutboxKind.DM: deliver_dm,
        OutboxKind.HOME: deliver_home,
        OutboxKind.UPLOAD: deliver_upload,
        OutboxKind.WEBHOOK: deliver_webhook,
    }
)
"""How each kind is sent; a test checks that every OutboxKind has one."""


async def deliver(wire: Wire, row: ClaimedRow) -> Delivered:
    """Send one leased row by its kind's delivery."""
    return await DELIVERIES[row.kind](wire, row)
