"""MQLs: at most one open per lead by unique key, re-MQLs linked to the previous one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import col

from store.engine import SessionFactory
from store.leads import LeadIdentity, find_or_create_leads
from store.models import Mql
from store.mqls import create_mql, get_mql, latest_mql, open_mql


async def new_mql(session_factory: SessionFactory, lead_id: int, now: datetime) -> int | None:
    async with session_factory() as session, session.begin():
        return await create_mql(
            session,
            lead_id=lead_id,
            kind="threshold",
            reasons=[{"kind": "threshold", "score": 105.0}],
            score=105.0,
            source="webinar",
            campaign=None,
            now=now,
        )


async def a_lead(sessions: SessionFactory, now: datetime) -> int:
    async with sessions() as session, session.begin():
        rows = await find_or_create_leads(
            session, identities=[LeadIdentity(external_id="crm-1", email=None)], now=now
        )
    return rows["id:crm-1"].id


async def test_a_lead_has_at_most_one_open_mql(sessions: SessionFactory, now: datetime) -> None:
    lead_id = await a_lead(sessions, now)
    first = await new_mql(sessions, lead_id, now)
    assert first is not None
    assert await new_mql(sessions, lead_id, now) is None
    async with sessions() as session:
        mql = await open_mql(session, lead_id=lead_id)
        assert mql is not None
        assert (mql.id, mql.state, mql.previous_mql_id, mql.reasons) == (
            first,
            "open",
            None,
            [{"kind": "threshold", "score": 105.0}],
        )


async def test_a_re_mql_links_to_the_previous_one(sessions: SessionFactory, now: datetime) -> None:
    lead_id = await a_lead(sessions, now)
    first = await new_mql(sessions, lead_id, now)
    async with sessions() as session, session.begin():
        await session.exec(
            update(Mql).where(col(Mql.id) == first).values(state="recycled", open_lead_id=None)
        )
    second = await new_mql(sessions, lead_id, now)
    assert second is not None
    async with sessions() as session:
        latest = await latest_mql(session, lead_id=lead_id)
        assert latest is not None
        assert (latest.id, latest.previous_mql_id) == (second, first)
        assert await get_mql(session, mql_id=9999) is None
