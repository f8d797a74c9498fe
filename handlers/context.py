"""What every use case receives: plain configuration values and the session factory, never Settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from handlers.present.names import NO_NAMES, DisplayNames
from scoring.clock import BusinessCalendar
from scoring.digest import DigestWeek
from scoring.rules import ScoringRules
from scoring.sla import ReminderLevel
from store.engine import SessionFactory

Clock = Callable[[], datetime]
Language = Literal["en", "ja"]


@dataclass(frozen=True)
class HandlerConfig:
    """The product settings the handlers act on, already parsed into domain values."""

    sdr_channel: str
    marketing_channel: str
    sdr_users: tuple[str, ...]
    sdr_usergroup: str | None
    managers: frozenset[str]
    mention: Literal["sdrs", "channel", "here"]
    member_cache_ttl: timedelta
    language: Language
    timezone: ZoneInfo
    known_types: frozenset[str]
    rules: ScoringRules
    calendar: BusinessCalendar
    levels: tuple[ReminderLevel, ...]
    recycle_reasons: Mapping[str, timedelta]
    reset_score_on_return: bool
    disqualify_reasons: tuple[str, ...]
    digest_weekday: int
    digest_time: time
    digest_week: DigestWeek = "calendar"
    names: DisplayNames = NO_NAMES
    lead_url_template: str | None = None
    crm_webhook_url: str | None = None


@dataclass(frozen=True)
class Deps:
    """The use cases' dependencies: configuration, database sessions and the clock."""

    config: HandlerConfig
    sessions: SessionFactory
    clock: Clock
