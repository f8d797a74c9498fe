"""The tables: leads, events, MQLs, opportunities, the audit trail, the outbox, job runs, reminders, SDRs, imports."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


class LeadStage(StrEnum):
    """Where a lead stands in the funnel (the article's stages, without Opportunity)."""

    TARGET = "target"
    MQL = "mql"
    SQL = "sql"
    LEAD = "lead"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


class MqlState(StrEnum):
    """An MQL's current state: open (unclaimed), claimed, or one of the four dispositions."""

    OPEN = "open"
    CLAIMED = "claimed"
    SQL = "sql"
    LEAD = "lead"
    RECYCLED = "recycled"
    DISQUALIFIED = "disqualified"


DISPOSITIONS = (MqlState.SQL, MqlState.LEAD, MqlState.RECYCLED, MqlState.DISQUALIFIED)


class OutboxKind(StrEnum):
    """What an outbox row is sent as; the sender has one delivery function per kind."""

    POST = "post"  # a new message in the row's channel: a card, the digest
    UPDATE = "update"  # chat.update of the row's target message (a card)
    REPLY = "reply"  # a reply in the thread of the row's target
    DM = "dm"  # a direct message to a user
    HOME = "home"  # views.publish of a user's App Home
    UPLOAD = "upload"  # a file shared into the row's channel (the digest chart)
    WEBHOOK = "webhook"  # the state change POSTed to the CRM webhook


class OutboxStatus(StrEnum):
    """Where an outbox row is in its life."""

    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    SUPERSEDED = "superseded"


def _utc(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json() -> Any:
    return Field(default_factory=dict, sa_type=JSON, nullable=False)


class Lead(SQLModel, table=True):
    """A person marketing knows about, with the scoring state that makes applying an event O(1)."""

    __tablename__ = "lead"

    id: int | None = Field(default=None, primary_key=True)
    # "id:<crm id>" when the sender names the lead, else "email:<address>"; unique across replicas.
    key: str = Field(max_length=400, unique=True)
    external_id: str | None = Field(default=None, max_length=200, index=True)
    email: str | None = Field(default=None, max_length=320, index=True)
    name: str | None = Field(default=None, max_length=500)
    company: str | None = Field(default=None, max_length=500)
    title: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=500)
    stage: str = Field(default=LeadStage.TARGET, max_length=20)
    score: float = Field(default=0.0)
    score_state: dict[str, Any] = _json()
    last_activity_at: datetime | None = _utc(nullable=True)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class Event(SQLModel, table=True):
    """A received lead event; the unique dedupe key makes ingest idempotent across replicas."""

    __tablename__ = "event"
    __table_args__ = (Index("ix_event_lead_occurred", "lead_id", "occurred_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The sender's event id, namespaced per source ("native:<id>", "mautic:<origin>:<key>", ...).
    dedupe_key: str = Field(max_length=500, unique=True)
    lead_id: int = Field(sa_column=Column(Integer, ForeignKey("lead.id"), nullable=False))
    type: str = Field(max_length=100)
    occurred_at: datetime = _utc()
    received_at: datetime = _utc()
    score: float | None = None
    score_delta: float | None = None
    points: float = Field(default=0.0)
    properties: dict[str, Any] = _json()


class Mql(SQLModel, table=True):
    """One qualification of a lead: the card, its owner, its disposition and its SLA clock."""

    __tablename__ = "mql"
    __table_args__ = (
        Index("ix_mql_state_created", "state", "created_at"),
        # The digest reads one period's MQLs whatever their state.
        Index("ix_mql_created", "created_at"),
        Index("ix_mql_nag_due", "nag_due_at"),
        Index("ix_mql_recycle_due", "state", "recycle_until"),
        Index("ix_mql_owner_state", "owner_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = Field(
        sa_column=Column(Integer, ForeignKey("lead.id"), nullable=False, index=True)
    )
    # Equals lead_id while the MQL is open or claimed, NULL after: a unique key that allows at
    # most one open MQL per lead, whatever the concurrency.
    open_lead_id: int | None = Field(default=None, unique=True)
    previous_mql_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("mql.id"), nullable=True)
    )
    created_at: datetime = _utc()
    kind: str = Field(max_length=20)  # threshold | trigger | external
    reasons: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON, nullable=False)
    score: float
    source: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=500)
    state: str = Field(default=MqlState.OPEN, max_length=20)
    owner_id: str | None = Field(default=None, max_length=50)
    claimed_at: datetime | None = _utc(nullable=True)
    # Business seconds from MQL to claim, fixed at claim time so the digest can aggregate in SQL.
    claim_business_seconds: int | None = None
    disposition_at: datetime | None = _utc(nullable=True)
    disposition_by: str | None = Field(default=None, max_length=50)
    reason: str | None = Field(default=None, max_length=100)
    note: str | None = Field(default=None, max_length=3000)
    next_step: str | None = Field(default=None, max_length=1000)
    next_step_on: date | None = None
    recycle_until: date | None = None
    returned_at: datetime | None = _utc(nullable=True)
    sla_breached: bool = Field(default=False)
    # The instant the next reminder level falls due (NULL when none): the nag tick's only index.
    nag_due_at: datetime | None = _utc(nullable=True)
    slack_channel: str | None = Field(default=None, max_length=50)
    slack_ts: str | None = Field(default=None, max_length=50)
    version: int = Field(default=1)
    updated_at: datetime = _utc()
    # When the qualifying event happened (created_at is when mqlbot learned of it): opportunities
    # are attributed by it, so a lead's history that arrives late still counts.
    qualified_at: datetime | None = _utc(nullable=True)
    # An SDR's "not a real MQL" flag with its reason ([funnel] bad_mql_reasons).
    bad_reason: str | None = Field(default=None, max_length=100)
    bad_by: str | None = Field(default=None, max_length=50)
    bad_at: datetime | None = _utc(nullable=True)


