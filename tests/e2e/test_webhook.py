"""End to end through real HTTP: uvicorn on a free port, and duplicates racing on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlmodel import select

from bot.runtime import Runtime
from bot.web import create_web_app
from handlers.ingest.native import validate_events
from handlers.ingest.webhook import ingest
from store.models import Event, Lead, Mql, OutboxMessage
from tests.handlers.ingest.builders import (
    SettableClock,
    build_runtime,
    counts,
    encode,
    event,
    signed_headers,
)

T0 = datetime.fromisoformat("2026-11-20T10:00:00+09:00")


Replicas = Callable[[str], Runtime]


@pytest.fixture
def clock(now: datetime) -> SettableClock:
    return SettableClock(now)


@pytest.fixture
async def replica(config_file: Path, clock: SettableClock) -> AsyncIterator[Replicas]:
    """Start bot runtimes on a database URL, as separate replicas would (closed afterwards)."""
    built: list[Runtime] = []

    def build(url: str) -> Runtime:
        built.append(build_runtime(config_file, url, clock))
        return built[-1]

    yield build
    for runtime in built:
        await runtime.close()


@asynccontextmanager
async def serve(runtime: Runtime) -> AsyncIterator[str]:
    """Run the bot's web app under uvicorn on loopback until the test ends."""
    # A socket bound and listening before uvicorn starts: requests queue until it accepts them.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_web_app(runtime), log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
def runtime(replica: Replicas, sqlite_url: str) -> Runtime:
    return replica(sqlite_url)


@pytest.fixture
async def base_url(runtime: Runtime) -> AsyncIterator[str]:
    async with serve(runtime) as url:
        yield url


def body_of(*events: dict[str, object]) -> bytes:
    return encode({"events": list(events)})


async def test_a_signed_batch_over_real_http_makes_one_mql_and_one_card(
    base_url: str, clock: SettableClock, runtime: Runtime
) -> None:
    events = [
        event(f"d{i}", at=T0 + timedelta(hours=i), properties={"asset": "MA guide"})
        for i in range(7)
    ]
    raw = body_of(*events)
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/webhooks/events", content=raw, headers=signed_headers(raw, int(clock.now.timestamp()))
        )
        again = await client.post(
            "/webhooks/events", content=raw, headers=signed_headers(raw, int(clock.now.timestamp()))
        )
    assert response.status_code == 202
    assert response.json() == {"accepted": 7, "duplicates": 0, "mqls": ["crm-00042"]}
    assert again.json() == {"accepted": 0, "duplicates": 7, "mqls": []}
    assert await counts(runtime.sessions) == {
        "lead": 1,
        "event": 7,
        "mql": 1,
        "audit": 1,
        "outbox": 1,
    }


async def test_a_too_large_body_is_refused_over_real_http(
    base_url: str, clock: SettableClock
) -> None:
    raw = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/webhooks/events", content=raw, headers=signed_headers(raw, int(clock.now.timestamp()))
        )
    assert response.status_code == 413
    assert response.json() == {"error": "body too large", "limit_bytes": 1048576}


@pytest.mark.parametrize("copies", [2, 5])
async def test_simultaneous_identical_requests_apply_once(
    replica: Replicas, any_db_url: str, clock: SettableClock, copies: int
) -> None:
    """Two replicas (two engines, two servers) receive the same batch at the same moment."""
    replicas = [replica(any_db_url) for _ in range(2)]
    events = [
        event(f"d{i}", at=T0 + timedelta(hours=i), properties={"asset": "MA guide"})
        for i in range(7)
    ]
    raw = body_of(*events)
    headers = signed_headers(raw, int(clock.now.timestamp()))
    async with (
        serve(replicas[0]) as url_a,
        serve(replicas[1]) as url_b,
        httpx.AsyncClient() as client,
    ):
        urls = [url_a, url_b]
        # Started replicas: each has connected once (a fresh SQLite file switches to WAL then).
        for url in urls:
            assert (await client.get(f"{url}/healthz")).status_code == 200
        responses = await asyncio.gather(
            *(
                client.post(f"{urls[i % 2]}/webhooks/events", content=raw, headers=headers)
                for i in range(copies)
            )
        )
    assert [r.status_code for r in responses] == [202] * copies
    bodies = sorted((r.json() for r in responses), key=lambda b: -b["accepted"])
    assert bodies[0] == {"accepted": 7, "duplicates": 0, "mqls": ["crm-00042"]}
    assert bodies[1:] == [{"accepted": 0, "duplicates": 7, "mqls": []}] * (copies - 1)
    async with replicas[0].sessions() as session:
        lead = (await session.exec(select(Lead))).one()
        assert lead.score == 105
        assert len((await session.exec(select(Event))).all()) == 7
        assert len((await session.exec(select(Mql))).all()) == 1
        assert len((await session.exec(select(OutboxMessage))).all()) == 1


async def test_concurrent_events_for_one_lead_are_applied_serially(
    replica: Replicas, any_db_url: str
) -> None:
    """Different events for one lead from two replicas at once: no lost update of the score."""
    replicas = [replica(any_db_url) for _ in range(2)]
    for started in replicas:  # each replica has connected once before the race
        async with started.engine.connect():
            pass

    async def one(i: int) -> None:
        target = replicas[i % 2]
        parsed = validate_events(
            event(f"e{i}", "email_opened", at=T0 + timedelta(minutes=i)),
            target.config.known_types,
        )
        await ingest(target.deps, parsed)

    await asyncio.gather(*(one(i) for i in range(20)))
    async with replicas[0].sessions() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.score == 40
