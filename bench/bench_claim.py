"""Benchmark: click-to-ack latency of Claim over real HTTP, 20 concurrent clicks on one card.

Run: python bench/bench_claim.py [--cards N] [--clickers N] [--db URL]
The bot runs as `mqlbot serve` in its own process (uvicorn, Bolt, the sender and scheduler,
SQLite by default) against the Slack stand-in running in this process. For each of N cards,
`--clickers` SDRs click Claim at the same moment: the figure is each signed block_actions POST
until the bot's HTTP answer, which Bolt sends once the listener has called ack() (the claim's
database work runs after it). Goal: p99 < 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.standin import BotResponse, SlackUserPlayer, StandinServer
from handlers.present.actions import ActionId
from tests.e2e.card_harness import (
    SDR_CHANNEL,
    SIGNING_SECRET,
    TOKEN,
    WEBHOOK_SECRET,
    config_toml,
    extra_sdrs,
    free_port,
    mql_event,
    signed_webhook,
    until,
    workspace,
)

MQLBOT = str(Path(sys.executable).with_name("mqlbot"))


class AiohttpPlayer(SlackUserPlayer):
    """The stand-in's player sending through aiohttp: httpx's pool costs several times more CPU
    per request under 20-way concurrency, which would be measured as the bot's latency."""

    def __init__(self, *args: Any, session: aiohttp.ClientSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session

    async def send(
        self,
        body: bytes,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> BotResponse:
        headers = self.signed_headers(body, timestamp=timestamp, content_type=content_type)
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        headers.update(extra_headers or {})
        async with self.session.post(self.url, data=body, headers=headers) as response:
            return BotResponse(response.status, await response.text(), dict(response.headers))


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


@asynccontextmanager
async def bot_process(tmp: Path, db_url: str, standin: StandinServer) -> AsyncIterator[str]:
    """`mqlbot serve` on a free port, pointed at the stand-in; yields its base URL."""
    config = tmp / "mqlbot.toml"
    config.write_text(config_toml(), encoding="utf-8")
    port = free_port()
    env = {
        **os.environ,
        "MQLBOT_DATABASE_URL": db_url,
        "MQLBOT_SLACK_API_URL": standin.base_url,
        "MQLBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    command = [MQLBOT, "serve", "--config", str(config), "--port", str(port)]
    log = (tmp / "bot.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient() as http:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"mqlbot serve exited: {(tmp / 'bot.log').read_text()}")
                try:
                    if (await http.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("mqlbot serve did not become healthy within 30 s")
                await asyncio.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


async def click_all(
    player: SlackUserPlayer, ts: str, clickers: list[str], value: str, block_id: str
) -> list[float]:
    """Every clicker presses Claim at the same moment; latencies in ms."""
    start = asyncio.Event()

    async def click(user: str) -> float:
        await start.wait()
        began = time.perf_counter()
        answer = await player.click_button(
            user, SDR_CHANNEL, ts, ActionId.CLAIM.value, value, block_id
        )
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status != 200:
            raise RuntimeError(f"click answered HTTP {answer.status}: {answer.body[:200]}")
        return elapsed

    tasks = [asyncio.create_task(click(user)) for user in clickers]
    await asyncio.sleep(0)
    start.set()
    return list(await asyncio.gather(*tasks))


async def run(cards: int, clickers: int, db_url: str | None, verbose: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = db_url or f"sqlite:///{tmp / 'bench.db'}"
        with StandinServer(workspace(clickers), token=TOKEN) as standin:
            state = standin.state
            connector = aiohttp.TCPConnector(limit=200)
            async with (
                bot_process(tmp, url, standin) as bot_url,
                httpx.AsyncClient(timeout=30) as http,
                aiohttp.ClientSession(connector=connector) as session,
            ):
                player = AiohttpPlayer(bot_url, SIGNING_SECRET, state, session=session)
                # Every card first (the sender posts about one a second into the channel).
                for n in range(cards + 1):
                    body = mql_event(f"crm-bench-{n}", f"Bench Lead {n}")
                    answer = await http.post(
                        f"{bot_url}/webhooks/events", content=body, headers=signed_webhook(body)
                    )
                    answer.raise_for_status()
                await until(
                    lambda: len(state.top_level(SDR_CHANNEL)) == cards + 1,
                    what="every card",
                    within=cards * 3 + 30,
                )
                users = extra_sdrs(clickers)
                samples: list[float] = []
                for n, card in enumerate(state.top_level(SDR_CHANNEL)):
                    _, value, block_id = player.find_button(SDR_CHANNEL, card.ts, "Claim")
                    latencies = await click_all(player, card.ts, users, value, block_id)
                    if n > 0:  # the first card warms up connections, auth.test, the member list
                        samples += latencies
                    if verbose:
                        print(
                            f"  card {n:2d}: min {min(latencies):6.1f}  max {max(latencies):6.1f} ms"
                        )
                    await asyncio.sleep(0.2)  # let the winner's work finish: one burst at a time
                await until(
                    lambda: len(state.ephemerals(SDR_CHANNEL)) == (cards + 1) * (clickers - 1),
                    what="every loser's ephemeral",
                    within=60,
                )
    backend = "SQLite" if url.startswith("sqlite") else "PostgreSQL"
    print(f"Claim click-to-ack over HTTP, bot in its own process ({backend})")
    print(f"  {cards} cards x {clickers} concurrent clicks = {len(samples)} samples")
    print(f"  p50 {statistics.median(samples):.1f} ms")
    print(f"  p99 {percentile(samples, 99):.1f} ms  (goal < 50 ms on SQLite)")
    print(f"  max {max(samples):.1f} ms")
    print(f"  every card: 1 owner and {clickers - 1} 'already claimed' ephemerals")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cards", type=int, default=20)
    parser.add_argument("--clickers", type=int, default=20)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite)")
    parser.add_argument(
        "--verbose", action="store_true", help="each card's fastest and slowest click"
    )
    args = parser.parse_args()
    if args.cards < 1 or args.clickers < 2:
        parser.error("--cards must be >= 1 and --clickers >= 2")
    asyncio.run(run(args.cards, args.clickers, args.db, args.verbose))


if __name__ == "__main__":
    main()
