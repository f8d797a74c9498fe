"""The scheduler: stable job ids and cadences, one run per slot, metrics, clean start and stop."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.scheduler import build_scheduler, fire, job_id, scheduler_loop
from bot.settings import load_settings
from handlers.context import Deps
from store.jobs import get_run

TOKYO = ZoneInfo("Asia/Tokyo")
TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
managers = ["U0MGR"]

[sla]
timezone = "Asia/Tokyo"
holidays = ["JP"]

[digest]
weekday = "mon"
time = "09:30"
"""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def runtime(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Runtime]:
    path = tmp_path / "mqlbot.toml"
    path.write_text(TOML, encoding="utf-8")
    settings = load_settings(path, database_url=sqlite_url)
    rt = Runtime.build(settings, clock=Clock(datetime(2026, 11, 24, 1, 15, 0, 200_000, tzinfo=UTC)))
    yield rt
    await rt.close()


def runs(runtime: Runtime, job: str, outcome: str) -> float:
    value = runtime.metrics.registry.get_sample_value(
        "mqlbot_job_runs_total", {"job": job, "outcome": outcome}
    )
    return value or 0.0


def test_every_job_has_a_stable_id_and_explicit_run_limits(runtime: Runtime) -> None:
    scheduler = build_scheduler(runtime)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert sorted(jobs) == [
        "mqlbot-decay",
        "mqlbot-digest",
        "mqlbot-nag",
        "mqlbot-prune",
        "mqlbot-recycle",
    ]
    assert {name: (j.coalesce, j.max_instances) for name, j in jobs.items()} == dict.fromkeys(
        jobs, (True, 1)
    )
    assert {name: j.misfire_grace_time for name, j in jobs.items()} == {
        "mqlbot-nag": 30,
        "mqlbot-recycle": 900,
        "mqlbot-decay": 21600,
        "mqlbot-digest": 21600,
        "mqlbot-prune": 21600,
    }


@pytest.mark.parametrize(
    ("job", "after", "expected"),
    [
        (
            "nag",
            datetime(2026, 11, 24, 10, 15, 20, tzinfo=TOKYO),
            datetime(2026, 11, 24, 10, 16, tzinfo=TOKYO),
        ),
        (
            "recycle",
            datetime(2026, 11, 24, 10, 15, tzinfo=TOKYO),
            datetime(2026, 11, 24, 11, 0, tzinfo=TOKYO),
        ),
        (
            "decay",
            datetime(2026, 11, 24, 10, 15, tzinfo=TOKYO),
            datetime(2026, 11, 25, 0, 10, tzinfo=TOKYO),
        ),
        (
            "prune",
            datetime(2026, 11, 24, 10, 15, tzinfo=TOKYO),
            datetime(2026, 11, 25, 3, 30, tzinfo=TOKYO),
        ),
        # The digest follows [digest] weekday/time in the SLA time zone: Monday 09:30 Tokyo.
        (
            "digest",
            datetime(2026, 11, 24, 10, 15, tzinfo=TOKYO),
            datetime(2026, 11, 30, 9, 30, tzinfo=TOKYO),
        ),
    ],
)
def test_cadences(runtime: Runtime, job: str, after: datetime, expected: datetime) -> None:
    scheduler = build_scheduler(runtime)
    trigger = scheduler.get_job(job_id(job)).trigger
    assert trigger.get_next_fire_time(None, after) == expected


async def test_a_slot_runs_once_and_the_next_one_runs_again(runtime: Runtime) -> None:
    nag = registry()["nag"]
    first = await fire(runtime, nag)
    assert first == {"job": "nag", "slot": "2026-11-24T01:15", "outcome": "done", "checked": 0}
    # A second replica firing for the same minute (its clock a little behind) skips it.
    assert isinstance(runtime.clock, Clock)
    runtime.clock.at = datetime(2026, 11, 24, 1, 14, 59, 700_000, tzinfo=UTC)
    assert await fire(runtime, nag) == {
        "job": "nag",
        "slot": "2026-11-24T01:15",
        "outcome": "skipped",
    }
    runtime.clock.at = datetime(2026, 11, 24, 1, 16, 0, 100_000, tzinfo=UTC)
    assert (await fire(runtime, nag) or {})["outcome"] == "done"
    assert (runs(runtime, "nag", "done"), runs(runtime, "nag", "skipped")) == (2.0, 1.0)
    async with runtime.sessions() as session:
        run = await get_run(session, job="nag", slot="2026-11-24T01:15")
    assert run is not None
    assert (run.status, run.attempts, run.result) == ("done", 1, {"checked": 0})


async def test_a_failing_job_marks_its_slot_failed_and_is_retried(runtime: Runtime) -> None:
    nag = registry()["nag"]
    calls: list[datetime] = []

    async def broken(_deps: Deps, now: datetime) -> dict[str, int]:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return {"checked": 0}

    flaky = dataclasses.replace(nag, run=broken)
    assert await fire(runtime, flaky) is None  # logged, recorded, never raised to APScheduler
    assert runs(runtime, "nag", "failed") == 1.0
    async with runtime.sessions() as session:
        run = await get_run(session, job="nag", slot="2026-11-24T01:15")
    assert run is not None
    assert (run.status, run.error) == ("failed", "RuntimeError: database went away")
    again = await run_in_slot(runtime, flaky, runtime.clock())
    assert again["outcome"] == "done"
    async with runtime.sessions() as session:
        run = await get_run(session, job="nag", slot="2026-11-24T01:15")
    assert run is not None
    assert (run.status, run.attempts, run.error) == ("done", 2, None)


async def test_the_loop_starts_the_scheduler_and_stops_when_asked(runtime: Runtime) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler_loop(runtime, stop))
    await asyncio.sleep(0.05)
    assert not task.done()
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert task.exception() is None


def test_decay_slot_is_the_date_in_the_sla_time_zone(runtime: Runtime) -> None:
    decay = registry()["decay"]
    # 16:00 UTC is already the next day in Tokyo.
    assert decay.slot(datetime(2026, 11, 24, 16, 0, tzinfo=UTC), runtime.config) == "2026-11-25"
    digest = registry()["digest"]
    # Monday 30 Nov, 09:30 in Tokyo (00:30 UTC): the digest of the week 23-29 Nov, ISO week 48;
    # an hour earlier the latest digest due is still the one of the week before.
    assert digest.slot(datetime(2026, 11, 30, 0, 30, tzinfo=UTC), runtime.config) == "2026-W48"
    assert digest.slot(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), runtime.config) == "2026-W47"
