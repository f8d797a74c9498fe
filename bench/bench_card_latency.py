"""Benchmark: webhook-to-card latency, from the webhook's 202 to the stand-in receiving the post.

Run: python bench/bench_card_latency.py [--cards N] [--gap SECONDS] [--db URL]
The bot (uvicorn, the webhook, the outbox sender with its default settings: 1 post/s per
channel, 200 ms poll) runs against the Slack stand-in. One MQL-making event is posted every
`--gap` seconds (more than the 1/s channel pace, so no card waits for a rate limit); the figure
is the wall time from the 202 answer to the stand-in's chat.postMessage for that card.
Goal: p95 < 500 ms when not rate limited.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from store.migrate import upgrade
from tests.e2e.card_harness import SDR_CHANNEL, mql_event, running_bot, until


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


async def run(cards: int, gap: float, db_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = db_url or f"sqlite:///{tmp / 'bench.db'}"
        upgrade(url)
        async with running_bot(
            tmp,
            url,
            channel_interval=timedelta(seconds=1),
            poll_interval=timedelta(milliseconds=200),
        ) as bot:
            accepted: list[float] = []
            for n in range(cards + 1):
                response = await bot.post_webhook(mql_event(f"crm-latency-{n}", f"Lead {n}"))
                accepted.append(time.time())
                if response.status_code != 202:
                    raise RuntimeError(f"webhook answered {response.status_code}: {response.text}")
                posted = n + 1

                def card_posted(expected: int = posted) -> bool:
                    return len(bot.cards()) == expected

                await until(card_posted, what=f"card {n}")
                await asyncio.sleep(gap)
            posts = [
                c.at
                for c in bot.state.calls("chat.postMessage")
                if c.args.get("channel") == SDR_CHANNEL and c.status == 200
            ]
    # The first card warms up connections and the pace row; it is left out.
    samples = [(post - sent) * 1000 for post, sent in zip(posts[1:], accepted[1:], strict=True)]
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"Webhook 202 → stand-in chat.postMessage ({backend}, sender defaults: 1/s, 200 ms poll)")
    print(f"  cards {len(samples)}, one every {gap:.1f} s (never rate limited)")
    print(f"  p50 {statistics.median(samples):.0f} ms")
    print(f"  p95 {percentile(samples, 95):.0f} ms  (goal < 500 ms)")
    print(f"  max {max(samples):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cards", type=int, default=30)
    parser.add_argument("--gap", type=float, default=1.1)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    args = parser.parse_args()
    if args.cards < 1 or args.gap < 0:
        parser.error("--cards must be >= 1 and --gap >= 0")
    asyncio.run(run(args.cards, args.gap, args.db))


if __name__ == "__main__":
    main()
