"""Test builders for the scheduled jobs: a Tokyo configuration, leads, MQLs and outbox reads."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from handlers.context import Deps, HandlerConfig
from handlers.sla import initial_nag_due
from scoring.clock import BusinessCalendar
from scoring.rules import ScoringRules
from scoring.sla import default_levels
from store.engine import SessionFactory
from store.models import AuditEntry, Lead, Mql, MqlState, OutboxMessage, Reminder
from tests.rows import add_lead_and_mql

TOKYO = ZoneInfo("Asia/Tokyo")
RULES = ScoringRules(points={"content_downloaded": 40, "page_visited": 10}, threshold=100)


def tokyo(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """An instant given as Tokyo wall-clock time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


def config(**changes: Any) -> HandlerConfig:
    """Tokyo business hours with Japanese holidays; 15 min to claim, 2 h to work, 3 h to escalate."""
    auto_assign = changes.pop("auto_assign", False)
    base = HandlerConfig(
        sdr_channel="C0SDR",
        marketing_channel="C0MKT",
        sdr_users=("U0SDRA", "U0SDRB", "U0SDRC"),
        sdr_usergroup=None,
        managers=frozenset({"U0MGR1", "U0MGR2"}),
        mention="sdrs",
        member_cache_ttl=timedelta(minutes=10),
        language="en",
        timezone=TOKYO,
        known_types=frozenset(RULES.points),
        rules=RULES,
        calendar=BusinessCalendar.parse(
            timezone="Asia/Tokyo", business_hours="09:00-18:00", workdays="mon-fri", holidays=["JP"]
        ),
        levels=default_levels(
            claim_within=timedelta(minutes=15),
            work_within=timedelta(hours=2),
            escalate_after=timedelta(hours=3),
            auto_assign=auto_assign,
        ),
        recycle_reasons={"timing": timedelta(days=90)},
        reset_score_on_return=True,
        disqualify_reasons=("spam",),
        digest_weekday=0,
        digest_time=time(9, 0),
    )
    return dataclasses.replace(base, **changes)


# The wall clock jobs see: later than every test's `now`. Jobs decide at the `now` they are
# given and read the clock only for when their messages are due (the earlier of the two), so a
# job that decided by the clock would judge everything as of this far-off day and fail its test.
WALL_CLOCK = datetime(2100, 1, 1, tzinfo=UTC)


def deps(sessions: SessionFactory, cfg: HandlerConfig | None = None) -> Deps:
    return Deps(config=cfg or config(), sessions=sessions, clock=lambda: WALL_CLOCK)


async def add_mql(
    sessions: SessionFactory,
    cfg: HandlerConfig,
    *,
    created_at: datetime,
    name: str = "Aiko Sato",
    state: str = MqlState.OPEN,
    owner_id: str | None = None,
    claimed_at: datetime | None = None,
    nag_due_at: datetime | None = None,
    posted: bool = True,
    **mql_fields: Any,
) -> int:
    """A lead and its MQL; the card counts as posted (channel and ts known) unless told not."""
    async with sessions() as session, session.begin():
        lead = Lead(
            key=f"email:{name.lower().replace(' ', '.')}@example.co.jp",
            email=f"{name.lower().replace(' ', '.')}@example.co.jp",
            name=name,
            company="Example KK",
            stage=mql_fields.pop("lead_stage", "mql"),
            score=mql_fields.pop("lead_score", 120.0),
            score_state=mql_fields.pop("score_state", {}),
            created_at=created_at,
            updated_at=created_at,
        )
        return await add_lead_and_mql(
            session,
            lead,
            created_at=created_at,
            kind="threshold",
            score=120.0,
            state=state,
            owner_id=owner_id,
            claimed_at=claimed_at,
            nag_due_at=nag_due_at if nag_due_at is not None else initial_nag_due(created_at, cfg),
            slack_channel="C0SDR" if posted else None,
            slack_ts="1764000000.123456" if posted else None,
            updated_at=created_at,
            **mql_fields,
        )


async def outbox(
    sessions: SessionFactory, *, kinds: tuple[str, ...] | None = None
) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        if kinds is not None:
            query = query.where(col(OutboxMessage.kind).in_(kinds))
        return list((await session.exec(query)).all())


async def texts(sessions: SessionFactory) -> list[tuple[str, str | None, str]]:
    """(kind, channel, text) of every queued message except card updates, oldest first."""
    rows = await outbox(sessions, kinds=("reply", "dm", "post"))
    return [(r.kind, r.channel, r.payload["text"]) for r in rows]


async def get_mql(sessions: SessionFactory, mql_id: int) -> Mql:
    async with sessions() as session:
        return (await session.exec(select(Mql).where(col(Mql.id) == mql_id))).one()


async def reminders(sessions: SessionFactory) -> list[tuple[int, str, int, datetime]]:
    async with sessions() as session:
        rows = await session.exec(select(Reminder).order_by(col(Reminder.id)))
        return [(r.mql_id, r.stage, r.level, r.sent_at) for r in rows.all()]


async def audits(sessions: SessionFactory) -> list[AuditEntry]:
    async with sessions() as session:
        return list((await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all())


def minutes(start: datetime, end: datetime) -> list[datetime]:
    """Every minute from ``start`` to ``end`` inclusive."""
    count = int((end - start) // timedelta(minutes=1))
    return [start + timedelta(minutes=n) for n in range(count + 1)]
