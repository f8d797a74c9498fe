"""Benchmark of `mqlbot import events`: a year of history from a JSON-lines file, in one process.

Run: python bench/bench_import.py [--db sqlite|postgres] [--events 200000] [--leads 20000]
     [--batch-size 2000] [--runs 1] [--phases]

Writes --events native events (time order, one year, over --leads leads, 1 in 50 lines a repeat)
to a temporary file, then imports it with the same Backfill the command runs (checkpointed
batches through the webhook's transaction) into a fresh database: SQLite in a temp dir, or a
fresh PostgreSQL database from MQLBOT_TEST_POSTGRES_URL, dropped afterwards. Prints events/s
(wall), this process's CPU per event (all threads), and on PostgreSQL the server's own CPU per
event (its backends for the database, from /proc). Goal (issue 14): ≥ 50,000 events/s on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import TOML, TYPES, cpu_seconds, database  # noqa: E402
from profile_ingest import LABELS, PHASES, timed  # noqa: E402

import handlers.ingest.backfill as backfill_module  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web import YOUNG_GC_THRESHOLD  # noqa: E402
from handlers.ingest.backfill import Backfill  # noqa: E402

# The reading side's phases, by the name the backfill module calls them under.
READER_PHASES = {"_validate": "parse + validate", "prepare": "prepare (dedupe key, texts)"}


def write_history(path: Path, events: int, leads: int, seed: int) -> None:
    rng = random.Random(seed)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    step = timedelta(days=365) / events
    lines: list[str] = []
    with path.open("w", encoding="utf-8") as out:
        for n in range(events):
            if lines and rng.random() < 0.02:
                out.write(rng.choice(lines[-1000:]))  # a repeat: a duplicate
                continue
            lead = rng.randrange(leads)
            line = json.dumps(
                {
                    "id": f"hist-{n}",
                    "type": rng.choice(TYPES),
                    "occurred_at": (start + step * n).isoformat(),
                    "lead": {
                        "id": f"crm-{lead}",
                        "email": f"lead{lead}@example.com",
                        "name": f"Lead {lead}",
                        "company": f"Company {lead % 997}",
                    },
                    "properties": {"url": "https://example.com/pricing", "asset": "MA guide"},
                }
            )
            lines.append(line + "\n")
            out.write(lines[-1])


def postgres_pids(url: str) -> list[int]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def backends_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) or 0.0 for pid in pids)


async def run_once(url: str, source: Path, opts: argparse.Namespace, config: Path) -> None:
    import gc

    settings = load_settings(
        config,
        database_url=url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-signing",
        slack_api_url="http://127.0.0.1:9/api/",
    )
    runtime = Runtime.build(settings)
    backfill = Backfill(
        runtime.deps, name="bench", writer=runtime.writer, batch_size=opts.batch_size
    )
    # As `mqlbot import events` runs: the collector as the server tunes it.
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
    spent: Counter[str] = Counter()
    if opts.phases:
        for name in PHASES:
            timed(name, spent)
        for name in READER_PHASES:
            timed(name, spent, backfill_module)
        timed("run_transaction", spent, backfill_module)  # the backfill's own reference to it
    wall, cpu = time.perf_counter(), time.process_time()
    with source.open("rb") as stream:
        report = await backfill.run(stream)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # The pool's backends live as long as the runtime: all their CPU time is this import's.
    server = backends_cpu(postgres_pids(url)) if opts.db == "postgres" else None
    events = report.accepted + report.duplicates
    line = (
        f"  {events:,} events ({report.duplicates:,} duplicates, {report.mqls:,} MQLs) in"
        f" {wall:.1f} s: {events / wall:,.0f} events/s, {cpu / events * 1e6:.1f} µs of CPU"
        f" per event ({cpu / wall:.2f} cores)"
    )
    if server is not None:
        line += f"; PostgreSQL backends {server / events * 1e6:.1f} µs per event"
    print(line)
    if opts.phases:
        print("  µs of thread CPU per event:")
        for name in READER_PHASES:
            print(f"    reader: {READER_PHASES[name]:<32} {spent[name] / events * 1e6:5.1f}")
        for name in PHASES:
            print(f"    writer: {LABELS[name]:<32} {spent[name] / events * 1e6:5.1f}")
    await runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--leads", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--phases", action="store_true", help="also print CPU per phase")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        config = tmp / "mqlbot.toml"
        config.write_text(TOML, encoding="utf-8")
        source = tmp / "history.jsonl"
        write_history(source, opts.events, opts.leads, opts.seed)
        size = source.stat().st_size
        print(
            f"import of {opts.events:,} lines ({size / 1e6:.0f} MB) over {opts.leads:,} leads,"
            f" {opts.db}, batches of {opts.batch_size}; load average {os.getloadavg()[0]:.1f}"
        )
        for run in range(opts.runs):
            (tmp / f"run{run}").mkdir()
            with database(opts.db, tmp / f"run{run}") as url:
                asyncio.run(run_once(url, source, opts, config))
    print("goal: ≥ 50,000 events/s on SQLite in one process")


if __name__ == "__main__":
    main()