class Opportunity(SQLModel, table=True):
    """A CRM opportunity as its outcome events make it, attributed to a lead and maybe an MQL."""

    __tablename__ = "opportunity"
    __table_args__ = (
        Index("ix_opportunity_opened", "opened_at"),
        Index("ix_opportunity_mql", "mql_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=200, unique=True)  # the CRM's opportunity (deal) id
    lead_id: int = Field(
        sa_column=Column(Integer, ForeignKey("lead.id"), nullable=False, index=True)
    )
    # The lead's latest MQL before the opportunity opened, within the attribution window;
    # NULL: not from an MQL (yet: a lead's late history may still attribute it).
    mql_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("mql.id"), nullable=True)
    )
    name: str | None = Field(default=None, max_length=500)
    status: str = Field(max_length=10)  # open | won | lost
    stage: str | None = Field(default=None, max_length=100)
    # Exact: the decimal as text, and the same in the currency's minor units for SQL sums.
    amount: str | None = Field(default=None, max_length=40)
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    lost_reason: str | None = Field(default=None, max_length=200)
    opened_at: datetime = _utc()
    won_at: datetime | None = _utc(nullable=True)
    lost_at: datetime | None = _utc(nullable=True)
    last_event_at: datetime = _utc()
    updated_at: datetime = _utc()


