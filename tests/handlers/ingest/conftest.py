"""Fixtures for the ingest tests: a runtime on a real database with a settable clock, and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from bot.web import create_web_app
from tests.handlers.ingest.builders import SECRET, SettableClock, build_runtime

RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
def clock(now: datetime) -> SettableClock:
    return SettableClock(now)


@pytest.fixture
async def make_runtime(config_file: Path, clock: SettableClock) -> AsyncIterator[RuntimeFactory]:
    """Build runtimes on a given database URL (closed at the end of the test)."""
    built: list[Runtime] = []

    def build(url: str, *, secret: str | None = SECRET) -> Runtime:
        runtime = build_runtime(config_file, url, clock, secret=secret)
        built.append(runtime)
        return runtime

    yield build
    for runtime in built:
        await runtime.close()


@pytest.fixture
async def runtime(make_runtime: RuntimeFactory, sqlite_url: str) -> Runtime:
    return make_runtime(sqlite_url)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_web_app(runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as c:
        yield c
