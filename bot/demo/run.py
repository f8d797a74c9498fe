"""`mqlbot demo`: the whole bot on SQLite against the local Slack stand-in, with sample leads."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import secrets
import socket
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import uvicorn

from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.settings import Settings
from bot.standin import SlackUserPlayer, StandinServer, Workspace
from bot.standin.player import BotResponse
from bot.standin.render import render_channel
from bot.standin.state import View
from bot.web import create_web_app
from bot.worker import background
from handlers.present.catalog import Catalog
from store.migrate import upgrade
from store.models import MqlState
from store.outbox import pending_count

SDR_CHANNEL = "C_SDR"
MARKETING_CHANNEL = "C_MKT"
MANAGER = "U_SUZUKI"
SDRS = ("U_SATO", "U_TANAKA", "U_EMILY")
TIMEZONE = "Asia/Tokyo"
STANDIN_TOKEN = "xoxb-standin"  # noqa: S105  (the stand-in's fixed token, not a secret)
Say = Callable[[str], None]


@dataclass(frozen=True)
class SampleLead:
    """A lead of the demo and the activity that brings it (or not) over the line."""

    lead: dict[str, str]
    events: list[tuple[str, dict[str, Any], dict[str, Any]]]  # (type, properties, extra fields)


SAMPLE_LEADS = (
    SampleLead(
        {
            "id": "crm-00042",
            "email": "aiko.sato@example.co.jp",
            "name": "佐藤 愛子",
            "company": "株式会社サンプル",
            "title": "マーケティング部 部長",
            "source": "webinar",
            "campaign": "2026-11 MAセミナー",
        },
        [
            ("email_opened", {"subject": "MA seminar follow-up"}, {}),
            ("page_visited", {"url": "https://example.com/solutions/ma"}, {}),
            ("content_downloaded", {"asset": "MA導入ガイド"}, {}),
            ("content_downloaded", {"asset": "Lead scoring whitepaper"}, {}),
            ("event_attended", {"event": "2026-11 MAセミナー"}, {}),
            ("form_submitted", {"form": "contact"}, {}),
            ("content_downloaded", {"asset": "Pricing overview"}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00077",
            "email": "daniel.kim@northwind.example",
            "name": "Daniel Kim",
            "company": "Northwind Traders",
            "title": "Head of Demand Generation",
            "source": "paid_search",
            "campaign": "Q4 pricing",
        },
        [
            ("video_watched", {"video": "Product demo (12 min)"}, {}),
            ("page_visited", {"url": "https://example.com/pricing"}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00105",
            "email": "hanako.yamada@contoso.example.jp",
            "name": "山田 花子",
            "company": "コントソ・ジャパン",
            "title": "営業企画",
            "source": "content_syndication",
            "campaign": "2026 industry report",
        },
        [("score_changed", {"tool": "marketing automation"}, {"score": 120})],
    ),
    SampleLead(
        {
            "id": "crm-00131",
            "email": "kenji.watanabe@univ.example.ac.jp",
            "name": "渡辺 健二",
            "company": "Example University",
            "title": "Student",
            "source": "organic",
            "campaign": "blog",
        },
        [
            ("form_submitted", {"form": "newsletter"}, {}),
            ("event_attended", {"event": "Open webinar"}, {}),
            ("content_downloaded", {"asset": "MA導入ガイド"}, {}),
            ("content_downloaded", {"asset": "Lead scoring whitepaper"}, {}),
            ("content_downloaded", {"asset": "Case study: retail"}, {}),
            ("content_downloaded", {"asset": "Case study: finance"}, {}),
        ],
    ),
    SampleLead(
        {
            "id": "crm-00200",
            "email": "lisa.chen@fabrikam.example",
            "name": "Lisa Chen",
            "company": "Fabrikam",
            "title": "Marketing Specialist",
            "source": "newsletter",
            "campaign": "November newsletter",
        },
        [
            ("email_opened", {"subject": "November newsletter"}, {}),
            ("email_clicked", {"url": "https://example.com/blog/scoring"}, {}),
        ],
    ),
)


def demo_settings(
    *,
    database_url: str,
    slack_api_url: str,
    signing_secret: str,
    webhook_secret: str,
    language: str,
) -> Settings:
    """Embedded defaults: the stand-in's channels and people, a round-the-clock SLA clock."""
    return Settings(
        database_url=database_url,
        slack_api_url=slack_api_url,
        webhook_secret=webhook_secret,
        SLACK_BOT_TOKEN=STANDIN_TOKEN,
        SLACK_SIGNING_SECRET=signing_secret,
        slack={
            "sdr_channel": SDR_CHANNEL,
            "marketing_channel": MARKETING_CHANNEL,
            "sdr_users": list(SDRS),
            "managers": [MANAGER, "U_JAMES"],
        },
        # Every day, all day: the demo's reminders fire whenever it is run.
        sla={"timezone": TIMEZONE, "business_hours": "00:00-24:00", "workdays": "mon-sun"},
        locale={"language": language},
        crm={"lead_url_template": "https://crm.example.com/leads/{external_id}"},
        sender={"per_channel_interval": "100ms", "poll_interval": "50ms"},
    )