class OutcomeEvent(SQLModel, table=True):
    """A received outcome event, kept so the opportunity can be refolded whatever the order."""

    __tablename__ = "outcome_event"

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=500, unique=True)
    opportunity_id: str = Field(max_length=200, index=True)  # Opportunity.external_id
    lead_id: int = Field(sa_column=Column(Integer, ForeignKey("lead.id"), nullable=False))
    type: str = Field(max_length=40)
    occurred_at: datetime = _utc()
    received_at: datetime = _utc()
    name: str | None = Field(default=None, max_length=500)
    amount: str | None = Field(default=None, max_length=40)
    currency: str | None = Field(default=None, max_length=3)
    stage: str | None = Field(default=None, max_length=100)
    lost_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime | None = _utc(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Every state change of an MQL: who, what, when."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    mql_id: int = Field(sa_column=Column(Integer, ForeignKey("mql.id"), nullable=False, index=True))
    at: datetime = _utc()
    actor: str = Field(max_length=50)  # a Slack user id, or "system"
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    detail: dict[str, Any] = _json()


class OutboxMessage(SQLModel, table=True):
    """A Slack write (or outbound webhook) that must not be lost, written with the change it reports."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        Index("ix_outbox_target", "target_key", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # One row per logical message: a retried transaction cannot queue the same message twice.
    dedupe_key: str = Field(max_length=300, unique=True)
    kind: str = Field(max_length=20)  # an OutboxKind
    channel: str | None = Field(default=None, max_length=50)
    # The message this row belongs to ("card:<mql id>"): updates are applied in order per target
    # and replies wait until the target has a Slack ts.
    target_key: str | None = Field(default=None, max_length=100)
    mql_id: int | None = Field(default=None, index=True)
    payload: dict[str, Any] = _json()
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)
    attempts: int = Field(default=0)
    next_attempt_at: datetime = _utc()
    locked_until: datetime | None = _utc(nullable=True)
    locked_by: str | None = Field(default=None, max_length=100)
    # An earlier attempt ended without Slack's answer (a timeout, a cut connection) and may have
    # taken effect: look for its marker before sending again.
    in_doubt_since: datetime | None = _utc(nullable=True)
    last_error: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _utc()
    sent_at: datetime | None = _utc(nullable=True)
    result_channel: str | None = Field(default=None, max_length=50)
    result_ts: str | None = Field(default=None, max_length=50)


class ChannelPace(SQLModel, table=True):
    """When the next chat.postMessage may go to a channel, shared by every sender process."""

    __tablename__ = "channel_pace"

    channel: str = Field(primary_key=True, max_length=50)
    next_post_at: datetime = _utc()


class JobRun(SQLModel, table=True):
    """A claimed (job, slot): a slot runs once across replicas; a crashed run is retried after its lease."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job", "slot", name="uq_job_run_job_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=50)
    slot: str = Field(max_length=50)
    status: str = Field(default="running", max_length=20)  # running | done | failed
    owner: str = Field(max_length=100)
    attempts: int = Field(default=1)
    started_at: datetime = _utc()
    lease_until: datetime = _utc()
    finished_at: datetime | None = _utc(nullable=True)
    error: str | None = Field(default=None, max_length=2000)
    result: dict[str, Any] = _json()


class Reminder(SQLModel, table=True):
    """A reminder level sent for an MQL: at most once per (MQL, stage, level)."""

    __tablename__ = "reminder"
    __table_args__ = (UniqueConstraint("mql_id", "stage", "level", name="uq_reminder_level"),)

    id: int | None = Field(default=None, primary_key=True)
    mql_id: int = Field(sa_column=Column(Integer, ForeignKey("mql.id"), nullable=False))
    stage: str = Field(max_length=20)
    level: int
    sent_at: datetime = _utc()


class SdrState(SQLModel, table=True):
    """Round-robin fairness for auto-assignment: persistent counts and away flags per SDR."""

    __tablename__ = "sdr_state"

    user_id: str = Field(primary_key=True, max_length=50)
    assigned_count: int = Field(default=0)
    away: bool = Field(default=False)
    updated_at: datetime = _utc()


class SlackEventSeen(SQLModel, table=True):
    """Events API deliveries already handled (Slack retries while the first attempt still runs)."""

    __tablename__ = "slack_event_seen"

    event_id: str = Field(primary_key=True, max_length=100)
    seen_at: datetime = _utc()


class ImportCheckpoint(SQLModel, table=True):
    """How far a named backfill (`mqlbot import events`) got, written with each batch it stored."""

    __tablename__ = "import_checkpoint"

    name: str = Field(primary_key=True, max_length=500)
    # The lines and bytes of the input already stored, and the SHA-256 of those bytes: a resumed
    # import skips them only when the input still starts with exactly the same bytes.
    line: int = Field(default=0)
    byte_offset: int = Field(default=0, sa_type=BigInteger)
    digest: str = Field(max_length=64)
    accepted: int = Field(default=0, sa_type=BigInteger)
    duplicates: int = Field(default=0, sa_type=BigInteger)
    mqls: int = Field(default=0)
    started_at: datetime = _utc()
    updated_at: datetime = _utc()
    finished_at: datetime | None = _utc(nullable=True)
