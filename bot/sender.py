"""The sender: drains the outbox to Slack and the CRM webhook, paced per channel, retried, never twice.

Delivery guarantee. A row is leased before it is sent and marked sent in its own transaction
right after Slack answers, so a sent row is never sent again. One window remains: the process
dies (or loses its database) after Slack accepted a message but before that commit. The lease
then expires and the row is "in doubt". Before re-sending an in-doubt post, reply or DM, the
sender looks for its marker (``metadata.event_payload.mqlbot_outbox_key``) in the channel or
thread with conversations.history / conversations.replies, and records the message it finds
instead of posting again; an in-doubt card update is skipped when the card already carries its
marker. Only if that lookup is impossible (no history scope) is the row sent again (at least
once; for an update that is harmless, it is idempotent). Home tabs are idempotent; uploads and
CRM webhooks in doubt are re-sent (the webhook carries ``X-MQLBot-Delivery`` so the receiver
can drop the repeat).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.settings import Settings
from store.outbox import (
    ClaimBatch,
    ClaimedRow,
    claim_due,
    hold_channel,
    mark_dead,
    mark_sent,
    pending_count,
    schedule_retry,
)

log = logging.getLogger(__name__)

MARKER_KEY = "mqlbot_outbox_key"
MARKER_EVENT_TYPE = "mqlbot_outbox"
# Slack errors worth another attempt: Slack's own trouble, and credentials an operator can fix.
TRANSIENT_ERRORS = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
    }
)
# Answers to a history lookup meaning "cannot look": fall back to sending again.
LOOKUP_UNAVAILABLE = frozenset({"missing_scope", "unknown_method", "not_in_channel", "not_allowed"})
HISTORY_PAGES = 5
MESSAGE_FIELDS = ("text", "blocks", "attachments", "unfurl_links", "unfurl_media", "mrkdwn")


@dataclass(frozen=True)
class SenderOptions:
    """How the sender drains: the [sender] settings plus knobs tests and benchmarks turn."""

    max_attempts: int = 8
    per_channel_interval: timedelta = timedelta(seconds=1)
    poll_interval: timedelta = timedelta(milliseconds=200)
    # Longer than any one send (HTTP timeout included), so a live sender never loses its lease.
    lease: timedelta = timedelta(seconds=60)
    http_timeout: float = 20.0
    batch: int = 32
    concurrency: int = 8
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_cap: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.lease.total_seconds() <= self.http_timeout:
            raise ValueError(
                f"sender lease ({self.lease}) must be longer than the HTTP timeout "
                f"({self.http_timeout}s), or a slow answer could be sent twice"
            )
        if self.batch < 1 or self.concurrency < 1:
            raise ValueError("sender batch and concurrency must be >= 1")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SenderOptions:
        s = settings.sender
        return replace(
            cls(
                max_attempts=s.max_attempts,
                per_channel_interval=s.per_channel_interval,
                poll_interval=s.poll_interval,
            ),
            **overrides,
        )


@dataclass
class DrainReport:
    """What one drain pass did."""

    claimed: int = 0
    sent: int = 0
    # In-doubt rows whose message was found already in Slack (recorded, not re-sent).
    recovered: int = 0
    retried: int = 0
    rate_limited: int = 0
    dead: int = 0
    paced_until: datetime | None = None
    outcomes: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivered:
    """Slack (or the CRM) accepted the row; `found` when it was already there from a lost attempt."""

    channel: str | None = None
    ts: str | None = None
    found: bool = False


@dataclass(frozen=True)
class Retry:
    """Try again later: after exactly `after` when given (Retry-After), else after a backoff."""

    error: str
    after: timedelta | None = None
    rate_limited: bool = False
    # No answer came (timeout, cut connection): the call may have taken effect.
    in_doubt: bool = False


@dataclass(frozen=True)
class GiveUp:
    """A permanent error: the row is dead-lettered at once."""

    error: str


Outcome = Delivered | Retry | GiveUp


class PayloadError(ValueError):
    """The row's payload cannot be sent as it is (a bug in whoever queued it)."""


class TargetNotReady(Exception):
    """The message an update or reply belongs to has no Slack ts yet."""


