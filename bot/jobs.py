"""Scheduled jobs by name, run in their slot: claim (job, slot), run, finish — once across replicas."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.runtime import Runtime
from bot.settings import Settings
from handlers.context import Deps, HandlerConfig
from handlers.jobs.decay import run_decay
from handlers.jobs.nag import run_nag
from handlers.jobs.prune import run_prune
from handlers.jobs.recycle import run_recycle
from handlers.jobs.weekly_digest import digest_slot, run_digest
from store.jobs import (
    claim_slot,
    day_slot,
    fail_slot,
    finish_slot,
    hour_slot,
    minute_slot,
)

log = logging.getLogger(__name__)

JobFn = Callable[[Deps, datetime], Awaitable[dict[str, Any]]]
SlotFn = Callable[[datetime, HandlerConfig], str]
OWNER = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class JobSpec:
    """A job: what it does, which slot an instant falls in, and how long a run may hold it."""

    name: str
    run: JobFn
    slot: SlotFn
    lease: timedelta


def registry() -> dict[str, JobSpec]:
    """The jobs that exist, by name."""
    jobs = [
        JobSpec("nag", run_nag, lambda at, _c: minute_slot(at), timedelta(minutes=5)),
        JobSpec("recycle", run_recycle, lambda at, _c: hour_slot(at), timedelta(minutes=30)),
        JobSpec("decay", run_decay, lambda at, c: day_slot(at, c.timezone), timedelta(hours=1)),
        JobSpec("prune", run_prune, lambda at, c: day_slot(at, c.timezone), timedelta(hours=1)),
        JobSpec("digest", run_digest, digest_slot, timedelta(minutes=30)),
    ]
    return {job.name: job for job in jobs}


class JobNotAvailable(Exception):
    """The named job is not part of this build."""


async def run_in_slot(
    runtime: Runtime, job: JobSpec, at: datetime, *, slot_at: datetime | None = None
) -> dict[str, Any]:
    """Claim the job's slot for ``slot_at`` (default ``at``), run it as if at ``at``, record it.

    Leases are on the real clock (``runtime.clock``), not on ``at``: a slot replayed with
    ``--at`` after a crash can then be taken over once the crashed run's lease has expired.
    Returns the job's summary with ``job``, ``slot`` and ``outcome`` (done, skipped, failed).
    """
    slot = job.slot(slot_at or at, runtime.config)
    async with runtime.sessions() as session, session.begin():
        claim = await claim_slot(
            session, job=job.name, slot=slot, owner=OWNER, now=runtime.clock(), lease=job.lease
        )
    if claim is None:
        runtime.metrics.job_runs.labels(job=job.name, outcome="skipped").inc()
        return {"job": job.name, "slot": slot, "outcome": "skipped"}
    try:
        result = await job.run(runtime.deps, at)
    except Exception as exc:  # recorded on the slot so the next run retries it
        log.exception("job %s slot %s failed", job.name, slot)
        async with runtime.sessions() as session, session.begin():
            await fail_slot(
                session, claim=claim, now=runtime.clock(), error=f"{type(exc).__name__}: {exc}"
            )
        runtime.metrics.job_runs.labels(job=job.name, outcome="failed").inc()
        raise
    async with runtime.sessions() as session, session.begin():
        kept = await finish_slot(session, claim=claim, now=runtime.clock(), result=result)
    if not kept:
        log.warning(
            "job %s slot %s: lease lost before finishing (run took too long)", job.name, slot
        )
    runtime.metrics.job_runs.labels(job=job.name, outcome="done").inc()
    return {"job": job.name, "slot": slot, "outcome": "done", **result}


async def run_job_once(settings: Settings, name: str, at: datetime | None) -> dict[str, Any]:
    """Run one job in its slot as if at `at` (default: now) and return its summary."""
    jobs = registry()
    if name not in jobs:
        raise JobNotAvailable(f"job {name!r} is not available yet")
    runtime = Runtime.build(settings)
    try:
        return await run_in_slot(runtime, jobs[name], at or runtime.clock())
    finally:
        await runtime.close()
