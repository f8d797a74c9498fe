"""Benchmark of the nag tick with 100,000 open MQLs in the database (goal < 200 ms per tick).

Run: python bench/bench_nag.py [--mqls N] [--due N] [--ticks N] [--postgres URL | --no-postgres]
Bulk-inserts N open MQLs (with their leads) whose next reminder lies in the future, then times
ticks of `run_nag` with nothing due and with `--due` MQLs made due before each tick (each then
gets its reminder, its outbox rows and its card re-rendered). Prints the figures and the query
plan of the due query, which must be a range on ix_mql_nag_due, not a scan of the table.
PostgreSQL: a scratch database is created next to MQLBOT_TEST_POSTGRES_URL and dropped after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, pool, text, update
from sqlalchemy.dialects import postgresql, sqlite

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.context import Deps
from handlers.jobs.nag import run_nag
from store.engine import create_engine, session_factory, sync_url
from store.migrate import upgrade
from store.models import Lead, Mql
from store.sweeps import due_query
from store.upsert import table_of
from tests.handlers.jobs.builders import config

# Tuesday 24 Nov 2026, 10:30 in Tokyo: inside business hours.
NOW = datetime(2026, 11, 24, 1, 30, tzinfo=UTC)
CHUNK = 5000


def populate(url: str, mqls: int) -> None:
    """Leads and open MQLs, all due between tomorrow and a few weeks ahead."""
    engine = create_sync_engine(sync_url(url), poolclass=pool.NullPool)
    leads, rows = table_of(Lead), table_of(Mql)
    with engine.begin() as conn:
        for start in range(0, mqls, CHUNK):
            ids = range(start + 1, min(start + CHUNK, mqls) + 1)
            conn.execute(
                insert(leads),
                [
                    {
                        "id": n,
                        "key": f"id:bench-{n}",
                        "external_id": f"bench-{n}",
                        "name": f"Lead {n}",
                        "stage": "mql",
                        "score": 120.0,
                        "score_state": {},
                        "created_at": NOW,
                        "updated_at": NOW,
                    }
                    for n in ids
                ],
            )
            conn.execute(
                insert(rows),
                [
                    {
                        "id": n,
                        "lead_id": n,
                        "open_lead_id": n,
                        "created_at": NOW - timedelta(minutes=20),
                        "kind": "threshold",
                        "reasons": [],
                        "score": 120.0,
                        "state": "open",
                        "sla_breached": False,
                        "nag_due_at": NOW + timedelta(days=1, minutes=n % 40_000),
                        "slack_channel": "C0SDR",
                        "slack_ts": f"1764000000.{n:06d}",
                        "version": 1,
                        "updated_at": NOW,
                    }
                    for n in ids
                ],
            )
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('lead_id_seq', :n)"), {"n": mqls})
            conn.execute(text("SELECT setval('mql_id_seq', :n)"), {"n": mqls})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    engine.dispose()


def make_due(url: str, ids: list[int], at: datetime) -> None:
    engine = create_sync_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.begin() as conn:
        conn.execute(update(table_of(Mql)).where(table_of(Mql).c.id.in_(ids)).values(nag_due_at=at))
    engine.dispose()


def plan(url: str) -> str:
    """EXPLAIN of the tick's query, with its parameters inlined."""
    query = due_query(now=NOW, after=None, limit=500)
    engine = create_sync_engine(sync_url(url), poolclass=pool.NullPool)
    dialect: Any = postgresql.dialect() if engine.dialect.name == "postgresql" else sqlite.dialect()
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    prefix = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    with engine.connect() as conn:
        rows = conn.execute(text(f"{prefix} {sql}")).all()
    engine.dispose()
    return "\n".join("    " + " | ".join(str(c) for c in row) for row in rows)


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   max {max(values):7.1f} ms"


async def bench(name: str, url: str, mqls: int, due: int, ticks: int) -> None:
    started = time.perf_counter()
    upgrade(url)
    populate(url, mqls)
    print(f"\n{name}: {mqls:,} open MQLs inserted in {time.perf_counter() - started:.1f} s")
    print("  query plan of the due query:")
    print(plan(url))
    engine = create_engine(url)
    deps = Deps(config=config(), sessions=session_factory(engine), clock=lambda: NOW)
    idle: list[float] = []
    busy: list[float] = []
    try:
        for tick in range(ticks):
            at = NOW + timedelta(minutes=tick)
            t0 = time.perf_counter()
            summary = await run_nag(deps, at)
            idle.append((time.perf_counter() - t0) * 1000)
            assert summary == {"checked": 0}, summary
            ids = [1 + (tick * due + n) * 997 % mqls for n in range(due)]
            make_due(url, ids, at - timedelta(minutes=1))
            t0 = time.perf_counter()
            summary = await run_nag(deps, at)
            busy.append((time.perf_counter() - t0) * 1000)
            assert summary == {"checked": due, "unclaimed_reminded": due}, summary
    finally:
        await engine.dispose()
    print(f"  tick, nothing due ({ticks} ticks):  {ms(idle)}")
    print(f"  tick, {due} due ({ticks} ticks):       {ms(busy)}")
    per_mql = (statistics.median(busy) - statistics.median(idle)) / due
    print(f"  per due MQL (reminder, outbox rows, card render): ~{per_mql:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mqls", type=int, default=100_000)
    parser.add_argument("--due", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=20)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MQLBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench("SQLite", f"sqlite:///{tmp}/bench.db", args.mqls, args.due, args.ticks))
    if args.no_postgres:
        return
    admin = args.postgres.replace("postgresql+psycopg://", "postgresql://")
    name = f"mqlbot_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"{admin.rsplit('/', 1)[0]}/{name}"
        asyncio.run(bench("PostgreSQL", url, args.mqls, args.due, args.ticks))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
