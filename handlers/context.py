"""What every use case receives: plain configuration values and the session factory, never Settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
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
    # [funnel]: how long after an MQL an opportunity still counts as its outcome, and the
    # reasons an SDR may give for "not a real MQL".
    attribution_window: timedelta = timedelta(days=180)
    bad_mql_reasons: tuple[str, ...] = ("no_fit", "no_intent", "duplicate", "bad_data")
    sdr_hours_per_mql: float = 0.5  # what working one MQL costs, for the calibration's savings
    calibration_days: int = 90


@dataclass(frozen=True)
class Deps:
    """The use cases' dependencies: configuration, database sessions and the clock."""

    config: HandlerConfig
    sessions: SessionFactory
    clock: Clock
    # The real clock while ``clock`` is a job's "as if at" instant (``as_if_at``); else None.
    wall_clock: Clock | None = None

    def as_if_at(self, at: datetime) -> Deps:
        """These dependencies deciding as if at ``at``; what they queue is still due by now."""
        return replace(self, clock=lambda: at, wall_clock=self.wall_clock or self.clock)

    def queued_at(self, at: datetime | None = None) -> datetime:
        """When a message queued at ``at`` (default: ``clock()``) is due to be sent.

        Never later than the real time: ``mqlbot jobs run --at`` a future instant decides as
        if then but delivers now, because the sender only takes rows due by the wall clock.
        """
        when = self.clock() if at is None else at
        return min(when, (self.wall_clock or self.clock)())
