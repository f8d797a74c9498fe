"""`mqlbot demo` in a browser: the bot, the stand-in and the demo's controls behind one page."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.demo.run import (
    MANAGER,
    MARKETING_CHANNEL,
    SDR_CHANNEL,
    SDRS,
    TIMEZONE,
    DemoClock,
    RunningBot,
    post_events,
    running_bot,
)
from bot.demo.samples import SAMPLE_LEADS, in_language, sample_events
from bot.jobs import registry, run_in_slot
from bot.standin import StandinServer, Workspace
from bot.standin.client import SlackClient
from bot.standin.page import Controls, Screen
from bot.standin.page_text import WORDS
from handlers.jobs.weekly_digest import digest_slot

EVENT_TYPES = (
    "page_visited",
    "email_opened",
    "email_clicked",
    "content_downloaded",
    "video_watched",
    "form_submitted",
    "event_attended",
    "unsubscribed",
)
STEPS = {
    "20m": timedelta(minutes=20),
    "1d": timedelta(days=1),
    "1w": timedelta(weeks=1),
    "90d": timedelta(days=90),
}
# Jobs a clock jump makes due; each runs in the slot of the new time, so once per slot.
CLOCK_JOBS = ("nag", "recycle", "decay")
BURST_FIRST = ("Haruto", "Yui", "Sota", "Mio", "Ren", "Olivia", "Noah", "Emma", "Liam", "Ava")
BURST_LAST = ("Ito", "Kato", "Kobayashi", "Nakamura", "Smith", "Garcia", "Lee", "Martin")
BURST_SOURCES = ("webinar", "paid_search", "organic", "newsletter", "content_syndication")
# Each lead of a burst qualifies: the seminar and a download, then the demo video followed by
# the pricing page (the default demo_then_pricing trigger).
BURST_ACTIVITY = (
    ("event_attended", {"event": "2026-12 MAセミナー"}),
    ("content_downloaded", {"asset": "MA導入ガイド"}),
    ("video_watched", {"video": "Product demo (12 min)"}),
    ("page_visited", {"url": "https://example.com/pricing"}),
)
MAX_BURST = 200


class ControlError(ValueError):
    """A demo control asked for something that does not exist (a lead, an event type, a step)."""


class Restarting(RuntimeError):
    """The bot is between two runs (switching language); the page asks again in a moment."""


class DemoPage:
    """One demo process: the stand-in, the bot (restarted to switch language) and the page's client.

    `generation` grows on every restart, so open pages know to reload.
    """

    def __init__(
        self, slack: StandinServer, clock: DemoClock, language: str, config: Path | None = None
    ) -> None:
        """``config`` is the user's configuration file, read under the demo's own settings."""
        self.slack = slack
        self.config = config
        self.state: Workspace = slack.state
        self.clock = clock
        self.language = language
        self.generation = 0
        self.last_result = ""
        self.revision = 0
        self.closing = False
        self._bot: RunningBot | None = None
        self._client: SlackClient | None = None
        self._exit: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._burst_count = 0

    @property
    def bot(self) -> RunningBot:
        if self._bot is None:
            raise Restarting("the demo's bot is restarting")
        return self._bot

    @property
    def client(self) -> SlackClient:
        if self._client is None:
            raise Restarting("the demo's bot is restarting")
        return self._client

    def changes(self) -> tuple[int, int, int]:
        """Anything an open page would redraw for: the stand-in, open modals, the controls."""
        client = self._client.revision if self._client else 0
        return self.state.revision, client, self.revision

    # ----- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """A fresh bot on a fresh database, with the sample leads sent through the webhook."""
        stack = contextlib.AsyncExitStack()
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mqlbot-demo-")))
        try:
            bot = await stack.enter_async_context(
                running_bot(self.slack, workdir, self.language, self.clock, config=self.config)
            )
            self._bot, self._client = bot, SlackClient(self.state, bot.player)
            answer = await post_events(bot, sample_events(self.clock(), self.language))
            self._result(f"{answer.status_code} {answer.text}")
        except BaseException:
            await stack.aclose()
            raise
        self._exit = stack
        self.generation += 1

    async def stop(self) -> None:
        if self._exit is not None:
            await self._exit.aclose()
        self._exit, self._bot, self._client = None, None, None

    async def restart(self, language: str) -> None:
        """Start over in `language`: empty channels, a new database, the sample leads again."""
        if language not in WORDS:
            raise ControlError(f"language {language!r}: use en or ja")
        async with self._lock:
            await self.stop()
            self.state.reset()  # the clock keeps its lead: the stand-in's ts only move forward
            self.language = language
            await self.start()

    # ----- controls --------------------------------------------------------------------------

    def _result(self, text: str) -> str:
        self.last_result = text
        self.revision += 1
        return text

    async def send_event(self, lead_id: str, kind: str) -> str:
        """One event of a sample lead, now, through the signed webhook."""
        sample = next((s for s in SAMPLE_LEADS if s.lead["id"] == lead_id), None)
        if sample is None:
            raise ControlError(f"no sample lead {lead_id!r}")
        if kind not in EVENT_TYPES:
            raise ControlError(f"event type {kind!r}: use one of {', '.join(EVENT_TYPES)}")
        now = self.clock()
        event = {
            "id": f"demo-page-{lead_id}-{time.time_ns()}",
            "type": kind,
            "occurred_at": now.isoformat(),
            "lead": in_language(sample.lead, self.language),
            "properties": _properties(kind),
        }
        answer = await post_events(self.bot, [event])
        return self._result(f"{answer.status_code} {answer.text}")

    async def burst(self, count: int) -> str:
        """`count` new leads that each qualify, in one signed webhook request."""
        if not 1 <= count <= MAX_BURST:
            raise ControlError(f"a burst has 1 to {MAX_BURST} leads, not {count}")
        now = self.clock()
        events: list[dict[str, Any]] = []
        for _ in range(count):
            self._burst_count += 1
            n = self._burst_count
            first, last = BURST_FIRST[n % len(BURST_FIRST)], BURST_LAST[n % len(BURST_LAST)]
            lead = {
                "id": f"burst-{n:05d}",
                "email": f"{first}.{last}.{n}@burst.example".lower(),
                "name": f"{first} {last}",
                "company": f"Burst Example {n}",
                "source": BURST_SOURCES[n % len(BURST_SOURCES)],
                "campaign": "demo burst",
            }
            for index, (kind, properties) in enumerate(BURST_ACTIVITY):
                at = now - timedelta(minutes=5 * (len(BURST_ACTIVITY) - index))
                events.append(
                    {
                        "id": f"demo-burst-{n}-{index}",
                        "type": kind,
                        "occurred_at": at.isoformat(),
                        "lead": lead,
                        "properties": properties,
                    }
                )
        answer = await post_events(self.bot, events)
        if not answer.is_success:
            return self._result(f"{answer.status_code} {answer.text}")
        mqls = len(answer.json().get("mqls", []))
        return self._result(f"{answer.status_code}: {len(events)} events, {mqls} MQLs")

    async def advance(self, step: str) -> str:
        """Move the clock on and run what became due: reminders, escalations, returns, digest."""
        delta = STEPS.get(step)
        if delta is None:
            raise ControlError(f"step {step!r}: use one of {', '.join(STEPS)}")
        async with self._lock:
            runtime = self.bot.runtime
            before = self.clock()
            self.clock.advance(delta)
            at = self.clock()
            jobs = registry()
            names = [n for n in CLOCK_JOBS if n in jobs]
            # The digest when the jump passed a digest time (its slot is the week it reports on).
            config = runtime.config
            if "digest" in jobs and digest_slot(before, config) != digest_slot(at, config):
                names.append("digest")
            done = []
            for name in names:
                summary = await run_in_slot(runtime, jobs[name], at)
                done.append(f"{name}: {_short(summary)}")
        return self._result(f"+{step} → {self.clock_text()} · " + "; ".join(done))

    def clock_text(self) -> str:
        return self.clock().astimezone(ZoneInfo(TIMEZONE)).strftime("%Y-%m-%d %H:%M %Z")

    # ----- what the page shows ---------------------------------------------------------------

    def people(self) -> list[tuple[str, str]]:
        """Everyone the page can act as, with their part in the demo."""
        words = WORDS[self.language]
        roles = {**dict.fromkeys(SDRS, "role_sdr"), MANAGER: "role_manager"}
        roles["U_JAMES"] = "role_manager"
        marketing = self.state.channel(MARKETING_CHANNEL).members
        out = []
        for user in self.state.users.values():
            if user.is_bot:
                continue
            role = roles.get(user.id) or ("role_marketing" if user.id in marketing else "")
            shown = f", {words[role]}" if role else ""
            out.append((user.id, f"{user.real_name} (@{user.name}{shown})"))
        return out

    def screen(self, user_id: str | None, where: str | None) -> Screen:
        users = [uid for uid, _ in self.people()]
        user = user_id if user_id in users else SDRS[0]
        return Screen(
            state=self.state,
            client=self.client,
            user_id=user,
            where=self._where(user, where),
            words=WORDS[self.language],
            language=self.language,
            people=self.people(),
            controls=Controls(
                leads=[(s.lead["id"], str(s.lead["name"])) for s in SAMPLE_LEADS],
                event_types=list(EVENT_TYPES),
                clock=self.clock_text(),
                last_result=self.last_result,
            ),
            generation=self.generation,
        )

    def _where(self, user: str, where: str | None) -> str:
        if where in ("home", "dm"):
            return where
        channel = self.state.channels.get(where or "")
        if channel is not None and not channel.is_im and user in channel.members:
            return channel.id
        return SDR_CHANNEL if user in self.state.channel(SDR_CHANNEL).members else MARKETING_CHANNEL


def _properties(kind: str) -> dict[str, str]:
    return {
        "page_visited": {"url": "https://example.com/pricing"},
        "email_opened": {"subject": "Demo follow-up"},
        "email_clicked": {"url": "https://example.com/blog/scoring"},
        "content_downloaded": {"asset": "MA導入ガイド"},
        "video_watched": {"video": "Product demo (12 min)"},
        "form_submitted": {"form": "contact"},
        "event_attended": {"event": "2026-12 MAセミナー"},
    }.get(kind, {})


def _short(summary: dict[str, Any]) -> str:
    shown = {k: v for k, v in summary.items() if k not in ("job", "slot")}
    return json.dumps(shown, ensure_ascii=False, default=str)


@contextlib.asynccontextmanager
async def demo_page(
    language: str, clock: DemoClock | None = None, config: Path | None = None
) -> AsyncIterator[DemoPage]:
    """The stand-in and the bot with the sample leads, on the demo clock, until the block ends."""
    demo_clock = clock or DemoClock()
    state = Workspace.seeded(
        sdr_channel=SDR_CHANNEL,
        marketing_channel=MARKETING_CHANNEL,
        clock=lambda: demo_clock().timestamp(),
    )
    async with StandinServer(state) as slack:
        page = DemoPage(slack, demo_clock, language, config)
        await page.start()
        try:
            yield page
        finally:
            await page.stop()
