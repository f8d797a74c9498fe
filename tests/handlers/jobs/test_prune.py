"""The prune job: events older than the scoring retention go, in batches; newer ones and scores stay."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from handlers.jobs.prune import run_prune
from store.engine import SessionFactory
from store.events import EventData, NewEvent, insert_events
from store.leads import LeadIdentity, find_or_create_leads, save_leads
from store.models import Event, Lead
from tests.handlers.jobs.builders import RULES, deps, tokyo

NOW = tokyo(24, 3, 30)
RETENTION = RULES.retention  # 400 days


async def _seed(sessions: SessionFactory, ages: dict[str, timedelta]) -> None:
    async with sessions() as session, session.begin():
        lead = (
            await find_or_create_leads(
                session, identities=[LeadIdentity("crm-1", "aiko@example.co.jp")], now=NOW
            )
        )["id:crm-1"]
        lead.score, lead.score_state = 55.0, '{"v":2}'
        await save_leads(session, leads=[lead], now=NOW)
        events = [
            NewEvent(EventData.of(key, "page_visited", NOW - age, {"url": "/"}), lead.id, 10.0)
            for key, age in ages.items()
        ]
        await insert_events(session, events=events, received_at=NOW)


async def _keys(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(select(Event.dedupe_key).order_by(col(Event.dedupe_key)))
        return list(rows.all())


async def test_events_past_retention_are_deleted_in_batches(db_sessions: SessionFactory) -> None:
    ages = {f"old:{i}": RETENTION + timedelta(days=i + 1) for i in range(5)}
    ages |= {
        "edge": RETENTION,  # exactly at the boundary: still within retention
        "recent": timedelta(days=3),
        "year": timedelta(days=365),
    }
    await _seed(db_sessions, ages)
    summary = await run_prune(deps(db_sessions), NOW, batch=2)
    assert summary == {"deleted": 5, "before": (NOW - RETENTION).isoformat()}
    assert await _keys(db_sessions) == ["edge", "recent", "year"]
    async with db_sessions() as session:
        lead = (await session.exec(select(Lead))).one()
    assert (lead.score, lead.score_state) == (55.0, {"v": 2})  # no score needs those events


async def test_nothing_to_prune_deletes_nothing(db_sessions: SessionFactory) -> None:
    await _seed(db_sessions, {"recent": timedelta(days=1)})
    assert (await run_prune(deps(db_sessions), NOW))["deleted"] == 0
    assert await _keys(db_sessions) == ["recent"]
