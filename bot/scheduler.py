"""The in-process scheduler: APScheduler fires each job on its cadence; the slot rule keeps replicas apart."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.jobs import JobSpec, registry, run_in_slot
from bot.runtime import WEEKDAYS, Runtime
from handlers.context import HandlerConfig

log = logging.getLogger(__name__)

# Replicas' clocks differ a little: a run that fires a moment early still names the slot it
# was meant for, so two replicas never run adjacent slots for the same tick.
SLOT_SKEW = timedelta(seconds=30)


@dataclass(frozen=True)
class Schedule:
    """When a job fires and how late a missed firing may still run."""

    trigger: CronTrigger
    misfire_grace_time: int  # seconds


def schedules(config: HandlerConfig) -> dict[str, Schedule]:
    """Each job's cadence; hourly, daily and weekly ones follow the SLA time zone."""
    tz = config.timezone
    digest = config.digest_time
    return {
        # A missed minute is not worth catching up: the next tick sends whatever is due.
        "nag": Schedule(CronTrigger(second=0, timezone=UTC), misfire_grace_time=30),
        "recycle": Schedule(CronTrigger(minute=0, second=0, timezone=tz), 15 * 60),
        "decay": Schedule(CronTrigger(hour=0, minute=10, second=0, timezone=tz), 6 * 3600),
        # At night, local time: its deletes take SQLite's write lock in short batches anyway.
        "prune": Schedule(CronTrigger(hour=3, minute=30, second=0, timezone=tz), 6 * 3600),
        "digest": Schedule(
            CronTrigger(
                day_of_week=WEEKDAYS[config.digest_weekday],
                hour=digest.hour,
                minute=digest.minute,
                second=0,
                timezone=tz,
            ),
            6 * 3600,
        ),
    }


def job_id(name: str) -> str:
    """The stable APScheduler id of a job (``mqlbot-nag``)."""
    return f"mqlbot-{name}"


async def fire(runtime: Runtime, job: JobSpec) -> dict[str, Any] | None:
    """One scheduled run: claim the slot, run, finish; a failure is logged, never raised."""
    now = runtime.clock()
    try:
        return await run_in_slot(runtime, job, now, slot_at=now + SLOT_SKEW)
    except Exception:  # already logged and recorded on the slot; the scheduler must go on
        return None


def build_scheduler(runtime: Runtime) -> AsyncIOScheduler:
    """A scheduler with every registered job; start it inside the running event loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    when = schedules(runtime.config)
    for name, job in registry().items():
        schedule = when[name]
        scheduler.add_job(
            fire,
            schedule.trigger,
            args=(runtime, job),
            id=job_id(name),
            name=job_id(name),
            misfire_grace_time=schedule.misfire_grace_time,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    return scheduler


async def scheduler_loop(runtime: Runtime, stop: asyncio.Event) -> None:
    """Background loop for `serve` and `worker`: run the scheduler until ``stop`` is set."""
    scheduler = build_scheduler(runtime)
    scheduler.start()
    log.info("scheduler started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the shutdown is scheduled on the loop; let it run
