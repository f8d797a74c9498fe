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

from bot.demo.narration import Narrator
from bot.demo.samples import CAMPAIGN_NAMES, SAMPLE_LEADS, SQL_NOTE, in_language, sample_events
from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.settings import Settings, load_settings
from bot.standin import SlackUserPlayer, StandinServer, Workspace
from bot.standin.player import BotResponse
from bot.standin.render import Style, render_channel
from bot.standin.state import View
from bot.web import create_web_app
from bot.worker import background
from handlers.context import HandlerConfig
from handlers.jobs.weekly_digest import digest_week
from handlers.present.catalog import Catalog
from scoring.digest import last_digest_time
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


# The demo's own settings, under the user's configuration file and MQLBOT_* variables.
DEMO_DEFAULTS: dict[str, Any] = {
    # Every day, all day: the demo's reminders fire whenever it is run.
    "sla": {"timezone": TIMEZONE, "business_hours": "00:00-24:00", "workdays": "mon-sun"},
    "crm": {"lead_url_template": "https://crm.example.com/leads/{external_id}"},
    "sender": {"per_channel_interval": "100ms", "poll_interval": "50ms"},
    "names": {"campaigns": CAMPAIGN_NAMES},
    # The built-in trigger, also matching the Japanese title of the sample demo video.
    "scoring": {
        "triggers": {
            "demo_then_pricing": {
                "within": "72h",
                "steps": [
                    {"type": "video_watched", "match": {"video": "(?i)demo|デモ"}},
                    {"type": "page_visited", "match": {"url": "/pricing"}},
                ],
            }
        }
    },
}


def demo_settings(
    *,
    database_url: str,
    slack_api_url: str,
    signing_secret: str,
    webhook_secret: str,
    language: str | None = None,
    config: Path | None = None,
) -> Settings:
    """The user's configuration (file and environment, as for `serve`) over the demo's defaults.

    What the demo talks to is always its own, whatever the configuration says: the stand-in with
    its fixed token, channels and people (never a real workspace), its database, no CRM webhook.
    ``language`` (``--language``) wins over ``[locale] language``.
    """
    forced: dict[str, Any] = {
        "database_url": database_url,
        "slack_api_url": slack_api_url,
        "webhook_secret": webhook_secret,
        "SLACK_BOT_TOKEN": STANDIN_TOKEN,
        "SLACK_SIGNING_SECRET": signing_secret,
        "SLACK_APP_TOKEN": None,
        "slack": {
            "sdr_channel": SDR_CHANNEL,
            "marketing_channel": MARKETING_CHANNEL,
            "sdr_users": list(SDRS),
            "sdr_usergroup": None,
            "managers": [MANAGER, "U_JAMES"],
        },
        "crm": {"webhook_url": None},
    }
    if language is not None:
        forced["locale"] = {"language": language}
    return load_settings(config, defaults=DEMO_DEFAULTS, **forced)


