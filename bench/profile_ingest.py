"""Where batch ingest spends its CPU: per-phase thread CPU time per event, in one process, on SQLite.

Run: python bench/profile_ingest.py [--batches 60] [--batch-size 500] [--warm 5]

No HTTP: each batch is parsed and handed to the same Ingester the webhook route uses (group
commit, the SQLite writer thread, the state cache), one after another, on a fresh database with
the collector tuned as `mqlbot serve` tunes it. The writer's phases are timed with
`time.thread_time()` by wrapping the ingest module's calls, so the figures are CPU, not wall
time, and vary little from run to run. Use it to see what a change to the ingest path saves;
bench_ingest.py gives the end-to-end figures over HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_ingest import SECRET, TOML, Bodies  # noqa: E402

import handlers.ingest.webhook as ingest_module  # noqa: E402
from bot.runtime import Runtime  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web import YOUNG_GC_THRESHOLD  # noqa: E402
from handlers.ingest.native import parse_native_body  # noqa: E402
from store.migrate import upgrade  # noqa: E402

# The writer's phases, by the name the ingest module calls them under.
PHASES = (
    "run_transaction",
    "_ingest",
    "find_or_create_leads",
    "known_keys",
    "_score_lead",
    "insert_events",
    "_open_mqls",
    "save_leads",
    "enqueue_card_post",
)
LABELS = {
    "run_transaction": "transaction (all of it)",
    "_ingest": "  inside BEGIN … before COMMIT",
    "find_or_create_leads": "    read / create the leads",
    "known_keys": "    duplicate check",
    "_score_lead": "    scoring + state encoding",
    "insert_events": "    insert the events",
    "_open_mqls": "    open MQLs",
    "save_leads": "    save the leads",
    "enqueue_card_post": "    render + queue cards",
}


def timed(name: str, spent: Counter[str], module: ModuleType = ingest_module) -> None:
    """Replace the module's `name` with a wrapper adding its thread CPU time to `spent`."""
    original: Callable[..., Any] = getattr(module, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def wrapper_async(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - start

        setattr(module, name, wrapper_async)
        return

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name] += time.thread_time() - start

    setattr(module, name, wrapper)


class Collector:
    """A gc callback adding up the time the collector's passes take, by generation."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.passes = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._start
        self.passes[info["generation"]] += 1


async def profile(opts: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        config = tmp / "mqlbot.toml"
        config.write_text(TOML, encoding="utf-8")
        url = f"sqlite:///{tmp / 'profile.db'}"
        upgrade(url)
        settings = load_settings(
            config,
            database_url=url,
            webhook_secret=SECRET,
            SLACK_BOT_TOKEN="xoxb-profile",
            SLACK_SIGNING_SECRET="profile-signing",
            slack_api_url="http://127.0.0.1:9/api/",
        )
        runtime = Runtime.build(settings)
        ingester = ingest_module.Ingester(runtime.deps, writer=runtime.writer)
        known = runtime.config.known_types
        bodies = Bodies(opts.seed)
        warm = [bodies.request(opts.batch_size)[0] for _ in range(opts.warm)]
        batches = [bodies.request(opts.batch_size)[0] for _ in range(opts.batches)]
        for raw in warm:
            await ingester.submit(parse_native_body(raw, known))

        spent: Counter[str] = Counter()
        for name in PHASES:
            timed(name, spent)
        gc.collect()
        gc.freeze()
        gc.set_threshold(opts.young_gc, *gc.get_threshold()[1:])
        collector = Collector()
        gc.callbacks.append(collector)
        parse = submit = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        for raw in batches:
            start = time.thread_time()
            events = parse_native_body(raw, known)
            parse += time.thread_time() - start
            start = time.thread_time()
            await ingester.submit(events)  # preparing the events runs here, on this thread
            submit += time.thread_time() - start
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        gc.callbacks.remove(collector)
        await runtime.close()

    events_total = opts.batches * opts.batch_size
    per = 1e6 / events_total
    print(
        f"batch ingest in one process, SQLite: {opts.batches} batches of {opts.batch_size}"
        f" over 10,000 leads, after {opts.warm} warm-up batches"
    )
    print(f"  {events_total / wall:,.0f} events/s wall, {cpu * per:.1f} µs of CPU per event")
    print(
        f"  request side: parse + validate {parse * per:5.1f} µs,"
        f" prepare + hand-off {submit * per:5.1f} µs"
    )
    print(
        f"  garbage collector (young generation every {opts.young_gc:,} objects):"
        f" {collector.seconds * per:.1f} µs per event, passes by generation {collector.passes}"
    )
    print("  writer thread, µs of CPU per event:")
    for name in PHASES:
        print(f"  {LABELS[name]:<34} {spent[name] * per:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--young-gc",
        type=int,
        default=YOUNG_GC_THRESHOLD,
        help="new objects between young-generation passes (what mqlbot serve uses by default)",
    )
    asyncio.run(profile(parser.parse_args()))


if __name__ == "__main__":
    main()
