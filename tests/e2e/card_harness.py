"""The whole bot over real HTTP for card tests and benchmarks: stand-in Slack, uvicorn, sender."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from bot.runtime import Runtime
from bot.sender import Sender, SenderOptions
from bot.settings import load_settings
from bot.standin import Message, SlackUserPlayer, StandinServer, User, View, Workspace
from bot.web import create_web_app

TOKEN = "xoxb-standin"
SIGNING_SECRET = "e2e-signing-secret"
WEBHOOK_SECRET = "e2e-webhook-secret"
SDR_CHANNEL = "C_SDR"
OWNER, OTHER_SDR, MANAGER, MARKETER = "U_SATO", "U_TANAKA", "U_SUZUKI", "U_YAMAMOTO"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def extra_sdrs(count: int) -> list[str]:
    """Ids of the extra SDRs the workspace gets (for races with many clickers)."""
    return [f"U_SDR{i:03d}" for i in range(count)]


def workspace(extra: int = 0) -> Workspace:
    """The seeded bilingual team, plus ``extra`` SDRs in the SDR channel."""
    ws = Workspace.seeded()
    for user_id in extra_sdrs(extra):
        ws.add_user(User(user_id, user_id.lower(), f"SDR {user_id[5:]}"))
        ws.channel(SDR_CHANNEL).members.append(user_id)
    return ws


def config_toml(
    *, sdr_usergroup: str | None = None, crm_webhook_url: str | None = None, extra_toml: str = ""
) -> str:
    lines = [
        "[slack]",
        f'sdr_channel = "{SDR_CHANNEL}"',
        'marketing_channel = "C_MKT"',
        f'managers = ["{MANAGER}", "U_JAMES"]',
    ]
    if sdr_usergroup:
        lines.append(f'sdr_usergroup = "{sdr_usergroup}"')
    if crm_webhook_url:
        lines += ["[crm]", f'webhook_url = "{crm_webhook_url}"']
    return "\n".join(lines) + "\n" + extra_toml


def signed_webhook(body: bytes, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    """Headers of a signed native webhook request."""
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-MQLBot-Timestamp": ts,
        "X-MQLBot-Signature": f"sha256={digest}",
    }


def mql_event(lead_id: str, name: str = "Aiko Sato", *, event_id: str | None = None) -> bytes:
    """One native event whose tool-given score makes the lead an MQL at once."""
    return json.dumps(
        {
            "id": event_id or f"evt-{lead_id}",
            "type": "form_submitted",
            "occurred_at": "2026-11-24T10:15:00+09:00",
            "lead": {
                "id": lead_id,
                "email": f"{lead_id}@example.co.jp",
                "name": name,
                "company": "Example KK",
                "title": "Marketing Manager",
                "source": "webinar",
                "campaign": "2026-11 MA seminar",
            },
            "score": 150,
            "properties": {"form": "Contact sales"},
        }
    ).encode()


@dataclass
class Bot:
    """A running bot and the Slack it talks to."""

    runtime: Runtime
    url: str
    standin: StandinServer
    player: SlackUserPlayer
    http: httpx.AsyncClient

    @property
    def state(self) -> Workspace:
        return self.standin.state

    async def post_webhook(self, body: bytes) -> httpx.Response:
        return await self.http.post(
            f"{self.url}/webhooks/events", content=body, headers=signed_webhook(body)
        )

    def cards(self) -> list[Message]:
        """Top-level messages of the SDR channel, oldest first."""
        return self.state.top_level(SDR_CHANNEL)

    def card(self, ts: str) -> Message:
        return self.state.message(SDR_CHANNEL, ts)

    def labels(self, ts: str) -> list[str]:
        """The card's buttons by visible label, as shown now."""
        return [str(b.element["text"]["text"]) for b in self.player.buttons(SDR_CHANNEL, ts)]

    def thread(self, ts: str) -> list[str]:
        return [m.text for m in self.state.replies(SDR_CHANNEL, ts) if m.ts != ts]

    def ephemerals(self, user: str | None = None) -> list[str]:
        return [e.text for e in self.state.ephemerals(SDR_CHANNEL, user)]

    def last_view(self, user: str) -> View:
        """The modal most recently opened for ``user``."""
        views = [
            v
            for v in self.state.views.values()
            if v.user_id == user and v.payload.get("type") == "modal"
        ]
        if not views:
            raise LookupError(f"no modal was opened for {user}")
        return views[-1]


async def until(check: Callable[[], bool], *, what: str, within: float = 15.0) -> None:
    """Wait until ``check()`` holds (the sender works in the background); fail naming ``what``."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running_bot(
    tmp_path: Path,
    db_url: str,
    *,
    extra: int = 0,
    sdr_usergroup: str | None = None,
    crm_webhook_url: str | None = None,
    sender: bool = True,
    channel_interval: timedelta = timedelta(milliseconds=20),
    poll_interval: timedelta = timedelta(milliseconds=10),
    extra_toml: str = "",
) -> AsyncIterator[Bot]:
    """The bot on a free port with the stand-in as Slack and the sender draining the outbox.

    The stand-in's rate limit is off and the sender paces each channel at ``channel_interval``
    so a test runs in seconds; the 1/s pacing has its own tests and benchmark.
    """
    config = tmp_path / "mqlbot.toml"
    config.write_text(
        config_toml(
            sdr_usergroup=sdr_usergroup, crm_webhook_url=crm_webhook_url, extra_toml=extra_toml
        ),
        encoding="utf-8",
    )
    with StandinServer(workspace(extra), token=TOKEN) as standin:
        settings = load_settings(
            config,
            database_url=db_url,
            slack_api_url=standin.base_url,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            webhook_secret=WEBHOOK_SECRET,
        )
        runtime = Runtime.build(settings)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_web_app(runtime),
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
            )
        )
        serving = asyncio.create_task(server.serve())
        stop = asyncio.Event()
        options = SenderOptions.from_settings(
            settings,
            per_channel_interval=channel_interval,
            poll_interval=poll_interval,
        )
        draining: asyncio.Task[Any] | None = None
        try:
            await until(lambda: server.started, what="uvicorn to start")
            url = f"http://127.0.0.1:{port}"
            async with (
                Sender(runtime, options) as running_sender,
                httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=100)) as http,
                SlackUserPlayer(
                    url, SIGNING_SECRET, standin.state, client=http, response_url_base=standin.url
                ) as player,
            ):
                if sender:
                    draining = asyncio.create_task(running_sender.run(stop))
                yield Bot(runtime, url, standin, player, http)
                stop.set()
                if draining is not None:
                    await draining
        finally:
            stop.set()
            server.should_exit = True
            await serving
            await runtime.close()
