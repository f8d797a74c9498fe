"""Builds the running bot from Settings: handler configuration, database, Slack client, metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.metrics import Metrics
from bot.settings import Settings
from handlers.context import Deps, HandlerConfig
from handlers.ingest.native import BUILTIN_TYPES
from handlers.present.names import DisplayNames
from scoring.clock import BusinessCalendar
from scoring.rules import ScoringRules, TriggerRule, TriggerStep
from scoring.sla import default_levels, parse_levels
from store.engine import SessionFactory, create_engine, session_factory
from store.writer import Writer

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def system_clock() -> datetime:
    """The real time, aware and in UTC (the only place the bot reads the clock)."""
    return datetime.now(UTC)


def scoring_rules(settings: Settings) -> ScoringRules:
    """The scoring rules in force."""
    s = settings.scoring
    return ScoringRules(
        points=dict(s.points),
        threshold=s.mql_threshold,
        inactivity_reset=s.inactivity_reset,
        decay_half_life=s.decay_half_life,
        triggers=tuple(
            TriggerRule(
                name=name,
                steps=tuple(
                    TriggerStep(type=step.type, properties=dict(step.match)) for step in t.steps
                ),
                within=t.within,
            )
            for name, t in s.triggers.items()
        ),
        retention=s.retention,
    )


def handler_config(settings: Settings) -> HandlerConfig:
    """Turn Settings into the plain values the handlers act on (raises ValueError on bad values)."""
    sla = settings.sla
    calendar = BusinessCalendar.parse(
        timezone=sla.timezone,
        business_hours=sla.business_hours,
        workdays=sla.workdays,
        holidays=sla.holidays,
    )
    levels = (
        parse_levels(sla.levels)
        if sla.levels
        else default_levels(
            claim_within=sla.claim_within,
            work_within=sla.work_within,
            escalate_after=sla.escalate_after,
            auto_assign=sla.auto_assign,
        )
    )
    return HandlerConfig(
        sdr_channel=settings.slack.sdr_channel,
        marketing_channel=settings.slack.marketing_channel,
        sdr_users=tuple(settings.slack.sdr_users),
        sdr_usergroup=settings.slack.sdr_usergroup,
        managers=frozenset(settings.slack.managers),
        mention=settings.slack.mention,
        member_cache_ttl=settings.slack.member_cache_ttl,
        language=settings.locale.language,
        timezone=ZoneInfo(sla.timezone),
        known_types=frozenset(BUILTIN_TYPES) | frozenset(settings.scoring.points),
        rules=scoring_rules(settings),
        calendar=calendar,
        levels=levels,
        recycle_reasons=dict(settings.recycle.reasons),
        reset_score_on_return=settings.recycle.reset_score,
        disqualify_reasons=tuple(settings.disqualify.reasons),
        digest_weekday=WEEKDAYS.index(settings.digest.weekday),
        digest_time=time.fromisoformat(settings.digest.time),
        digest_week=settings.digest.week,
        names=DisplayNames.parse(
            {
                "sources": settings.names.sources,
                "campaigns": settings.names.campaigns,
                "triggers": settings.names.triggers,
            }
        ),
        lead_url_template=settings.crm.lead_url_template,
        crm_webhook_url=settings.crm.webhook_url,
        attribution_window=settings.funnel.attribution_window,
        bad_mql_reasons=tuple(settings.funnel.bad_mql_reasons),
        sdr_hours_per_mql=settings.funnel.sdr_hours_per_mql,
        calibration_days=settings.funnel.calibration_days,
    )


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Slack Web API client, pointed at MQLBOT_SLACK_API_URL (a stand-in in tests and the demo)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base = (
        settings.slack_api_url
        if settings.slack_api_url.endswith("/")
        else settings.slack_api_url + "/"
    )
    return AsyncWebClient(token=token, base_url=base)


@dataclass
class Runtime:
    """Everything a running process shares: built once in main and passed down."""

    settings: Settings
    config: HandlerConfig
    engine: AsyncEngine
    sessions: SessionFactory
    slack: AsyncWebClient
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], datetime] = system_clock
    # Runs the ingest transactions (on SQLite in its own thread); None: on the loop.
    writer: Writer | None = None

    @classmethod
    def build(cls, settings: Settings, *, clock: Callable[[], datetime] = system_clock) -> Runtime:
        """Wire a runtime from validated settings (no I/O happens here)."""
        engine = create_engine(settings.database_url)
        sessions = session_factory(engine)
        return cls(
            settings=settings,
            config=handler_config(settings),
            engine=engine,
            sessions=sessions,
            slack=slack_client(settings),
            clock=clock,
            writer=Writer(settings.database_url, sessions),
        )

    @property
    def deps(self) -> Deps:
        """What the handlers receive."""
        return Deps(config=self.config, sessions=self.sessions, clock=self.clock)

    async def open_slack_session(self) -> None:
        """Give the Slack client one shared HTTP session (kept-alive connections); inside the loop.

        Without it slack_sdk opens a new session, and so a new connection, for every call. Bolt's
        per-request clients take the session from this client, so listeners share it too.
        """
        if self.slack.session is None or self.slack.session.closed:
            self.slack.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.slack.timeout)
            )

    async def close_slack_session(self) -> None:
        """Close the shared Slack session, if any (later calls open their own again)."""
        session, self.slack.session = self.slack.session, None
        if session is not None and not session.closed:
            await session.close()

    async def close(self) -> None:
        """Release the Slack session and the database connections."""
        await self.close_slack_session()
        if self.writer is not None:
            await self.writer.close()
        await self.engine.dispose()
