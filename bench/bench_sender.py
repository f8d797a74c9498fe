"""Benchmark: a burst of MQL card posts into one channel, drained against a rate-limited stand-in.

Run: python bench/bench_sender.py [--count 300] [--limit 10] [--burst 3] [--db URL]
The stand-in enforces `--limit` chat.postMessage per second per channel (token bucket with
`--burst`), as Slack does with about 1/s; the sender is configured with the same interval
(`[sender] per_channel_interval` = 1/limit). Figures: the achieved posting rate as a fraction
of the limit (goal >= 0.9), 429s received, messages lost and duplicated (goal 0 and 0).
`--limit 1` is the real Slack figure (300 posts take about 5 minutes); 10/s is the quick run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import select

from bot.runtime import Runtime
from bot.sender import MARKER_KEY, Sender, SenderOptions
from bot.settings import load_settings
from bot.standin import RateLimitPolicy, StandinServer, Workspace
from store.migrate import upgrade
from store.models import OutboxMessage
from store.outbox import card_target, enqueue

TOKEN = "xoxb-standin"
CHANNEL = "C_SDR"


def card(i: int) -> dict[str, object]:
    """A card about the size of the real one: header, fields, reasons, activity, a button."""
    return {
        "text": f"New MQL: Lead {i} (Example KK) score 120",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"New MQL: Lead {i}"}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "text": f"*Company*\nExample KK {i}"},
                {"type": "mrkdwn", "text": "*Score*\n120"},
                {"type": "mrkdwn", "text": "*Source*\nwebinar"},
                {"type": "mrkdwn", "text": "*Campaign*\n2026-11 MA seminar"},
            ]},
            {"type": "section", "text": {"type": "mrkdwn",
                                         "text": "*Why*\n• demo video then pricing page"}},
            {"type": "actions", "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Claim"},
                 "action_id": "claim", "value": str(i), "style": "primary"},
            ]},
        ],
    }  # fmt: skip


async def run(count: int, limit: float, burst: int, db_url: str | None) -> dict[str, object]:
    state = Workspace.seeded(rate_limit=RateLimitPolicy(enabled=True, per_second=limit,
                                                         burst=burst))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, StandinServer(state, token=TOKEN) as server:
        url = db_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        settings = load_settings(
            None,
            database_url=url,
            slack_api_url=server.base_url,
            SLACK_BOT_TOKEN=TOKEN,
            slack={"sdr_channel": CHANNEL, "marketing_channel": "C_MKT"},
            sender={"per_channel_interval": f"{1 / limit}s"},
        )
        runtime = Runtime.build(settings)
        try:
            now = runtime.clock()
            async with runtime.sessions() as session, session.begin():
                for i in range(count):
                    await enqueue(session, dedupe_key=f"card:{i}", kind="post",
                                  channel=CHANNEL, target_key=card_target(i), now=now,
                                  payload=card(i))  # fmt: skip
            stop = asyncio.Event()
            options = SenderOptions.from_settings(settings)
            started = time.perf_counter()
            async with Sender(runtime, options) as sender:
                task = asyncio.create_task(sender.run(stop))
                while True:
                    async with runtime.sessions() as session:
                        statuses = (await session.exec(select(OutboxMessage.status))).all()
                    if all(s != "pending" for s in statuses):
                        break
                    await asyncio.sleep(0.05)
                wall = time.perf_counter() - started
                stop.set()
                await task
        finally:
            await runtime.close()
    ok = [c for c in state.calls("chat.postMessage") if c.error is None]
    keys: Counter[str] = Counter()
    for call in ok:
        metadata = call.args.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        assert isinstance(metadata, dict)
        keys[str(metadata["event_payload"][MARKER_KEY])] += 1
    times = sorted(c.at for c in ok)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span > 0 else float("nan")
    return {
        "messages": count,
        "configured_limit_per_s": limit,
        "standin_burst": burst,
        "sender_interval_s": round(1 / limit, 4),
        "achieved_rate_per_s": round(rate, 3),
        "fraction_of_limit": round(rate / limit, 3),
        "rate_limited_429": sum(1 for c in state.calls("chat.postMessage") if c.status == 429),
        "lost": sum(1 for i in range(count) if keys[f"card:{i}"] == 0),
        "duplicated": sum(n - 1 for n in keys.values() if n > 1),
        "wall_seconds": round(wall, 2),
        "statuses": dict(Counter(statuses)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--limit", type=float, default=10.0, help="posts/s per channel")
    parser.add_argument("--burst", type=int, default=3, help="stand-in token bucket size")
    parser.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    args = parser.parse_args()
    figures = asyncio.run(run(args.count, args.limit, args.burst, args.db))
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
