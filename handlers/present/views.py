"""Plain, frozen view dataclasses: what the Block Kit builders need to draw a card or the App Home."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from scoring.funnel import SdrFunnel


class CardState(StrEnum):
    """Where an MQL stands; the values are the stored state names."""

    OPEN = "open"
    CLAIMED = "claimed"
    SQL = "sql"
    LEAD = "lead"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class SlaStage(StrEnum):
    """Which SLA clock is running: waiting for a claim, or claimed and waiting for a disposition."""

    UNCLAIMED = "unclaimed"
    UNWORKED = "unworked"


@dataclass(frozen=True)
class SlaView:
    """The SLA state shown on a card: ``elapsed`` is business time on the SLA clock."""

    stage: SlaStage
    elapsed: timedelta
    over_sla: bool


@dataclass(frozen=True)
class LeadView:
    """Who the lead is; empty strings are shown as a dash."""

    name: str
    title: str = ""
    company: str = ""
    email: str = ""
    source: str = ""
    campaign: str = ""
    crm_url: str | None = None


@dataclass(frozen=True)
class ActivityView:
    """One stored event: ``type`` is the event type, ``label`` the asset/URL (may be empty)."""

    type: str
    label: str
    occurred_at: datetime
    points: float


@dataclass(frozen=True)
class RequalifiedView:
    """The earlier MQL of a lead that qualified again."""

    previous_disposition: CardState
    previous_reason: str | None
    previous_at: datetime
    previous_permalink: str | None = None


@dataclass(frozen=True)
class OutcomeView:
    """The furthest CRM stage the MQL's opportunities reached (``amount`` already formatted)."""

    status: str  # open | won | lost
    stage: str | None = None
    amount: str | None = None
    lost_reason: str | None = None
    opportunities: int = 1


@dataclass(frozen=True)
class CardView:
    """Everything the MQL card shows.

    ``reasons`` are the stored MQL reasons (dicts with ``kind`` threshold/trigger/external, see
    ``Catalog.reason_text``); ``activities`` are most recent first (the builder shows a few and
    counts the rest). Times are aware datetimes (UTC in the store); the catalog shows them in the
    configured time zone. ``reason`` is the recycle or disqualify reason key of the current
    disposition, ``recycle_until`` the return date of a Recycled MQL.
    """

    mql_id: str
    lead: LeadView
    score: float
    reasons: Sequence[Mapping[str, object]]
    activities: Sequence[ActivityView]
    created_at: datetime
    state: CardState = CardState.OPEN
    owner_id: str | None = None
    claimed_at: datetime | None = None
    reason: str | None = None
    note: str | None = None
    next_step: str | None = None
    next_step_date: date | None = None
    recycle_until: date | None = None
    disposition_by: str | None = None
    disposition_at: datetime | None = None
    requalified: RequalifiedView | None = None
    sla: SlaView | None = None
    outcome: OutcomeView | None = None
    # An SDR's "not a real MQL" flag: its reason key and who set it.
    bad_reason: str | None = None
    bad_by: str | None = None


@dataclass(frozen=True)
class HomeItem:
    """One MQL in an App Home list."""

    mql_id: str
    lead_name: str
    company: str
    score: float
    state: CardState
    created_at: datetime
    owner_id: str | None = None
    permalink: str | None = None
    sla: SlaView | None = None


@dataclass(frozen=True)
class WeekFigures:
    """A user's figures for the current week (``median_time_to_claim`` in business time)."""

    claimed: int = 0
    sql: int = 0
    lead: int = 0
    recycled: int = 0
    disqualified: int = 0
    median_time_to_claim: timedelta | None = None


@dataclass(frozen=True)
class SdrCount:
    """Per-SDR load in the managers' team view; `away` while the SDR is out of auto-assignment."""

    user_id: str
    open: int
    overdue: int
    away: bool = False


@dataclass(frozen=True)
class TeamView:
    """The managers' part of the App Home.

    ``unclaimed_count`` is the true total; ``unclaimed`` may be a shortened list of the oldest.
    """

    unclaimed_count: int
    unclaimed: Sequence[HomeItem] = ()
    overdue: Sequence[HomeItem] = ()
    per_sdr: Sequence[SdrCount] = ()
    # MQLs of the last 13 weeks per owner and how far they went (opportunities take time).
    funnel: Sequence[SdrFunnel] = ()


@dataclass(frozen=True)
class HomeView:
    """One user's App Home: their open MQLs (oldest first), their week, the team view for managers."""

    user_id: str
    is_manager: bool
    my_open: Sequence[HomeItem] = ()
    my_week: WeekFigures = field(default_factory=WeekFigures)
    team: TeamView | None = None