class DemoClock:
    """The demo's time: it runs from ``start`` (default: now) at the real pace, plus fast-forwards.

    The whole bot reads this one clock, so the story can be told as of any instant.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._base = datetime.now(UTC) if start is None else start.astimezone(UTC)
        self._began = time.monotonic()
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return self._base + timedelta(seconds=time.monotonic() - self._began) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Jump ahead, as if that much time had passed."""
        self.offset += delta


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _signed(body: bytes, secret: str, at: datetime) -> dict[str, str]:
    """Headers of a native webhook request signed at ``at`` (the bot checks it on its clock)."""
    stamp = str(int(at.timestamp()))
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-MQLBot-Timestamp": stamp,
        "X-MQLBot-Signature": f"sha256={mac}",
    }


def sample_events(now: datetime) -> list[dict[str, Any]]:
    out = []
    for number, sample in enumerate(SAMPLE_LEADS):
        start = now - timedelta(hours=2, minutes=10 * number)
        for index, (kind, properties, extra) in enumerate(sample.events):
            out.append(
                {
                    "id": f"demo-{sample.lead['id']}-{index}",
                    "type": kind,
                    "occurred_at": (start + timedelta(minutes=7 * index)).isoformat(),
                    "lead": sample.lead,
                    "properties": properties,
                    **extra,
                }
            )
    return out


async def _until(check: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"demo: gave up waiting for {what}")
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class RunningBot:
    """The bot serving HTTP on a local port against the stand-in, and what talks to it."""

    runtime: Runtime
    clock: DemoClock
    http: httpx.AsyncClient
    player: SlackUserPlayer
    webhook_secret: str


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves Ctrl-C to its owner (several run in one demo process)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def quiet_server(app: Any, port: int, host: str = "127.0.0.1") -> uvicorn.Server:
    return _QuietServer(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
    )


@contextlib.asynccontextmanager
async def running_bot(
    slack: StandinServer, workdir: Path, language: str, clock: DemoClock
) -> AsyncIterator[RunningBot]:
    """The bot on SQLite in `workdir`, its sender running, until the block ends."""
    signing_secret = secrets.token_hex(16)
    webhook_secret = secrets.token_urlsafe(24)
    settings = demo_settings(
        database_url=f"sqlite:///{workdir / 'mqlbot.db'}",
        slack_api_url=slack.base_url,
        signing_secret=signing_secret,
        webhook_secret=webhook_secret,
        language=language,
    )
    upgrade(settings.database_url)
    runtime = Runtime.build(settings, clock=clock)
    port = _free_port()
    # The sender runs as in production; the scheduled jobs are run by the demo itself at its
    # fast-forwarded times instead of by the scheduler.
    web = create_web_app(
        runtime, background=lambda _app: background(runtime, only=frozenset({"sender"}))
    )
    server = quiet_server(web, port)
    serving = asyncio.create_task(server.serve())
    try:
        await _until(lambda: server.started, "the bot to start")
        bot_url = f"http://127.0.0.1:{port}"
        async with (
            httpx.AsyncClient(base_url=bot_url, timeout=10) as http,
            SlackUserPlayer(
                bot_url, signing_secret, slack.state, response_url_base=slack.url
            ) as player,
        ):
            yield RunningBot(runtime, clock, http, player, webhook_secret)
    finally:
        server.should_exit = True
        await serving
        await runtime.close()


