"""The sender's worker: lease due outbox rows, deliver each by its kind, record every outcome at once."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.sender.deliveries import deliver as deliver_row
from bot.sender.options import SenderOptions
from bot.sender.policy import Delivered, Outcome, Retry, backoff_delay, classify
from bot.sender.wire import Wire
from store.models import OutboxKind
from store.outbox import (
    ClaimBatch,
    ClaimedRow,
    claim_due,
    dead_counts,
    hold_channel,
    mark_dead,
    mark_sent,
    pending_count,
    schedule_retry,
)

log = logging.getLogger(__name__)

# A 429 on a chat post holds its channel: this process's other posts there wait too.
HELD_KINDS: Final = frozenset({OutboxKind.POST, OutboxKind.REPLY})


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
        self._wire: Wire | None = None
        # Channels this process got a 429 for, until when: a post leased ahead of its slot
        # checks here before going out.
        self._held: dict[str, datetime] = {}

    async def __aenter__(self) -> Sender:
        http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.options.http_timeout))
        base = self.runtime.slack
        # Our own client without slack_sdk's retry handlers: the outbox owns every retry.
        client = AsyncWebClient(
            token=base.token,
            base_url=base.base_url,
            timeout=int(self.options.http_timeout),
            session=http,
            retry_handlers=[],
        )
        self._wire = Wire(client, http, self.runtime)
        s = self.runtime.settings
        if self.runtime.config.crm_webhook_url and s.crm_webhook_secret is None:
            log.warning(
                "crm webhook_url is set but MQLBOT_CRM_WEBHOOK_SECRET is not: "
                "state changes go to the CRM unsigned"
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._wire is not None:
            await self._wire.http.close()
        self._wire = None

    @property
    def wire(self) -> Wire:
        if self._wire is None:
            raise RuntimeError("use the Sender as an async context manager")
        return self._wire

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
        """Set the outbox gauges from the database: rows waiting, and dead letters by kind."""
        async with self.runtime.sessions() as session:
            depth = await pending_count(session)
            dead = await dead_counts(session)
        metrics = self.runtime.metrics
        metrics.outbox_depth.set(depth)
        for kind in OutboxKind:
            metrics.outbox_dead_now.labels(kind=kind.value).set(dead.get(kind.value, 0))
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
                channel = row.posts_into
                if outcome.rate_limited and row.kind in HELD_KINDS and channel:
                    await hold_channel(session, channel=channel, until=retry_at)
                    self._held[channel] = max(retry_at, self._held.get(channel, retry_at))
                return "rate_limited" if outcome.rate_limited else "retried"
            error = outcome.error
            if isinstance(outcome, Retry):
                error = f"gave up after {row.attempt} attempts: {error}"
            await mark_dead(session, row_id=row.id, now=now, error=error)
        self._dead_letter_logged(row.id, row.kind, error)
        return "dead"

    async def deliver(self, row: ClaimedRow, now: datetime | None = None) -> str:
        """Send one leased row and record the outcome; never raises (except on cancellation)."""
        channel = row.posts_into
        if row.send_at is not None and now is None:
            await asyncio.sleep(max(0.0, (row.send_at - self.runtime.clock()).total_seconds()))
        held = self._held.get(channel or "")
        current = now or self.runtime.clock()
        try:
            if held is not None and held > current and row.kind in HELD_KINDS:
                outcome: Outcome = Retry("channel rate limited", held - current, rate_limited=True)
            else:
                outcome = await deliver_row(self.wire, row)
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
