"""Queueing messages: one row per logical message, newer card updates supersede older unsent ones."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from store.engine import SessionFactory
from store.models import OutboxMessage
from store.outbox import card_target, enqueue


async def test_same_logical_message_is_queued_once(sessions: SessionFactory, now: datetime) -> None:
    async with sessions() as session, session.begin():
        first = await enqueue(
            session, dedupe_key="card:1", kind="post", channel="C1", payload={"text": "a"}, now=now
        )
        again = await enqueue(
            session, dedupe_key="card:1", kind="post", channel="C1", payload={"text": "b"}, now=now
        )
    assert first is not None
    assert again is None
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert [(r.dedupe_key, r.payload, r.status) for r in rows] == [
        ("card:1", {"text": "a"}, "pending")
    ]


async def test_newer_update_supersedes_older_unsent_update(
    sessions: SessionFactory, now: datetime
) -> None:
    async with sessions() as session, session.begin():
        for version in (2, 3, 4):
            await enqueue(
                session,
                dedupe_key=f"card:7:v{version}",
                kind="update",
                target_key=card_target(7),
                payload={"version": version},
                now=now,
            )
        await enqueue(
            session,
            dedupe_key="card:8:v2",
            kind="update",
            target_key=card_target(8),
            payload={"version": 2},
            now=now,
        )
    async with sessions() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [(r.dedupe_key, r.status) for r in rows] == [
        ("card:7:v2", "superseded"),
        ("card:7:v3", "superseded"),
        ("card:7:v4", "pending"),
        ("card:8:v2", "pending"),
    ]
