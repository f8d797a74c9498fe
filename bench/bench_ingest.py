"""Benchmark of webhook ingest through real HTTP: the bot under uvicorn against a bare FastAPI endpoint.

Run: python bench/bench_ingest.py [--db sqlite|postgres] [--rate 500] [--seconds 5]
     [--max-requests 3000] [--concurrency 32] [--batches 30] [--batch-size 500]
     [--batch-concurrency 4] [--processes 1]

Each server is one uvicorn process on 127.0.0.1 (SQLite in a temp dir, or a fresh PostgreSQL
database from MQLBOT_TEST_POSTGRES_URL, dropped afterwards); this process is the async load
generator (aiohttp). Every request is a signed native webhook with fresh event ids spread over
10,000 leads. Figures, each for the bot and for a bare endpoint that only parses the JSON and
answers 202, with the ratio:
- fixed offered rate: single-event requests sent open-loop at --rate req/s for --seconds;
  latency is measured from the scheduled send time, so a stalled server cannot hide its queue;
- max throughput: single-event requests, --concurrency in flight, --max-requests in total;
- batches: --batches requests of --batch-size events, --batch-concurrency in flight → events/s;
- outcome batches: the same with CRM outcome events (opportunity created/won, JPY amounts),
  printed beside the activity batches.
On Linux it also prints the server's CPU time (all threads) per event in batches and per
single-event request, and how many cores it kept busy: a figure that varies far less from run
to run than throughput on a shared machine; on PostgreSQL also the CPU of PostgreSQL's own
backends for the database. With --processes N (PostgreSQL), only batches: through one server,
then through N servers on the same database, with the combined figure and the ratio.
Goals (issue 2): ≥ 1,000 single-event req/s, p99 < 50 ms at 500 req/s, ≥ 20,000 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret"
LEADS = 10_000
TYPES = ("email_opened", "email_clicked", "page_visited", "content_downloaded", "video_watched")
TOML = '[slack]\nsdr_channel = "C0SDR"\nmarketing_channel = "C0MKT"\n'


# --- the servers (run in child processes) -------------------------------------------------------


def serve_bot(config: str, url: str, port: int) -> None:
    import uvicorn

    from bot.runtime import Runtime
    from bot.settings import load_settings
    from bot.web import create_web_app

    settings = load_settings(
        Path(config),
        database_url=url,
        webhook_secret=SECRET,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-signing",
        slack_api_url="http://127.0.0.1:9/api/",
    )
    app = create_web_app(Runtime.build(settings))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def serve_bare(port: int) -> None:
    import uvicorn

    app = FastAPI()

    @app.post("/webhooks/events")
    async def events(request: Request) -> JSONResponse:
        body = json.loads(await request.body())
        count = len(body["events"]) if "events" in body else 1
        return JSONResponse({"accepted": count, "duplicates": 0, "mqls": []}, status_code=202)

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- the load generator ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Bodies:
    """Signed request bodies with unique event ids, built before the clock starts."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0
        self.base = datetime(2026, 11, 1, tzinfo=UTC)

    def _event(self) -> dict[str, object]:
        self.n += 1
        lead = self.rng.randrange(LEADS)
        return {
            "id": f"bench-{uuid.uuid4().hex}",
            "type": self.rng.choice(TYPES),
            "occurred_at": (self.base + timedelta(seconds=self.n)).isoformat(),
            "lead": {"id": f"crm-{lead}", "email": f"lead{lead}@example.com", "name": f"L {lead}"},
            "properties": {"url": "https://example.com/page", "asset": "MA guide"},
        }

    def _outcome(self) -> dict[str, object]:
        event = self._event()
        kind = self.rng.choice(("opportunity_created", "opportunity_won"))
        amount = str(self.rng.randrange(100_000, 10_000_000))
        opp = {"id": f"006B{self.rng.randrange(LEADS * 2)}", "amount": amount, "currency": "JPY"}
        return {**event, "type": kind, "opportunity": opp}

    def request(self, events: int, *, outcomes: bool = False) -> tuple[bytes, dict[str, str]]:
        make = self._outcome if outcomes else self._event
        payload: object = make() if events == 1 else {"events": [make() for _ in range(events)]}
        raw = json.dumps(payload).encode()
        ts = str(int(time.time()))
        mac = hmac.new(SECRET.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "X-MQLBot-Timestamp": ts,
            "X-MQLBot-Signature": f"sha256={mac}",
        }
        return raw, headers


