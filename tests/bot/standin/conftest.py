"""Fixtures: one stand-in server for the session, its state reset before every test."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import RateLimitPolicy, StandinServer, Workspace

TOKEN = "xoxb-standin"


class OffsetClock:
    """Real time plus an offset a test can move forward (to expire a trigger id)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class Standin:
    server: StandinServer
    state: Workspace
    clock: OffsetClock


@pytest.fixture(scope="session")
def _session_standin() -> Iterator[Standin]:
    clock = OffsetClock()
    state = Workspace.seeded(clock=clock)
    with StandinServer(state, token=TOKEN) as server:
        yield Standin(server, state, clock)


@pytest.fixture
def standin(_session_standin: Standin) -> Standin:
    _session_standin.state.reset()
    _session_standin.state.rate_limiter.configure(RateLimitPolicy())
    _session_standin.clock.offset = 0.0
    return _session_standin


@pytest.fixture
def state(standin: Standin) -> Workspace:
    return standin.state


@pytest.fixture
def client(standin: Standin) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=standin.server.base_url)
