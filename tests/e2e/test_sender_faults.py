"""The running sender loop through Slack outages and rate limits, alone and several at once."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sender import MARKER_KEY, Sender, SenderOptions
from bot.standin import Fault, StandinServer, Workspace
from store.models import OutboxMessage
from store.outbox import card_target, enqueue
from tests.bot.test_sender import TOKEN, card_blocks, make_runtime

QUICK = SenderOptions(
    per_channel_interval=timedelta(milliseconds=20),
    poll_interval=timedelta(milliseconds=20),
    backoff_base=timedelta(milliseconds=50),
    backoff_cap=timedelta(milliseconds=400),
    max_attempts=30,
)
CHANNELS = ("C_SDR", "C_MKT")


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    with StandinServer(Workspace.seeded(), token=TOKEN) as running:
        yield running


@pytest.fixture
def slack(server: StandinServer) -> Workspace:
    server.state.reset()
    return server.state


async def queue_cards(runtime: Runtime, now: datetime, count: int) -> None:
    """`count` cards spread over two channels, each a post, an update and a thread reply."""
    async with runtime.sessions() as session, session.begin():
        for i in range(count):
            target = card_target(i)
            channel = CHANNELS[i % 2]
            await enqueue(session, dedupe_key=f"card:{i}", kind="post", channel=channel,
                          target_key=target, now=now,
                          payload={"text": f"MQL {i}", "blocks": card_blocks(f"{i} v1")})  # fmt: skip
            await enqueue(session, dedupe_key=f"card:{i}:v2", kind="update", target_key=target,
                          now=now,
                          payload={"text": f"MQL {i} claimed", "blocks": card_blocks(f"{i} v2")})  # fmt: skip
            await enqueue(session, dedupe_key=f"card:{i}:r1", kind="reply", target_key=target,
                          now=now, payload={"text": f"claimed {i}"})  # fmt: skip


async def run_until_drained(runtimes: list[Runtime], expected: int) -> None:
    """Run one sender loop per runtime until every row is finished, then stop them."""
    stop = asyncio.Event()
    senders = [Sender(rt, QUICK, worker_id=f"sender-{n}") for n, rt in enumerate(runtimes)]

    async def one(sender: Sender) -> None:
        async with sender:
            await sender.run(stop)

    tasks = [asyncio.create_task(one(s)) for s in senders]
    try:
        async with asyncio.timeout(90):
            while True:
                async with runtimes[0].sessions() as session:
                    statuses = (await session.exec(select(OutboxMessage.status))).all()
                if len(statuses) == expected and all(s != "pending" for s in statuses):
                    break
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def received(slack: Workspace, method: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls(method) if c.error is None]


def markers(slack: Workspace, method: str) -> Counter[str]:
    """How many accepted calls of `method` carried each outbox row's marker."""
    found: Counter[str] = Counter()
    for args in received(slack, method):
        metadata = args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        assert isinstance(metadata, dict)
        found[str(metadata["event_payload"][MARKER_KEY])] += 1
    return found


def assert_each_card_exactly_once(slack: Workspace, count: int) -> None:
    posts = {f"card:{i}": 1 for i in range(count)} | {f"card:{i}:r1": 1 for i in range(count)}
    assert markers(slack, "chat.postMessage") == Counter(posts)
    assert markers(slack, "chat.update") == Counter({f"card:{i}:v2": 1 for i in range(count)})
    for i in range(count):
        [card] = [m for m in slack.top_level(CHANNELS[i % 2]) if m.text.startswith(f"MQL {i} ")]
        assert [v.blocks for v in card.history] == [card_blocks(f"{i} v1"), card_blocks(f"{i} v2")]
        assert [r.text for r in slack.replies(card.channel, card.ts)] == [f"claimed {i}"]


async def test_outage_and_rate_limits_then_everything_in_order_once(
    sqlite_url: str, server: StandinServer, slack: Workspace, now: datetime
) -> None:
    runtime = make_runtime(sqlite_url, server.base_url)
    try:
        await queue_cards(runtime, now, 12)
        slack.faults.down_for(1.0)  # every call answers 503 for a second
        slack.faults.inject("chat.postMessage", Fault.rate_limited(retry_after=1), count=3)
        slack.faults.inject("chat.update", Fault.server_error(500), count=4)
        slack.faults.inject("chat.postMessage", Fault.server_error(502), count=2)

        await run_until_drained([runtime], expected=36)

        async with runtime.sessions() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    finally:
        await runtime.close()
    assert {r.status for r in rows} == {"sent"}
    assert slack.faults.pending() == {}
    assert_each_card_exactly_once(slack, 12)
    failed = Counter((c.method, c.status) for c in slack.calls() if c.status != 200)
    assert failed[("chat.postMessage", 429)] == 3


@pytest.mark.postgres
@pytest.mark.parametrize("senders", [2, 3])
async def test_several_senders_on_postgres_send_each_message_once(
    postgres_url: str, server: StandinServer, slack: Workspace, now: datetime, senders: int
) -> None:
    runtimes = [make_runtime(postgres_url, server.base_url) for _ in range(senders)]
    try:
        async with runtimes[0].sessions() as session, session.begin():
            for i in range(200):
                await enqueue(session, dedupe_key=f"m:{i}", kind="post",
                              channel=CHANNELS[i % 2], now=now, payload={"text": f"m {i}"})  # fmt: skip

        await run_until_drained(runtimes, expected=200)
    finally:
        for rt in runtimes:
            await rt.close()
    posts = Counter(str(a["text"]) for a in received(slack, "chat.postMessage"))
    assert posts == Counter({f"m {i}": 1 for i in range(200)})
    assert sum(len(slack.messages(c)) for c in CHANNELS) == 200