def demo_language(config: Path | None, language: str | None = None) -> str:
    """The language the demo speaks: ``--language``, else the configured one (file, environment).

    Raises ConfigError, as the demo itself would, when the configuration cannot run.
    """
    if language is not None:
        return language
    settings = demo_settings(
        database_url="sqlite://",
        slack_api_url="http://127.0.0.1/",
        signing_secret="unused",  # noqa: S106  (only the language is read)
        webhook_secret="unused",  # noqa: S106
        config=config,
    )
    return settings.locale.language


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
    slack: StandinServer,
    workdir: Path,
    language: str | None,
    clock: DemoClock,
    *,
    config: Path | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot on SQLite in `workdir`, its sender running, until the block ends.

    Its settings are the user's configuration (``config``, the environment) over the demo's
    defaults; ``language`` None takes the configured one.
    """
    signing_secret = secrets.token_hex(16)
    webhook_secret = secrets.token_urlsafe(24)
    settings = demo_settings(
        database_url=f"sqlite:///{workdir / 'mqlbot.db'}",
        slack_api_url=slack.base_url,
        signing_secret=signing_secret,
        webhook_secret=webhook_secret,
        language=language,
        config=config,
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
        self,
        workdir: Path,
        language: str | None,
        say: Say,
        start: datetime | None = None,
        *,
        config: Path | None = None,
        ansi: bool = False,
    ) -> None:
        """``language`` None takes the configured ``[locale] language``; ``ansi`` draws bold."""
        self.workdir = workdir
        self.config = config
        self.language = language or "en"  # until the settings say which
        self.language_option = language
        self.say = say
        self.ansi = ansi
        self.tell = Narrator(Catalog("en", ZoneInfo(TIMEZONE)))  # until the settings are read
        self.clock = DemoClock(start)
        self.posted_at = self.clock()  # when the sample events went out (the script sets it)
        # The stand-in stamps messages with the demo's clock, so its fast-forwards show.
        self.state = Workspace.seeded(
            sdr_channel=SDR_CHANNEL,
            marketing_channel=MARKETING_CHANNEL,
            clock=lambda: self.clock().timestamp(),
        )

    def cards(self) -> list[str]:
        """The ts of every MQL card in the inside-sales channel, oldest first."""
        return [m.ts for m in self.state.top_level(SDR_CHANNEL) if not m.is_reply]

    async def run(self) -> None:
        async with (
            StandinServer(self.state) as slack,
            running_bot(
                slack, self.workdir, self.language_option, self.clock, config=self.config
            ) as bot,
        ):
            config = bot.runtime.config
            self.language = config.language
            self.tell = Narrator(Catalog(config.language, config.timezone))
            await self._script(bot.runtime, bot.clock, bot.http, bot.player, bot.webhook_secret)

    async def _script(
        self,
        runtime: Runtime,
        clock: DemoClock,
        http: httpx.AsyncClient,
        player: SlackUserPlayer,
        secret: str,
    ) -> None:
        tell = self.tell
        cards = await self._post_samples(clock, http, secret)
        if len(cards) >= 1:
            await self._race_for(player, cards[0])
        recycled = tell.catalog.disposition_label(MqlState.RECYCLED)
        disqualified = tell.catalog.disposition_label(MqlState.DISQUALIFIED)
        if len(cards) >= 2:
            await self._claim_and_classify(
                player,
                (tell.t("claim_second"), "U_EMILY", cards[1]),
                (tell.t("recycle", label=recycled), MqlState.RECYCLED, {"reason": "timing"}),
            )
        if len(cards) >= 4:
            await self._claim_and_classify(
                player,
                (tell.t("claim_fourth"), "U_TANAKA", cards[3]),
                (
                    tell.t("disqualify", label=disqualified),
                    MqlState.DISQUALIFIED,
                    {"reason": "student"},
                ),
            )
        await self._later(runtime, clock)
        self.say("")
        style = Style(language=self.language, ansi=self.ansi)
        for channel in (SDR_CHANNEL, MARKETING_CHANNEL):
            self.say(
                render_channel(
                    self.state,
                    channel,
                    for_user="U_TANAKA",
                    tz=runtime.config.timezone.key,
                    style=style,
                )
            )

    async def _post_samples(
        self, clock: DemoClock, http: httpx.AsyncClient, secret: str
    ) -> list[str]:
        """Send the sample leads' events as marketing would; the ts of each card they made."""
        say, tell = self.say, self.tell
        self.posted_at = now = clock()
        events = sample_events(now, self.language)
        body = json.dumps({"events": events}, ensure_ascii=False).encode()
        say(tell.t("post", events=len(events), leads=len(SAMPLE_LEADS)))
        answer = await http.post(
            "/webhooks/events", content=body, headers=_signed(body, secret, now)
        )
        say(tell.answer(answer.status_code, answer.text, answer.json()))
        expected = len(answer.json().get("mqls", []))
        await _until(lambda: len(self.cards()) >= expected, f"{expected} MQL cards")
        cards = self.cards()
        say(tell.t("cards", count=len(cards)))
        return cards

    async def _step(self, text: str, action: Awaitable[BotResponse]) -> None:
        self.say(f"→ {text}")
        _answered(await action, text)
        await asyncio.sleep(0.3)

    async def _race_for(self, player: SlackUserPlayer, card: str) -> None:
        """Two SDRs click Claim on the same card; the first wins and classifies it SQL."""
        # The buttons are found by the labels the bot draws, in the configured language.
        tell, claim = self.tell, self.tell.catalog.t("button.claim")
        # Both see the same unclaimed card; the second click lands on what they saw.
        seen = player.find_button(SDR_CHANNEL, card, claim)
        await self._step(
            tell.t("claim_first", claim=claim),
            player.click_button("U_SATO", SDR_CHANNEL, card, *seen),
        )
        await self._step(
            tell.t("claim_again", claim=claim),
            player.click_button("U_TANAKA", SDR_CHANNEL, card, *seen),
        )
        sql = tell.catalog.disposition_label(MqlState.SQL)
        await _until(lambda: _has_button(player, card, sql), "the disposition buttons")
        await self._through_modal(
            player,
            tell.t("classify_sql", label=sql),
            "U_SATO",
            card,
            sql,
            {"note": in_language(SQL_NOTE, self.language)},
        )

    async def _claim_and_classify(
        self,
        player: SlackUserPlayer,
        claim: tuple[str, str, str],
        disposition: tuple[str, MqlState, dict[str, str]],
    ) -> None:
        """An SDR claims a card (step text, user, card) and gives it a disposition (step text,
        which one, the modal's answers)."""
        said, user, card = claim
        told, state, answers = disposition
        catalog = self.tell.catalog
        await self._step(said, player.click(user, SDR_CHANNEL, card, catalog.t("button.claim")))
        label = catalog.disposition_label(state)
        await _until(lambda: _has_button(player, card, label), "the disposition buttons")
        await self._through_modal(player, told, user, card, label, answers)

    async def _later(self, runtime: Runtime, clock: DemoClock) -> None:
        """The reminder job 20 minutes on, then the first weekly digest that holds the MQLs."""
        say, tell = self.say, self.tell
        jobs = registry()
        await self._drained(runtime)
        clock.advance(timedelta(minutes=20))
        say(tell.t("nag"))
        say(tell.job(await run_in_slot(runtime, jobs["nag"], clock())))
        await self._drained(runtime)
        digest_at = digest_time_covering(self.posted_at, runtime.config)
        clock.advance(max(digest_at - clock(), timedelta()))
        say(tell.t("digest", when=tell.catalog.format_datetime(digest_at)))
        say(tell.job(await run_in_slot(runtime, jobs["digest"], digest_at)))
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
        shown = []
        for block in view.payload.get("blocks", []):
            if block.get("type") != "input":
                continue
            action = block["element"].get("action_id", "")
            for key, value in wanted.items():
                if key in action:
                    values[block["block_id"]] = value
                    shown.append(self.tell.t("modal_value", **_as_shown(block, value)))
        self.say(self.tell.t("modal", values=self.tell.catalog.t("list.separator").join(shown)))
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
        self.say(self.tell.t("still_queued"))