class WebhookError(Exception):
    """The CRM answered the outbound webhook with a non-2xx status."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"CRM webhook answered HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def backoff_delay(attempt: int, *, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """Exponential backoff for the `attempt`-th failure, with `jitter` in [0, 1) spreading the
    delay over its upper half so that replicas do not retry in lockstep."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    ceiling: timedelta = min(cap, base * (2 ** min(attempt - 1, 30)))
    return ceiling * (0.5 + jitter / 2)


def _retry_after(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return timedelta(seconds=max(0.0, seconds))


def classify(exc: BaseException) -> Outcome:
    """Turn a failed call into the decision: retry (when, and whether it was a rate limit) or give up."""
    if isinstance(exc, SlackApiError):
        response: Any = exc.response
        status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
        data = getattr(response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        headers = getattr(response, "headers", None) or {}
        after = _retry_after(headers.get("Retry-After"))
        what = f"{error or 'HTTP ' + str(status)}"
        if status == 429 or error == "ratelimited":
            return Retry(f"rate limited: {what}", after or timedelta(seconds=1), rate_limited=True)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return Retry(f"Slack answered {status}: {what}", after)
        detail = (
            data.get("errors") or data.get("response_metadata") if isinstance(data, dict) else None
        )
        return GiveUp(f"{what}{' ' + json.dumps(detail, ensure_ascii=False) if detail else ''}")
    if isinstance(exc, WebhookError):
        if exc.status == 429:
            after = _retry_after(exc.retry_after) or timedelta(seconds=1)
            return Retry(str(exc), after, rate_limited=True)
        if exc.status >= 500 or exc.status == 408:
            return Retry(str(exc), _retry_after(exc.retry_after))
        return GiveUp(str(exc))
    if isinstance(exc, PayloadError | SlackRequestError):
        return GiveUp(f"bad payload: {exc}")
    if isinstance(exc, TargetNotReady):
        return Retry(str(exc))
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        # Only a refused connection proves the request never left; anything else may have landed.
        unsent = isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError)
        error = f"network error: {type(exc).__name__}: {exc}".rstrip(": ")
        return Retry(error, in_doubt=not unsent)
    return Retry(f"unexpected error: {type(exc).__name__}: {exc}")


def _call_outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "ok"
    decision = classify(exc)
    if isinstance(decision, Retry) and decision.rate_limited:
        return "ratelimited"
    if isinstance(exc, SlackApiError):
        return "server_error" if isinstance(decision, Retry) else "error"
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return "network_error"
    return "error"


def sign_webhook(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signature headers of our outbound webhook, the same scheme as the inbound one."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "X-MQLBot-Timestamp": str(timestamp),
        "X-MQLBot-Signature": f"sha256={mac.hexdigest()}",
    }


def _with_marker(metadata: Any, key: str) -> dict[str, Any]:
    """The message metadata carrying the row's marker (kept beside the caller's own metadata)."""
    if metadata is not None and not isinstance(metadata, dict):
        raise PayloadError("metadata must be an object with event_type and event_payload")
    meta = dict(metadata or {})
    event_payload = dict(meta.get("event_payload") or {})
    event_payload[MARKER_KEY] = key
    meta.setdefault("event_type", MARKER_EVENT_TYPE)
    meta["event_payload"] = event_payload
    return meta


def _message_args(payload: dict[str, Any]) -> dict[str, Any]:
    args = {k: payload[k] for k in MESSAGE_FIELDS if payload.get(k) is not None}
    if "text" not in args and "blocks" not in args:
        raise PayloadError("a message needs text or blocks")
    return args


def _upload_content(payload: dict[str, Any]) -> bytes:
    # Files travel inside the row (base64 or text): a path would only exist on one replica.
    if "content_b64" in payload:
        try:
            return base64.b64decode(str(payload["content_b64"]), validate=True)
        except binascii.Error as exc:
            raise PayloadError(f"content_b64 is not base64: {exc}") from exc
    if isinstance(payload.get("content"), str):
        return str(payload["content"]).encode()
    raise PayloadError("an upload needs content_b64 (base64) or content (text)")


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Sender:
    """One process's sender: claims due rows, sends them, records each outcome at once."""

    def __init__(
        self,
        runtime: Runtime,
        options: SenderOptions | None = None,
        *,
        worker_id: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.runtime = runtime
        self.options = options or SenderOptions.from_settings(runtime.settings)
        self.worker_id = worker_id or _worker_id()
        self._rng = rng or random.Random()
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        # Channels this process got a 429 for, until when: a post leased ahead of its slot
        # checks here before going out.
        self._held: dict[str, datetime] = {}

    async def __aenter__(self) -> Sender:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.options.http_timeout)
        )
        base = self.runtime.slack
        # Our own client without slack_sdk's retry handlers: the outbox owns every retry.
        self._client = AsyncWebClient(
            token=base.token,
            base_url=base.base_url,
            timeout=int(self.options.http_timeout),
            session=self._session,
            retry_handlers=[],
        )
        s = self.runtime.settings
        if self.runtime.config.crm_webhook_url and s.crm_webhook_secret is None:
            log.warning(
                "crm webhook_url is set but MQLBOT_CRM_WEBHOOK_SECRET is not: "
                "state changes go to the CRM unsigned"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:
            raise RuntimeError("use the Sender as an async context manager")
        return self._client

    # ----- the database side ---------------------------------------------------------------

    async def claim(
        self, now: datetime, limit: int, lookahead: timedelta = timedelta(0)
    ) -> ClaimBatch:
        """Lease due rows to this sender; dead-letter the ones that can never be sent."""
        async with self.runtime.sessions() as session, session.begin():
            batch = await claim_due(
                session,
                now=now,
                worker=self.worker_id,
                lease=self.options.lease,
                limit=limit,
                per_channel_interval=self.options.per_channel_interval,
                max_attempts=self.options.max_attempts,
                lookahead=lookahead,
            )
        for dead in batch.dead:
            self._dead_letter_logged(dead.id, dead.kind, dead.error)
        return batch

    async def refresh_depth(self) -> int:
        async with self.runtime.sessions() as session:
            depth = await pending_count(session)
        self.runtime.metrics.outbox_depth.set(depth)
        return depth

    def _dead_letter_logged(self, row_id: int, kind: str, error: str) -> None:
        self.runtime.metrics.outbox_dead.labels(kind=kind).inc()
        log.error("outbox #%d (%s) dead-lettered: %s", row_id, kind, error)

    async def _record(self, row: ClaimedRow, outcome: Outcome, now: datetime) -> str:
        opts = self.options
        async with self.runtime.sessions() as session, session.begin():
            if isinstance(outcome, Delivered):
                if not await mark_sent(
                    session, row_id=row.id, now=now, channel=outcome.channel, ts=outcome.ts
                ):
                    log.warning("outbox #%d was already finished elsewhere", row.id)
                self.runtime.metrics.send_latency.observe(
                    max(0.0, (now - row.created_at).total_seconds())
                )
                return "recovered" if outcome.found else "sent"
            if isinstance(outcome, Retry) and (
                outcome.rate_limited or row.attempt < opts.max_attempts
            ):
                delay = outcome.after or backoff_delay(
                    row.attempt, base=opts.backoff_base, cap=opts.backoff_cap,
                    jitter=self._rng.random(),
                )  # fmt: skip
                retry_at = now + delay
                # A row in doubt stays so until it is delivered: a failed lookup proves nothing.
                # A fresh doubt dates from one HTTP timeout before the attempt's outcome.
                doubt = row.in_doubt_since
                if doubt is None and outcome.in_doubt:
                    doubt = now - timedelta(seconds=opts.http_timeout)
                await schedule_retry(
                    session,
                    row_id=row.id,
                    retry_at=retry_at,
                    error=outcome.error,
                    count_attempt=not outcome.rate_limited,
                    in_doubt_since=doubt,
                )
                channel = row.target_channel if row.kind == "reply" else row.channel
                if outcome.rate_limited and row.kind in ("post", "reply") and channel:
                    await hold_channel(session, channel=channel, until=retry_at)
                    self._held[channel] = max(retry_at, self._held.get(channel, retry_at))
                return "rate_limited" if outcome.rate_limited else "retried"
            error = outcome.error
            if isinstance(outcome, Retry):
                error = f"gave up after {row.attempt} attempts: {error}"
            await mark_dead(session, row_id=row.id, now=now, error=error)
        self._dead_letter_logged(row.id, row.kind, error)
        return "dead"

    # ----- the Slack side ------------------------------------------------------------------

    async def _api(self, method: str, call: Awaitable[Any]) -> Any:
        try:
            response = await call
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.runtime.metrics.slack_calls.labels(
                    method=method, outcome=_call_outcome(exc)
                ).inc()
            raise
        self.runtime.metrics.slack_calls.labels(method=method, outcome="ok").inc()
        return response

    async def _find_posted(
        self, row: ClaimedRow, channel: str, thread_ts: str | None
    ) -> str | None:
        """The ts of this row's message if a lost attempt did post it, else None."""
        assert row.in_doubt_since is not None
        # A minute of slack for clock skew between this host and Slack.
        oldest = f"{(row.in_doubt_since - timedelta(minutes=1)).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            try:
                if thread_ts is None:
                    page = await self._api(
                        "conversations.history",
                        self.client.conversations_history(
                            channel=channel, oldest=oldest, limit=200, cursor=cursor,
                            include_all_metadata=True,
                        ),
                    )  # fmt: skip
                else:
                    page = await self._api(
                        "conversations.replies",
                        self.client.conversations_replies(
                            channel=channel, ts=thread_ts, oldest=oldest, limit=200,
                            cursor=cursor, include_all_metadata=True,
                        ),
                    )  # fmt: skip
            except SlackApiError as exc:
                data = getattr(exc.response, "data", None)
                if isinstance(data, dict) and data.get("error") in LOOKUP_UNAVAILABLE:
                    log.warning(
                        "outbox #%d may already be in Slack but %s cannot be read (%s): "
                        "sending it again",
                        row.id, channel, data.get("error"),
                    )  # fmt: skip
                    return None
                raise
            for message in page.get("messages") or []:
                payload = (message.get("metadata") or {}).get("event_payload") or {}
                if payload.get(MARKER_KEY) == row.dedupe_key:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return None

    async def _already_updated(self, row: ClaimedRow, channel: str, ts: str) -> bool:
        """Whether the message already carries this update's marker (its answer was lost)."""
        try:
            page = await self._api(
                "conversations.history",
                self.client.conversations_history(
                    channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1,
                    include_all_metadata=True,
                ),
            )  # fmt: skip
        except SlackApiError as exc:
            data = getattr(exc.response, "data", None)
            if isinstance(data, dict) and data.get("error") in LOOKUP_UNAVAILABLE:
                return False  # chat.update is idempotent: applying it again is harmless
            raise
        for message in page.get("messages") or []:
            marker = ((message.get("metadata") or {}).get("event_payload") or {}).get(MARKER_KEY)
            if message.get("ts") == ts and marker == row.dedupe_key:
                return True
        return False

    async def _post(self, row: ClaimedRow, channel: str, thread_ts: str | None = None) -> Delivered:
        if row.in_doubt_since is not None:
            found = await self._find_posted(row, channel, thread_ts)
            if found is not None:
                log.info("outbox #%d was already posted (ts %s): not sending again", row.id, found)
                return Delivered(channel, found, found=True)
        args = _message_args(row.payload)
        if thread_ts is not None:
            args["thread_ts"] = thread_ts
            if row.payload.get("reply_broadcast"):
                args["reply_broadcast"] = True
        response = await self._api(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=channel,
                metadata=_with_marker(row.payload.get("metadata"), row.dedupe_key),
                **args,
            ),
        )
        return Delivered(str(response["channel"]), str(response["ts"]))

    def _target(self, row: ClaimedRow) -> tuple[str, str]:
        if row.target_channel is None or row.target_ts is None:
            raise TargetNotReady(f"target {row.target_key} has no Slack message yet")
        return row.target_channel, row.target_ts

    async def _execute(self, row: ClaimedRow) -> Delivered:
        payload = row.payload
        if row.kind == "post":
            if not row.channel:
                raise PayloadError("a post needs a channel")
            return await self._post(row, row.channel)
        if row.kind == "reply":
            channel, ts = self._target(row)
            return await self._post(row, channel, ts)
        if row.kind == "update":
            channel, ts = self._target(row)
            if row.in_doubt_since is not None and await self._already_updated(row, channel, ts):
                log.info("outbox #%d was already applied to %s: not sending again", row.id, ts)
                return Delivered(channel, ts, found=True)
            # Always send blocks: chat.update without them keeps the old ones (stale buttons).
            # The marker replaces the message's metadata, so the last applied update is known.
            response = await self._api(
                "chat.update",
                self.client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=payload.get("text"),
                    blocks=payload.get("blocks") or [],
                    metadata=_with_marker(payload.get("metadata"), row.dedupe_key),
                ),
            )
            return Delivered(str(response["channel"]), str(response["ts"]))
        if row.kind == "dm":
            user = payload.get("user") or row.channel
            if not user:
                raise PayloadError("a dm needs payload.user (a user id)")
            opened = await self._api(
                "conversations.open", self.client.conversations_open(users=str(user))
            )
            return await self._post(row, str(opened["channel"]["id"]))
        if row.kind == "home":
            user = payload.get("user_id") or payload.get("user")
            view = payload.get("view")
            if not user or not isinstance(view, dict):
                raise PayloadError("a home tab needs payload.user_id and payload.view")
            await self._api(
                "views.publish", self.client.views_publish(user_id=str(user), view=view)
            )
            return Delivered()
        if row.kind == "upload":
            return await self._upload(row)
        if row.kind == "webhook":
            await self._webhook(row)
            return Delivered()
        raise PayloadError(f"unknown outbox kind {row.kind!r}")

    async def _upload(self, row: ClaimedRow) -> Delivered:
        payload = row.payload
        if not row.channel or not payload.get("filename"):
            raise PayloadError("an upload needs a channel and payload.filename")
        args: dict[str, Any] = {
            "channel": row.channel,
            "filename": str(payload["filename"]),
            "content": _upload_content(payload),
            "title": str(payload.get("title") or payload["filename"]),
        }
        if payload.get("initial_comment"):
            args["initial_comment"] = str(payload["initial_comment"])
        await self._api("files.upload_v2", self.client.files_upload_v2(**args))
        return Delivered(row.channel)

    async def _webhook(self, row: ClaimedRow) -> None:
        url = self.runtime.config.crm_webhook_url
        if not url:
            raise PayloadError("no [crm] webhook_url is configured")
        body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", "X-MQLBot-Delivery": row.dedupe_key}
        secret = self.runtime.settings.crm_webhook_secret
        if secret is not None:
            timestamp = int(self.runtime.clock().timestamp())
            headers.update(sign_webhook(secret.get_secret_value(), timestamp, body))
        assert self._session is not None
        async with self._session.post(url, data=body, headers=headers) as response:
            outcome = "ok" if response.status < 300 else str(response.status)
            self.runtime.metrics.slack_calls.labels(method="crm.webhook", outcome=outcome).inc()
            if response.status >= 300:
                raise WebhookError(response.status, response.headers.get("Retry-After"))

    async def deliver(self, row: ClaimedRow, now: datetime | None = None) -> str:
        """Send one leased row and record the outcome; never raises (except on cancellation)."""
        channel = row.target_channel if row.kind == "reply" else row.channel
        if row.send_at is not None and now is None:
            await asyncio.sleep(max(0.0, (row.send_at - self.runtime.clock()).total_seconds()))
        held = self._held.get(channel or "")
        current = now or self.runtime.clock()
        try:
            if held is not None and held > current and row.kind in ("post", "reply"):
                outcome: Outcome = Retry("channel rate limited", held - current, rate_limited=True)
            else:
                outcome = await self._execute(row)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            outcome = classify(exc)
            if isinstance(outcome, Retry) and outcome.error.startswith("unexpected error"):
                log.exception("outbox #%d (%s) failed unexpectedly", row.id, row.kind)
        at = now or self.runtime.clock()
        try:
            return await self._record(row, outcome, at)
        except Exception:
            # The lease expires and the row comes back in doubt (looked up before re-sending).
            log.exception("outbox #%d: could not record %s", row.id, type(outcome).__name__)
            return "unrecorded"

    # ----- driving -------------------------------------------------------------------------

    async def drain_once(self, now: datetime | None = None) -> DrainReport:
        """One claim pass and every claimed row sent (concurrently), for tests and jobs."""
        at = now or self.runtime.clock()
        batch = await self.claim(at, self.options.batch)
        limit = asyncio.Semaphore(self.options.concurrency)

        async def one(row: ClaimedRow) -> tuple[int, str]:
            async with limit:
                return row.id, await self.deliver(row, now)

        results = await asyncio.gather(*(one(row) for row in batch.rows))
        report = DrainReport(
            claimed=len(batch.rows), dead=len(batch.dead), paced_until=batch.paced_until
        )
        for dead in batch.dead:
            report.outcomes[dead.id] = "dead"
        for row_id, outcome in results:
            report.outcomes[row_id] = outcome
            if outcome == "sent":
                report.sent += 1
            elif outcome == "recovered":
                report.recovered += 1
            elif outcome == "retried":
                report.retried += 1
            elif outcome == "rate_limited":
                report.rate_limited += 1
            elif outcome == "dead":
                report.dead += 1
        await self.refresh_depth()
        return report

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set: claim while there is room, wake on a finished send, on the
        next paced slot, or after the poll interval."""
        opts = self.options
        poll = opts.poll_interval.total_seconds()
        # Lease a channel's next post one slot ahead: it then waits for its slot in memory.
        lookahead = opts.per_channel_interval
        in_flight: set[asyncio.Task[str]] = set()
        stopping = asyncio.create_task(stop.wait())
        depth_at = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                wait: float | None = poll
                room = opts.concurrency - len(in_flight)
                if room > 0:
                    now = self.runtime.clock()
                    try:
                        batch = await self.claim(now, min(room, opts.batch), lookahead)
                    except Exception:
                        log.exception("outbox claim failed; trying again")
                        batch = ClaimBatch()
                    for row in batch.rows:
                        in_flight.add(asyncio.create_task(self.deliver(row)))
                    if batch.rows and len(batch.rows) == min(room, opts.batch):
                        wait = 0.0  # there may be more due right now
                    elif batch.paced_until is not None:
                        until = (batch.paced_until - self.runtime.clock()).total_seconds()
                        wait = min(poll, max(0.0, until))
                    if loop.time() >= depth_at:
                        depth_at = loop.time() + 1.0
                        try:
                            await self.refresh_depth()
                        except Exception:
                            log.exception("outbox depth query failed")
                else:
                    wait = None  # full: wait for a send to finish
                if wait == 0.0:
                    await asyncio.sleep(0)
                    continue
                done, _ = await asyncio.wait(
                    {*in_flight, stopping}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                in_flight -= done
        finally:
            stopping.cancel()
            if in_flight:
                # Let started sends record their answer; cancelling would leave them in doubt.
                await asyncio.gather(*in_flight, return_exceptions=True)


async def drain_once(
    runtime: Runtime, *, now: datetime | None = None, options: SenderOptions | None = None
) -> DrainReport:
    """Claim and send what is due once (as if at `now`); for tests and one-off jobs."""
    async with Sender(runtime, options) as sender:
        return await sender.drain_once(now)


async def run_sender(runtime: Runtime, stop: asyncio.Event) -> None:
    """The background loop registered in bot.worker: drains the outbox until `stop` is set."""
    async with Sender(runtime) as sender:
        log.info("sender %s draining the outbox", sender.worker_id)
        await sender.run(stop)


def main(argv: list[str] | None = None) -> int:
    """`python -m bot.sender`: only the sender, until SIGTERM (for tests and debugging)."""
    import signal

    from bot.settings import load_settings

    parser = argparse.ArgumentParser(prog="python -m bot.sender", description=main.__doc__)
    parser.add_argument("--config", type=Path, default=None)
    parser.add_argument("--lease", type=float, default=None, help="lease in seconds")
    parser.add_argument("--http-timeout", type=float, default=None, help="seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = load_settings(args.config)
    overrides: dict[str, Any] = {}
    if args.lease is not None:
        overrides["lease"] = timedelta(seconds=args.lease)
    if args.http_timeout is not None:
        overrides["http_timeout"] = args.http_timeout
    options = SenderOptions.from_settings(settings, **overrides)

    async def go() -> None:
        runtime = Runtime.build(settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            async with Sender(runtime, options) as sender:
                await sender.run(stop)
        finally:
            await runtime.close()

    asyncio.run(go())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
