"""Exactly one digest per week when two processes run `mqlbot jobs run digest` at once on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import session_factory
from tests.handlers.jobs.builders import outbox
from tests.store.test_digest import build_data

MQLBOT = str(Path(sys.executable).parent / "mqlbot")
TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"

[sla]
timezone = "Asia/Tokyo"
business_hours = "09:00-18:00"
workdays = "mon-fri"
holidays = ["JP"]
claim_within = "15m"
work_within = "2h"
escalate_after = "3h"

[digest]
weekday = "mon"
time = "09:00"
"""


@pytest.mark.postgres
async def test_two_processes_queue_exactly_one_digest(
    pg_engine: AsyncEngine, postgres_url: str, tmp_path: Path
) -> None:
    sessions = session_factory(pg_engine)
    await build_data(sessions)
    config = tmp_path / "mqlbot.toml"
    config.write_text(TOML, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MQLBOT_", "SLACK_"))},
        "MQLBOT_CONFIG": str(config),
        "MQLBOT_DATABASE_URL": postgres_url,
    }
    command = [MQLBOT, "jobs", "run", "digest", "--at", "2026-11-30T09:00:00+09:00"]
    # Both start before either has claimed the week's slot.
    runs = [
        await asyncio.create_subprocess_exec(
            *command, env=env, cwd=tmp_path, stdout=PIPE, stderr=PIPE
        )
        for _ in range(2)
    ]
    results = await asyncio.wait_for(asyncio.gather(*(run.communicate() for run in runs)), 120)
    assert [run.returncode for run in runs] == [0, 0], [err.decode() for _, err in results]
    summaries = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in results]
    assert sorted(s["outcome"] for s in summaries) == ["done", "skipped"]
    done = next(s for s in summaries if s["outcome"] == "done")
    # The calendar week 23-29 Nov (ISO week 48), its Monday 08:59 MQL included.
    assert (done["slot"], done["week"], done["queued"], done["mqls"]) == (
        "2026-W48",
        "2026-W48",
        2,
        16,
    )
    rows = await outbox(sessions)
    assert [(r.kind, r.channel, r.dedupe_key) for r in rows] == [
        ("post", "C0MKT", "digest:2026-W48"),
        ("upload", "C0MKT", "digest:2026-W48:chart"),
    ]
