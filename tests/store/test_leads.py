"""Leads: find-or-create by key, adoption by CRM id, bulk save, and creation racing across engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from store.engine import SessionFactory, create_engine, session_factory
from store.leads import (
    LeadIdentity,
    find_lead,
    find_or_create_leads,
    lead_key,
    save_leads,
)


@pytest.fixture
async def sessions(any_db_url: str) -> AsyncIterator[SessionFactory]:
    """These tests run on both stores (each has its own raw statements)."""
    engine = create_engine(any_db_url)
    yield session_factory(engine)
    await engine.dispose()


AIKO = LeadIdentity(external_id="crm-1", email="aiko@example.co.jp")
BY_MAIL = LeadIdentity(external_id=None, email="aiko@example.co.jp")


def test_the_key_prefers_the_crm_id_and_lower_cases_e_mail() -> None:
    assert lead_key(external_id="crm-1", email="a@b.co") == "id:crm-1"
    assert lead_key(external_id=None, email="Ken@Example.COM") == "email:ken@example.com"
    with pytest.raises(ValueError, match="a lead needs an id or an e-mail address"):
        lead_key(external_id=None, email=None)


async def test_a_lead_is_created_once(sessions: SessionFactory, now: datetime) -> None:
    async with sessions() as session, session.begin():
        first = await find_or_create_leads(session, identities=[AIKO, AIKO], now=now)
    async with sessions() as session, session.begin():
        again = await find_or_create_leads(session, identities=[AIKO], now=now)
    assert first["id:crm-1"].id == again["id:crm-1"].id
    assert first["id:crm-1"].stage == "target"
    assert first["id:crm-1"].profile["email"] == "aiko@example.co.jp"


async def test_an_email_lead_is_adopted_by_its_crm_id(
    sessions: SessionFactory, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        by_mail = (await find_or_create_leads(session, identities=[BY_MAIL], now=now))[
            "email:aiko@example.co.jp"
        ]
    async with sessions() as session, session.begin():
        adopted = await find_or_create_leads(session, identities=[AIKO, BY_MAIL], now=now)
    assert adopted["id:crm-1"].id == adopted["email:aiko@example.co.jp"].id == by_mail.id
    async with sessions() as session:
        lead = await find_lead(session, key="id:crm-1")
        assert lead is not None
        assert (lead.id, lead.external_id) == (by_mail.id, "crm-1")
        assert await find_lead(session, key="email:aiko@example.co.jp") is None


async def test_an_email_only_event_finds_the_lead_adopted_by_crm_id(
    sessions: SessionFactory, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        adopted = (await find_or_create_leads(session, identities=[AIKO], now=now))["id:crm-1"]
    async with sessions() as session, session.begin():
        found = await find_or_create_leads(session, identities=[BY_MAIL], now=now)
    assert found["email:aiko@example.co.jp"].id == adopted.id


async def test_save_writes_score_state_stage_and_profile(
    sessions: SessionFactory, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        row = (await find_or_create_leads(session, identities=[AIKO], now=now))["id:crm-1"]
        row.score, row.stage, row.score_state = 42.5, "mql", '{"v": 1}'
        row.last_activity_at = now - timedelta(hours=1)
        row.profile["name"] = "Aiko Sato"
        await save_leads(session, leads=[row], now=now)
    async with sessions() as session:
        lead = await find_lead(session, key="id:crm-1")
    assert lead is not None
    assert (lead.score, lead.stage, lead.score_state, lead.name) == (
        42.5,
        "mql",
        {"v": 1},
        "Aiko Sato",
    )
    assert lead.last_activity_at == now - timedelta(hours=1)


async def test_two_replicas_creating_the_same_leads_make_one_each(
    any_db_url: str, now: datetime
) -> None:
    engines = [create_engine(any_db_url), create_engine(any_db_url)]
    identities = [LeadIdentity(external_id=f"crm-{i}", email=None) for i in range(50)]

    async def replica(factory: SessionFactory, order: list[LeadIdentity]) -> dict[str, int]:
        async with factory() as session, session.begin():
            rows = await find_or_create_leads(session, identities=order, now=now)
            return {k: r.id for k, r in rows.items()}

    try:
        a, b = await asyncio.gather(
            replica(session_factory(engines[0]), identities),
            replica(session_factory(engines[1]), list(reversed(identities))),
        )
    finally:
        for engine in engines:
            await engine.dispose()
    assert a == b
    assert len(set(a.values())) == 50


async def test_a_saved_lead_reads_back_identically_on_both_databases(
    any_db_url: str, now: datetime
) -> None:
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            row = (await find_or_create_leads(session, identities=[AIKO], now=now))["id:crm-1"]
            row.score, row.stage, row.score_state = 7.25, "lead", '{"v":1,"keys":["a"]}'
            row.last_activity_at = now - timedelta(minutes=3, microseconds=5)
            row.profile["company"] = "Example KK"
            await save_leads(session, leads=[row], now=now)
        async with sessions() as session, session.begin():
            again = (await find_or_create_leads(session, identities=[AIKO], now=now))["id:crm-1"]
    finally:
        await engine.dispose()
    assert again == row
    assert again.last_activity_at is not None
    assert again.last_activity_at.utcoffset() == timedelta(0)


async def test_saving_leads_with_and_without_profile_changes_in_one_call(
    any_db_url: str, now: datetime
) -> None:
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    other = LeadIdentity(external_id="crm-2", email="ken@example.com")
    try:
        async with sessions() as session, session.begin():
            rows = await find_or_create_leads(session, identities=[AIKO, other], now=now)
            rows["id:crm-1"].profile["company"] = "Example KK"
            await save_leads(session, leads=list(rows.values()), now=now)
        async with sessions() as session, session.begin():
            rows = await find_or_create_leads(session, identities=[AIKO, other], now=now)
            changed, unchanged = rows["id:crm-1"], rows["id:crm-2"]
            changed.profile["title"] = "CMO"
            changed.score, unchanged.score = 12.0, 30.0
            await save_leads(session, leads=[changed, unchanged], now=now)
        async with sessions() as session, session.begin():
            again = await find_or_create_leads(session, identities=[AIKO, other], now=now)
    finally:
        await engine.dispose()
    assert again["id:crm-1"] == changed
    assert again["id:crm-2"] == unchanged
    assert (again["id:crm-1"].profile["company"], again["id:crm-1"].profile["title"]) == (
        "Example KK",
        "CMO",
    )
    assert (again["id:crm-2"].score, again["id:crm-2"].profile["email"]) == (
        30.0,
        "ken@example.com",
    )


async def test_a_new_lead_starts_empty_on_both_databases(any_db_url: str, now: datetime) -> None:
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            row = (await find_or_create_leads(session, identities=[AIKO], now=now))["id:crm-1"]
        async with sessions() as session:
            lead = await find_lead(session, key="id:crm-1")
    finally:
        await engine.dispose()
    assert (row.key, row.external_id, row.stage, row.score, row.score_state) == (
        "id:crm-1",
        "crm-1",
        "target",
        0.0,
        "{}",
    )
    assert row.last_activity_at is None
    assert row.profile["email"] == "aiko@example.co.jp"
    assert lead is not None
    assert (lead.created_at, lead.updated_at) == (now, now)