def _as_shown(block: dict[str, Any], value: str) -> dict[str, str]:
    """An input block's label and the value entered, as the user saw them (an option's text)."""
    element = block.get("element", {})
    options = {o.get("value"): o.get("text", {}).get("text") for o in element.get("options", [])}
    return {"label": block.get("label", {}).get("text", ""), "value": options.get(value) or value}


def digest_time_covering(moment: datetime, config: HandlerConfig) -> datetime:
    """The first digest time whose report holds ``moment``: the demo's MQLs are in the digest it
    shows whatever the day and hour it runs and whichever ``[digest]`` settings are in force."""
    for weeks in (1, 2):
        sent = last_digest_time(
            moment + timedelta(weeks=weeks),
            weekday=config.digest_weekday,
            at=config.digest_time,
            tz=config.timezone,
        )
        period, _ = digest_week(sent, config)
        if period.start <= moment < period.end:
            return sent.astimezone(UTC)
    raise RuntimeError(f"demo: no digest within two weeks reports on {moment.isoformat()}")


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
    language: str | None = None,
    config: Path | None = None,
    say: Say = print,
    start: datetime | None = None,
    ansi: bool = False,
) -> int:
    """Run the demo to its end and print what the channels received; return the exit status.

    ``language`` None takes the configured ``[locale] language``; ``start`` tells the story as
    of that instant instead of now (the tests use awkward ones); ``ansi`` draws bold and italic
    with terminal escape codes.
    """
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        demo = Demo(keep, language, say, start, config=config, ansi=ansi)
        asyncio.run(demo.run())
        say(demo.tell.t("kept", path=keep / "mqlbot.db"))
        return 0
    with tempfile.TemporaryDirectory(prefix="mqlbot-demo-") as workdir:
        asyncio.run(Demo(Path(workdir), language, say, start, config=config, ansi=ansi).run())
    return 0
