"""Jobs across processes: `mqlbot jobs run` on PostgreSQL runs each slot once, and a crashed slot is retried."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from bot.jobs import run_job_once
from bot.settings import Settings, load_settings
from store.engine import SessionFactory, create_engine, session_factory
from store.models import JobRun, OutboxMessage, Reminder
from tests.handlers.jobs.builders import add_mql, config, outbox, texts, tokyo

TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
sdr_users = ["U0SDRA", "U0SDRB", "U0SDRC"]
managers = ["U0MGR1", "U0MGR2"]

[sla]
timezone = "Asia/Tokyo"
holidays = ["JP"]
claim_within = "15m"
work_within = "2h"
escalate_after = "3h"
"""
AT = "2026-11-24T10:30:00+09:00"
AT_TIME = datetime.fromisoformat(AT)
SLOT = "2026-11-24T01:30"
MQLS = 30
REMINDER = (
    "<@U0SDRA> <@U0SDRB> <@U0SDRC> This MQL has been unclaimed for 15 min (business time). "
    "Who takes it?"
)
MQLBOT = str(Path(sys.executable).parent / "mqlbot")
# A replica that waits for a common start instant, then runs the nag slot: the claims collide
# within a millisecond or so, which process start-up times alone would not guarantee.
RACER = """
import asyncio, json, sys, time
from datetime import datetime
from pathlib import Path
from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.settings import load_settings

async def main() -> None:
    runtime = Runtime.build(load_settings(Path(sys.argv[1])))
    async with runtime.engine.connect():
        pass  # connect before the start line, so only the claim itself races
    while time.time() < float(sys.argv[3]):
        await asyncio.sleep(0.001)
    try:
        summary = await run_in_slot(runtime, registry()["nag"], datetime.fromisoformat(sys.argv[2]))
    finally:
        await runtime.close()
    print(json.dumps(summary))

asyncio.run(main())
"""
HANG = """
import asyncio, dataclasses, sys
from datetime import datetime
from pathlib import Path
from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.settings import load_settings

async def hang(deps, now):
    print("running", flush=True)
    await asyncio.sleep(3600)
    return {}

async def main() -> None:
    runtime = Runtime.build(load_settings(Path(sys.argv[1])))
    job = dataclasses.replace(registry()["nag"], run=hang)
    await run_in_slot(runtime, job, datetime.fromisoformat(sys.argv[2]))

asyncio.run(main())
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "mqlbot.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


async def run(*args: str, url: str) -> tuple[int, str, str]:
    env = {**os.environ, "MQLBOT_DATABASE_URL": url}
    proc = await asyncio.create_subprocess_exec(
        *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def settings_for(config_path: Path, url: str) -> Settings:
    return load_settings(config_path, database_url=url)


def summary(stdout: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return result


async def seed(sessions: SessionFactory) -> None:
    cfg = config()
    for n in range(MQLS):
        await add_mql(sessions, cfg, created_at=tokyo(24, 10, 15), name=f"Lead {n}")


async def count(sessions: SessionFactory, model: type[Any]) -> int:
    async with sessions() as session:
        return int((await session.exec(select(func.count()).select_from(model))).one())


async def assert_ran_once(sessions: SessionFactory, outcomes: list[dict[str, Any]]) -> None:
    done = [s for s in outcomes if s["outcome"] == "done"]
    assert done == [
        {"job": "nag", "slot": SLOT, "outcome": "done", "checked": MQLS, "unclaimed_reminded": MQLS}
    ]
    assert sorted(s["outcome"] for s in outcomes if s not in done) == ["skipped"] * (
        len(outcomes) - 1
    )
    async with sessions() as session:
        runs = (await session.exec(select(JobRun))).all()
    assert [(r.job, r.slot, r.status, r.attempts) for r in runs] == [("nag", SLOT, "done", 1)]
    assert await count(sessions, Reminder) == MQLS
    assert await texts(sessions) == [("reply", "C0SDR", REMINDER)] * MQLS
    assert len(await outbox(sessions, kinds=("update",))) == MQLS
    assert await count(sessions, OutboxMessage) == 2 * MQLS


@pytest.fixture
async def pg_sessions(postgres_url: str) -> Any:
    engine = create_engine(postgres_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.mark.postgres
async def test_two_cli_processes_on_postgres_run_the_slot_once(
    postgres_url: str, pg_sessions: SessionFactory, config_path: Path
) -> None:
    processes = 2
    await seed(pg_sessions)
    command = (MQLBOT, "jobs", "run", "nag", "--at", AT, "--config", str(config_path))
    results = await asyncio.gather(*(run(*command, url=postgres_url) for _ in range(processes)))
    assert [code for code, _, _ in results] == [0] * processes, [err for *_, err in results]
    await assert_ran_once(pg_sessions, [summary(out) for _, out, _ in results])


@pytest.mark.postgres
async def test_three_racing_replicas_on_postgres_run_the_slot_once(
    postgres_url: str, pg_sessions: SessionFactory, config_path: Path
) -> None:
    await seed(pg_sessions)
    start = str(time.time() + 6)  # after every process has imported and connected
    racer = (sys.executable, "-c", RACER, str(config_path), AT, start)
    results = await asyncio.gather(*(run(*racer, url=postgres_url) for _ in range(3)))
    assert [code for code, _, _ in results] == [0, 0, 0], [err for *_, err in results]
    await assert_ran_once(pg_sessions, [summary(out) for _, out, _ in results])


@pytest.mark.postgres
async def test_a_crashed_run_is_retried_once_its_lease_expires(
    postgres_url: str, pg_sessions: SessionFactory, config_path: Path
) -> None:
    await seed(pg_sessions)
    env = {**os.environ, "MQLBOT_DATABASE_URL": postgres_url}
    hung = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HANG, str(config_path), AT, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert hung.stdout is not None
    assert await asyncio.wait_for(hung.stdout.readline(), 60) == b"running\n"
    hung.send_signal(signal.SIGKILL)  # the process dies mid-run, its slot still "running"
    await hung.wait()

    # While the lease lasts, nobody else runs the slot.
    skipped = await run_job_once(settings_for(config_path, postgres_url), "nag", AT_TIME)
    assert skipped == {"job": "nag", "slot": SLOT, "outcome": "skipped"}
    assert await count(pg_sessions, Reminder) == 0

    # Five minutes later (the nag lease) the slot is free again: end the lease now instead.
    async with pg_sessions() as session, session.begin():
        await session.exec(
            update(JobRun)
            .where(col(JobRun.slot) == SLOT)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    command = (MQLBOT, "jobs", "run", "nag", "--at", AT, "--config", str(config_path))
    code, out, err = await run(*command, url=postgres_url)
    assert code == 0, err
    assert summary(out)["outcome"] == "done"
    async with pg_sessions() as session:
        [job_run] = (await session.exec(select(JobRun))).all()
    assert (job_run.status, job_run.attempts) == ("done", 2)
    assert await count(pg_sessions, Reminder) == MQLS


async def test_jobs_run_via_the_cli_on_sqlite(
    sqlite_url: str, sessions: SessionFactory, config_path: Path
) -> None:
    await seed(sessions)
    command = (MQLBOT, "jobs", "run", "nag", "--config", str(config_path), "--at")
    code, out, err = await run(*command, "2026-11-24T10:29:00+09:00", url=sqlite_url)
    assert (code, summary(out)) == (
        0,
        {"job": "nag", "slot": "2026-11-24T01:29", "outcome": "done", "checked": 0},
    ), err
    code, out, err = await run(*command, AT, url=sqlite_url)
    assert code == 0, err
    assert summary(out) == {
        "job": "nag",
        "slot": SLOT,
        "outcome": "done",
        "checked": MQLS,
        "unclaimed_reminded": MQLS,
    }
    assert await texts(sessions) == [("reply", "C0SDR", REMINDER)] * MQLS
    # The same slot again (an operator's second try) is skipped: nothing is sent twice.
    settings = settings_for(config_path, sqlite_url)
    again = await run_job_once(settings, "nag", AT_TIME)
    assert again == {"job": "nag", "slot": SLOT, "outcome": "skipped"}
    assert len(await texts(sessions)) == MQLS
    # The other jobs go through the same registry and slot rule.
    decay = await run_job_once(settings, "decay", AT_TIME)
    assert decay == {
        "job": "decay",
        "slot": "2026-11-24",
        "outcome": "done",
        "skipped": "no [scoring] decay_half_life configured",
    }
    recycle = await run_job_once(settings, "recycle", AT_TIME)
    assert recycle == {"job": "recycle", "slot": "2026-11-24T01", "outcome": "done", "checked": 0}