async def post_events(bot: RunningBot, events: list[dict[str, Any]]) -> httpx.Response:
    """Events in the native format through the real webhook, signed as a marketing tool does."""
    body = json.dumps({"events": events}, ensure_ascii=False).encode()
    return await bot.http.post(
        "/webhooks/events", content=body, headers=_signed(body, bot.webhook_secret, bot.clock())
    )


class Demo:
    """One run of the demo: the stand-in, the bot's HTTP app and the scripted users."""

    def __init__(
        self, workdir: Path, language: str, say: Say, start: datetime | None = None
    ) -> None:
        self.workdir = workdir
        self.language = language
        self.say = say
        self.start = start
        self.state = Workspace.seeded(sdr_channel=SDR_CHANNEL, marketing_channel=MARKETING_CHANNEL)

    def cards(self) -> list[str]:
        """The ts of every MQL card in the inside-sales channel, oldest first."""
        return [m.ts for m in self.state.top_level(SDR_CHANNEL) if not m.is_reply]

    async def run(self) -> None:
        async with (
            StandinServer(self.state) as slack,
            running_bot(slack, self.workdir, self.language, DemoClock(self.start)) as bot,
        ):
            await self._script(bot.runtime, bot.clock, bot.http, bot.player, bot.webhook_secret)

    async def _script(
        self,
        runtime: Runtime,
        clock: DemoClock,
        http: httpx.AsyncClient,
        player: SlackUserPlayer,
        secret: str,
    ) -> None:
        cards = await self._post_samples(clock, http, secret)
        # The buttons are found by the labels the bot draws, in the demo's language.
        catalog = Catalog("ja" if self.language == "ja" else "en", ZoneInfo(TIMEZONE))
        if len(cards) >= 1:
            await self._race_for(player, cards[0], catalog)
        if len(cards) >= 2:
            await self._claim_and_classify(
                player,
                catalog,
                ("Emily claims the second card", "U_EMILY", cards[1]),
                ("Emily recycles it: timing", MqlState.RECYCLED, {"reason": "timing"}),
            )
        if len(cards) >= 4:
            await self._claim_and_classify(
                player,
                catalog,
                ("田中 claims the fourth card", "U_TANAKA", cards[3]),
                ("田中 disqualifies it: student", MqlState.DISQUALIFIED, {"reason": "student"}),
            )
        await self._a_week_later(runtime, clock)
        self.say("")
        for channel in (SDR_CHANNEL, MARKETING_CHANNEL):
            self.say(render_channel(self.state, channel, for_user="U_TANAKA", tz=TIMEZONE))

    async def _post_samples(
        self, clock: DemoClock, http: httpx.AsyncClient, secret: str
    ) -> list[str]:
        """Send the sample leads' events as marketing would; the ts of each card they made."""
        say = self.say
        now = clock()
        events = sample_events(now)
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        say(f"→ POST /webhooks/events with {len(events)} events for {len(SAMPLE_LEADS)} leads")
        answer = await http.post(
            "/webhooks/events", content=body, headers=_signed(body, secret, now)
        )
        say(f"← {answer.status_code} {answer.text}")
        expected = len(answer.json().get("mqls", []))
        await _until(lambda: len(self.cards()) >= expected, f"{expected} MQL cards")
        cards = self.cards()
        say(f"  {len(cards)} MQL cards posted to #inside-sales\n")
        return cards

    async def _step(self, text: str, action: Awaitable[BotResponse]) -> None:
        self.say(f"→ {text}")
        _answered(await action, text)
        await asyncio.sleep(0.3)

    async def _race_for(self, player: SlackUserPlayer, card: str, catalog: Catalog) -> None:
        """Two SDRs click Claim on the same card; the first wins and classifies it SQL."""
        # Both see the same unclaimed card; the second click lands on what they saw.
        seen = player.find_button(SDR_CHANNEL, card, catalog.t("button.claim"))
        await self._step(
            "佐藤 clicks Claim on the first card",
            player.click_button("U_SATO", SDR_CHANNEL, card, *seen),
        )
        await self._step(
            "田中 clicks Claim on the same card a moment later",
            player.click_button("U_TANAKA", SDR_CHANNEL, card, *seen),
        )
        sql = catalog.disposition_label(MqlState.SQL)
        await _until(lambda: _has_button(player, card, sql), "the disposition buttons")
        await self._through_modal(
            player,
            "佐藤 classifies it as SQL",
            "U_SATO",
            card,
            sql,
            {"note": "Budget approved for Q1; meeting booked."},
        )

    async def _claim_and_classify(
        self,
        player: SlackUserPlayer,
        catalog: Catalog,
        claim: tuple[str, str, str],
        disposition: tuple[str, MqlState, dict[str, str]],
    ) -> None:
        """An SDR claims a card (step text, user, card) and gives it a disposition (step text,
        which one, the modal's answers)."""
        said, user, card = claim
        told, state, answers = disposition
        await self._step(said, player.click(user, SDR_CHANNEL, card, catalog.t("button.claim")))
        label = catalog.disposition_label(state)
        await _until(lambda: _has_button(player, card, label), "the disposition buttons")
        await self._through_modal(player, told, user, card, label, answers)

    async def _a_week_later(self, runtime: Runtime, clock: DemoClock) -> None:
        """The reminder job 20 minutes on, then the weekly digest a week on."""
        say = self.say
        jobs = registry()
        await self._drained(runtime)
        clock.advance(timedelta(minutes=20))
        say("→ 20 minutes later the reminder job runs: the third card is still unclaimed")
        say(f"  {await run_in_slot(runtime, jobs['nag'], clock())}")
        await self._drained(runtime)
        clock.advance(timedelta(days=7))
        say("→ a week later the weekly digest goes to #marketing")
        say(f"  {await run_in_slot(runtime, jobs['digest'], clock())}")
        await self._drained(runtime)

    async def _through_modal(
        self,
        player: SlackUserPlayer,
        text: str,
        user: str,
        card: str,
        label: str,
        wanted: dict[str, str],
    ) -> None:
        """Click ``label`` on the card, then fill in and submit the modal that click opened.

        Only a modal opened after the click will do: the user's App Home is a view too, and the
        bot publishes it whenever the user's MQLs change, at a moment that depends on timing.
        """
        before = set(self.state.views)
        self.say(f"→ {text}")
        _answered(await player.click(user, SDR_CHANNEL, card, label), text)

        def opened() -> list[View]:
            return [
                v
                for key, v in list(self.state.views.items())
                if key not in before and v.user_id == user and v.type == "modal"
            ]

        await _until(lambda: bool(opened()), f"the modal of {text!r}")
        view = opened()[-1]
        values: dict[str, Any] = {}
        for block in view.payload.get("blocks", []):
            if block.get("type") != "input":
                continue
            action = block["element"].get("action_id", "")
            for key, value in wanted.items():
                if key in action:
                    values[block["block_id"]] = value
        self.say(f"  submits the modal: {wanted}")
        answer = _answered(await player.submit_view(user, view, values), text)
        if answer.body.strip() and answer.json().get("response_action") == "errors":
            raise RuntimeError(f"demo: the modal of {text!r} refused {wanted}: {answer.body}")
        await asyncio.sleep(0.3)

    async def _drained(self, runtime: Runtime, within: float = 20.0) -> None:
        """Wait until everything due has reached the stand-in (Home tab refreshes wait a minute)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with runtime.sessions() as session:
                if await pending_count(session, due_by=runtime.clock()) == 0:
                    return
            await asyncio.sleep(0.1)
        self.say("  (some messages were still queued when the demo stopped)")


def _answered(answer: BotResponse, what: str) -> BotResponse:
    """The bot's answer to a click or submission; a failed one stops the demo, saying which."""
    if answer.status != 200:
        raise RuntimeError(f"demo: {what!r} got HTTP {answer.status}: {answer.body[:200]}")
    return answer


def _has_button(player: SlackUserPlayer, ts: str, label: str) -> bool:
    try:
        player.find_button(SDR_CHANNEL, ts, label)
    except LookupError:
        return False
    return True


def run_demo(
    *,
    keep: Path | None = None,
    language: str = "en",
    say: Say = print,
    start: datetime | None = None,
) -> int:
    """Run the demo to its end and print what the channels received; return the exit status.

    ``start`` tells the story as of that instant instead of now (the tests use awkward ones).
    """
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        asyncio.run(Demo(keep, language, say, start).run())
        say(f"demo database kept in {keep / 'mqlbot.db'}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mqlbot-demo-") as workdir:
        asyncio.run(Demo(Path(workdir), language, say, start).run())
    return 0