@dataclass
class Run:
    count: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu: float | None = None  # the server's CPU seconds (all threads) during the run
    db_cpu: float | None = None  # PostgreSQL's own CPU seconds (its backends for the database)

    @property
    def cpu_share(self) -> float | None:
        """The server's CPU time per second of the run (2.0 = two cores busy)."""
        return None if self.cpu is None else self.cpu / self.seconds

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _post(session: object, url: str, raw: bytes, headers: dict[str, str]) -> bool:
    import aiohttp

    assert isinstance(session, aiohttp.ClientSession)
    async with session.post(url, data=raw, headers=headers) as response:
        await response.read()
        return response.status == 202


async def fixed_rate(url: str, requests: list[tuple[bytes, dict[str, str]]], rate: float) -> Run:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter() + 0.05

        async def one(i: int, raw: bytes, headers: dict[str, str]) -> None:
            nonlocal errors
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            ok = await _post(session, url, raw, headers)
            latencies.append(time.perf_counter() - due)
            errors += 0 if ok else 1

        await asyncio.gather(*(one(i, r, h) for i, (r, h) in enumerate(requests)))
        elapsed = time.perf_counter() - start
    return Run(len(requests), elapsed, latencies, errors)


async def closed_loop(
    url: str | list[str], requests: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> Run:
    """`concurrency` workers; with several URLs (servers), worker i posts to URL i mod n."""
    import aiohttp

    urls = [url] if isinstance(url, str) else url

    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(target: str) -> None:
            nonlocal errors
            for raw, headers in queue:
                sent = time.perf_counter()
                ok = await _post(session, target, raw, headers)
                latencies.append(time.perf_counter() - sent)
                errors += 0 if ok else 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(concurrency)))
        elapsed = time.perf_counter() - start
    return Run(len(requests), elapsed, latencies, errors)


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with status {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("server did not start within 30 s")


@contextmanager
def server(args: list[str]) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, *args, "--port", str(port)], cwd=ROOT)
    try:
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    from store.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp / 'bench.db'}"
        upgrade(url)
        yield url
        return
    import psycopg

    admin = os.environ.get(
        "MQLBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ).replace("postgresql+psycopg://", "postgresql://")
    name = f"mqlbot_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cpu_seconds(pid: int) -> float | None:
    """A process's CPU time so far, user + system, all threads (Linux /proc; else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backends(db_url: str | None) -> dict[int, float]:
    """PostgreSQL's backend processes serving the database at `db_url`, with their CPU so far."""
    if db_url is None or not db_url.startswith("postgresql"):
        return {}
    import psycopg

    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return {int(pid): cpu_seconds(int(pid)) or 0.0 for (pid,) in rows}


async def timed(pids: list[int], run: Awaitable[Run], db_url: str | None = None) -> Run:
    """Run a load and note how much CPU the servers (and PostgreSQL's backends) used meanwhile."""
    before = [cpu_seconds(pid) for pid in pids]
    db_before = backends(db_url)
    result = await run
    after = [cpu_seconds(pid) for pid in pids]
    if None not in before and None not in after:
        result.cpu = sum(a or 0.0 for a in after) - sum(b or 0.0 for b in before)
    if db_url is not None and db_url.startswith("postgresql"):
        # A backend started during the run counts from its start (its connection set-up included).
        db_after = backends(db_url)
        result.db_cpu = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    return result


async def measure(
    port: int, proc: subprocess.Popen[bytes], opts: argparse.Namespace, db_url: str | None = None
) -> dict[str, Run]:
    await wait_ready(port, proc)
    url = f"http://127.0.0.1:{port}/webhooks/events"
    bodies = Bodies(opts.seed)
    warm = [bodies.request(1) for _ in range(200)]
    await closed_loop(url, warm, 8)
    out: dict[str, Run] = {}
    fixed = [bodies.request(1) for _ in range(int(opts.rate * opts.seconds))]
    out["fixed"] = await timed([proc.pid], fixed_rate(url, fixed, opts.rate))
    single = [bodies.request(1) for _ in range(opts.max_requests)]
    out["max"] = await timed([proc.pid], closed_loop(url, single, opts.concurrency), db_url)
    batches = [bodies.request(opts.batch_size) for _ in range(opts.batches)]
    out["batch"] = await timed(
        [proc.pid], closed_loop(url, batches, opts.batch_concurrency), db_url
    )
    outcomes = [bodies.request(opts.batch_size, outcomes=True) for _ in range(opts.batches)]
    out["outcomes"] = await timed(
        [proc.pid], closed_loop(url, outcomes, opts.batch_concurrency), db_url
    )
    return out


async def measure_replicas(
    servers: list[tuple[int, subprocess.Popen[bytes]]], opts: argparse.Namespace, db_url: str
) -> tuple[Run, Run]:
    """Batches against the first server alone, then against all of them (same database)."""
    for port, proc in servers:
        await wait_ready(port, proc)
    urls = [f"http://127.0.0.1:{port}/webhooks/events" for port, _ in servers]
    bodies = Bodies(opts.seed)
    for url in urls:  # warm every server up
        await closed_loop(url, [bodies.request(opts.batch_size) for _ in range(4)], 2)
    pids = [proc.pid for _, proc in servers]
    one = [bodies.request(opts.batch_size) for _ in range(opts.batches)]
    alone = await timed(pids[:1], closed_loop(urls[0], one, opts.batch_concurrency), db_url)
    many = [bodies.request(opts.batch_size) for _ in range(opts.batches * len(urls))]
    concurrency = opts.batch_concurrency * len(urls)
    together = await timed(pids, closed_loop(urls, many, concurrency), db_url)
    return alone, together


def report(name: str, runs: dict[str, Run], batch_size: int) -> dict[str, float]:
    fixed, top, batch = runs["fixed"], runs["max"], runs["batch"]
    figures = {
        "fixed_rate": fixed.rate,
        "p50": fixed.pct(0.50),
        "p99": fixed.pct(0.99),
        "max_rps": top.rate,
        "max_p50": top.pct(0.50),
        "max_p99": top.pct(0.99),
        "events_s": batch.rate * batch_size,
        "batch_p50": batch.pct(0.50),
    }
    errors = fixed.errors + top.errors + batch.errors
    if batch.cpu is not None:
        figures["cpu_us_event"] = batch.cpu / (batch.count * batch_size) * 1e6
    print(
        f"{name:>5}: fixed {figures['fixed_rate']:7.0f} req/s  p50 {figures['p50']:6.1f} ms"
        f"  p99 {figures['p99']:6.1f} ms | max {figures['max_rps']:7.0f} req/s"
        f" (p50 {figures['max_p50']:.1f} ms, p99 {figures['max_p99']:.1f} ms)"
        f" | batches {figures['events_s']:8.0f} events/s (p50 {figures['batch_p50']:.0f} ms"
        f" per {batch_size}) | non-202: {errors}"
    )
    if batch.cpu is not None and top.cpu is not None:
        print(
            f"       server CPU: {figures['cpu_us_event']:.1f} µs per event in batches"
            f" ({batch.cpu_share:.2f} cores busy), {top.cpu / top.count * 1e6:.0f} µs per"
            f" single-event request ({top.cpu_share:.2f} cores)"
        )
    if batch.db_cpu is not None and top.db_cpu is not None:
        figures["db_us_event"] = batch.db_cpu / (batch.count * batch_size) * 1e6
        print(
            f"       PostgreSQL's own CPU: {figures['db_us_event']:.1f} µs per event in batches"
            f" ({batch.db_cpu / batch.seconds:.2f} cores), {top.db_cpu / top.count * 1e6:.0f} µs"
            f" per single-event request ({top.db_cpu / top.seconds:.2f} cores)"
        )
    outcome = runs["outcomes"]
    line = f"       outcome batches {outcome.rate * batch_size:8.0f} events/s (p50 {outcome.pct(0.5):.0f} ms)"
    if outcome.cpu is not None:
        line += f", server CPU {outcome.cpu / (outcome.count * batch_size) * 1e6:.1f} µs per event"
    print(f"{line} | non-202: {outcome.errors}")
    return figures


def report_replicas(alone: Run, together: Run, processes: int, batch_size: int) -> None:
    def line(name: str, run: Run) -> str:
        events = run.count * batch_size
        text = f"{name}: {events / run.seconds:8.0f} events/s"
        if run.cpu is not None:
            text += f", mqlbot {run.cpu / events * 1e6:.1f} µs/event"
        if run.db_cpu is not None:
            text += f", PostgreSQL {run.db_cpu / events * 1e6:.1f} µs/event"
        return text

    print(line("  1 process ", alone))
    print(line(f"  {processes} processes", together))
    ratio = (together.count / together.seconds) / (alone.count / alone.seconds)
    print(
        f"  ratio {processes} processes / 1: {ratio:.2f} (one machine: the servers, PostgreSQL"
        " and this load generator share its cores)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--max-requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batch-concurrency", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="with more than 1 (PostgreSQL): batches through 1, then N servers on one database",
    )
    parser.add_argument("--serve-bot", nargs=2, metavar=("CONFIG", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--serve-bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve_bot:
        serve_bot(opts.serve_bot[0], opts.serve_bot[1], opts.port)
        return
    if opts.serve_bare:
        serve_bare(opts.port)
        return

    print(
        f"webhook ingest, {opts.db}, {opts.processes} uvicorn process(es), loopback; offered"
        f" {opts.rate:.0f} req/s for {opts.seconds:.0f} s, max with {opts.concurrency} in flight"
        f" x {opts.max_requests}, {opts.batches} batches of {opts.batch_size};"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        config = tmp / "mqlbot.toml"
        config.write_text(TOML, encoding="utf-8")
        if opts.processes > 1:
            if opts.db != "postgres":
                raise SystemExit("--processes needs --db postgres (replicas share PostgreSQL)")
            with database(opts.db, tmp) as url, ExitStack() as stack:
                servers = [
                    stack.enter_context(server(["--serve-bot", str(config), url]))
                    for _ in range(opts.processes)
                ]
                alone, together = asyncio.run(measure_replicas(servers, opts, url))
            print(f"batches of {opts.batch_size}, {opts.batch_concurrency} in flight per process")
            report_replicas(alone, together, opts.processes, opts.batch_size)
            return
        with (
            database(opts.db, tmp) as url,
            server(["--serve-bot", str(config), url]) as (
                port,
                proc,
            ),
        ):
            bot = report("bot", asyncio.run(measure(port, proc, opts, url)), opts.batch_size)
        with server(["--serve-bare"]) as (port, proc):
            bare = report("bare", asyncio.run(measure(port, proc, opts)), opts.batch_size)
    print(
        f"ratio bot/bare: max req/s {bot['max_rps'] / bare['max_rps']:.2f},"
        f" events/s in batches {bot['events_s'] / bare['events_s']:.2f},"
        f" p99 at {opts.rate:.0f} req/s {bot['p99']:.1f} vs {bare['p99']:.1f} ms"
    )
    goals = (
        ("≥ 1,000 single-event req/s", bot["max_rps"] >= 1000),
        (f"p99 < 50 ms at {opts.rate:.0f} req/s", bot["p99"] < 50),
        ("≥ 20,000 events/s in batches", bot["events_s"] >= 20000),
    )
    print("goals: " + ", ".join(f"{g} {'met' if ok else 'NOT met'}" for g, ok in goals))


if __name__ == "__main__":
    main()
