"""The sender process killed with SIGKILL mid-burst and restarted: nothing lost, nothing twice.

The kill is aimed at the one window an outbox cannot close by itself: Slack has the post, the
sender never got the answer. The stand-in holds one chat.postMessage for a few seconds (it still
posts it afterwards); the process dies while waiting. The restarted sender must find that
message through its marker instead of posting it again.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.standin import Fault, StandinServer, Workspace
from store.models import OutboxMessage
from store.outbox import card_target, enqueue
from tests.bot.test_sender import TOKEN, card_blocks, make_runtime
from tests.e2e.test_sender_faults import markers

CARDS = 40
HELD_SECONDS = 3.0  # how long the stand-in holds the post the sender will never hear back about
LEASE_SECONDS = 6.0
REPO = Path(__file__).resolve().parents[2]
MQLBOT = str(Path(sys.executable).parent / "mqlbot")


@pytest.fixture
def server() -> Iterator[StandinServer]:
    with StandinServer(Workspace.seeded(), token=TOKEN) as running:
        yield running


def start_sender(sqlite_url: str, server: StandinServer, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "MQLBOT_DATABASE_URL": sqlite_url,
        "MQLBOT_SLACK_API_URL": server.base_url,
        "SLACK_BOT_TOKEN": TOKEN,
        "MQLBOT_SLACK__SDR_CHANNEL": "C_SDR",
        "MQLBOT_SLACK__MARKETING_CHANNEL": "C_MKT",
        "MQLBOT_SENDER__PER_CHANNEL_INTERVAL": "0.05s",
        "MQLBOT_SENDER__POLL_INTERVAL": "0.05s",
        "PYTHONPATH": str(REPO),
    }
    args = [MQLBOT, "sender", "--lease", str(LEASE_SECONDS), "--http-timeout", "5"]
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603


async def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll state another thread or process changes, for at most 30 s."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


async def test_sigkill_mid_burst_then_restart_loses_nothing_and_sends_nothing_twice(
    sqlite_url: str, server: StandinServer, now: datetime, tmp_path: Path
) -> None:
    slack = server.state
    runtime = make_runtime(sqlite_url, server.base_url)
    log = tmp_path / "sender.log"
    try:
        async with runtime.sessions() as session, session.begin():
            for i in range(CARDS):
                target = card_target(i)
                await enqueue(session, dedupe_key=f"card:{i}", kind="post", channel="C_SDR",
                              target_key=target, now=now,
                              payload={"text": f"MQL {i}", "blocks": card_blocks(f"{i} v1")})  # fmt: skip
                await enqueue(session, dedupe_key=f"card:{i}:v2", kind="update",
                              target_key=target, now=now,
                              payload={"text": f"MQL {i} claimed",
                                       "blocks": card_blocks(f"{i} v2")})  # fmt: skip

        first = start_sender(sqlite_url, server, log)
        try:
            await wait_for(lambda: len(slack.top_level("C_SDR")) >= 10, "the burst to start")
            slack.faults.inject("chat.postMessage", Fault.slow(HELD_SECONDS))
            # The fault is taken when the next post arrives: that request is now held.
            await wait_for(lambda: slack.faults.pending() == {}, "a post to be held")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        posted_at_kill = len(slack.top_level("C_SDR"))

        second = start_sender(sqlite_url, server, log)
        try:

            async def all_finished() -> bool:
                async with runtime.sessions() as session:
                    statuses = (await session.exec(select(OutboxMessage.status))).all()
                return all(s == "sent" for s in statuses)

            deadline = time.monotonic() + 60
            while not await all_finished():
                assert second.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                await asyncio.sleep(0.05)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)

        async with runtime.sessions() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    finally:
        await runtime.close()

    assert first.returncode == -signal.SIGKILL
    assert second.returncode == 0
    assert posted_at_kill < CARDS  # the kill really landed mid-burst
    # Every card posted exactly once and updated exactly once, the held one included.
    assert markers(slack, "chat.postMessage") == Counter({f"card:{i}": 1 for i in range(CARDS)})
    assert markers(slack, "chat.update") == Counter({f"card:{i}:v2": 1 for i in range(CARDS)})
    cards = slack.top_level("C_SDR")
    assert sorted(m.text for m in cards) == sorted(f"MQL {i} claimed" for i in range(CARDS))
    assert all([v.blocks for v in m.history][-1] == card_blocks(m.text.split()[1] + " v2")
               for m in cards)  # fmt: skip
    posts = {r.dedupe_key: r.result_ts for r in rows if r.kind == "post"}
    assert sorted(str(ts) for ts in posts.values()) == sorted(m.ts for m in cards)
    assert "was already posted" in log.read_text()  # the held post was found, not re-sent
