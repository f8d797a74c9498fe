"""Event inserts: skipped duplicates, and rows that read back exactly as written (both databases)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from store.engine import SessionFactory, create_engine, session_factory
from store.events import EventData, NewEvent, insert_events
from store.leads import LeadIdentity, find_or_create_leads
from store.models import Event
from store.types import json_text

JST = timezone(timedelta(hours=9))


@pytest.fixture
async def any_sessions(any_db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(any_db_url)
    yield session_factory(engine)
    await engine.dispose()


def _event(key: str, lead_id: int, at: datetime) -> NewEvent:
    data = EventData.of(
        dedupe_key=key,
        type="content_downloaded",
        occurred_at=at,
        properties={"asset": "MA ガイド", "pages": [1, 2]},
        score_delta=2.5,
    )
    return NewEvent(data, lead_id, 15.0)


async def test_inserted_events_read_back_as_written_and_stored_keys_are_skipped(
    any_sessions: SessionFactory, now: datetime
) -> None:
    at = datetime(2026, 11, 24, 10, 0, 0, 123, tzinfo=JST)
    async with any_sessions() as session, session.begin():
        lead = (
            await find_or_create_leads(
                session, identities=[LeadIdentity("crm-1", "a@example.com")], now=now
            )
        )["id:crm-1"]
        first = await insert_events(
            session, events=[_event("native:1", lead.id, at)], received_at=now
        )
    async with any_sessions() as session, session.begin():
        second = await insert_events(
            session,
            events=[_event("native:1", lead.id, at), _event("native:2", lead.id, at)],
            received_at=now,
        )
    async with any_sessions() as session:
        rows = (await session.exec(select(Event).order_by(Event.dedupe_key))).all()
    assert (first, second) == ({"native:1"}, {"native:2"})
    assert [(r.dedupe_key, r.occurred_at, r.received_at) for r in rows] == [
        ("native:1", at, now),
        ("native:2", at, now),
    ]
    assert (rows[0].properties, rows[0].points, rows[0].score, rows[0].score_delta) == (
        {"asset": "MA ガイド", "pages": [1, 2]},
        15.0,
        None,
        2.5,
    )
    assert rows[0].occurred_at.utcoffset() == timedelta(0)


async def test_sqlite_stores_times_and_json_as_sqlalchemy_does(
    sessions: SessionFactory, now: datetime
) -> None:
    at = datetime(2026, 11, 24, 10, 0, 0, tzinfo=JST)
    async with sessions() as session, session.begin():
        lead = (
            await find_or_create_leads(
                session, identities=[LeadIdentity("crm-1", "a@example.com")], now=now
            )
        )["id:crm-1"]
        await insert_events(session, events=[_event("native:1", lead.id, at)], received_at=now)
    async with sessions() as session:
        conn = await session.connection()
        stored = (
            await conn.exec_driver_sql("SELECT occurred_at, properties, lead_id FROM event")
        ).one()
        created = (await conn.exec_driver_sql("SELECT created_at FROM lead")).scalar_one()
    # The lead row was written by SQLAlchemy's own type processing: the same text format.
    assert created == now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    assert tuple(stored) == (
        "2026-11-24 01:00:00.000000",
        '{"asset":"MA ガイド","pages":[1,2]}',
        lead.id,
    )


async def test_json_columns_keep_big_integers_and_non_ascii_on_both_databases(
    any_sessions: SessionFactory, now: datetime
) -> None:
    # A tool may send an integer beyond 64 bits (the fast encoder refuses those): stored anyway.
    properties = {"asset": "MA ガイド", "visits": 2**70 + 1, "ratio": 0.5, "tags": ["a", None]}
    async with any_sessions() as session, session.begin():
        lead = (
            await find_or_create_leads(
                session, identities=[LeadIdentity("crm-1", "a@example.com")], now=now
            )
        )["id:crm-1"]
        await insert_events(
            session,
            events=[
                NewEvent(
                    EventData.of("native:big", "page_visited", now, properties),
                    lead.id,
                    1.0,
                )
            ],
            received_at=now,
        )
    async with any_sessions() as session:
        (row,) = (await session.exec(select(Event))).all()
    assert row.properties == properties


def test_json_text_is_compact_utf8_and_keeps_integers_beyond_64_bits() -> None:
    assert json_text({"s": "ガイド", "n": [1, 2.5]}) == '{"s":"ガイド","n":[1,2.5]}'
    assert json.loads(json_text({"n": 2**70 + 1})) == {"n": 2**70 + 1}
