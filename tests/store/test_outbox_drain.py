"""Draining the outbox: leases, per-target order, channel pacing, crash recovery, shared work."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from store.engine import SessionFactory, create_engine, session_factory
from store.models import Lead, Mql, OutboxMessage
from store.outbox import (
    ClaimBatch,
    card_target,
    claim_due,
    enqueue,
    mark_sent,
    schedule_retry,
)

LEASE = timedelta(seconds=60)
INTERVAL = timedelta(seconds=1)


@pytest.fixture
async def db(any_db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(any_db_url)
    yield session_factory(engine)
    await engine.dispose()


async def queue(db: SessionFactory, now: datetime, key: str, kind: str, **kwargs: Any) -> int:
    async with db() as session, session.begin():
        row_id = await enqueue(
            session, dedupe_key=key, kind=kind, now=now, payload={"text": key}, **kwargs
        )
    assert row_id is not None
    return row_id


async def claim(
    db: SessionFactory, now: datetime, worker: str = "w1", limit: int = 50, max_attempts: int = 8
) -> ClaimBatch:
    async with db() as session, session.begin():
        return await claim_due(
            session,
            now=now,
            worker=worker,
            lease=LEASE,
            limit=limit,
            per_channel_interval=INTERVAL,
            max_attempts=max_attempts,
        )


async def sent(db: SessionFactory, row_id: int, now: datetime, channel: str, ts: str) -> bool:
    async with db() as session, session.begin():
        return await mark_sent(session, row_id=row_id, now=now, channel=channel, ts=ts)


def ids(batch: ClaimBatch) -> list[int]:
    return [row.id for row in batch.rows]


async def test_rows_of_one_target_go_one_at_a_time_in_id_order(
    db: SessionFactory, now: datetime
) -> None:
    a, b = card_target(1), card_target(2)
    post_a = await queue(db, now, "a", "post", channel="C1", target_key=a)
    update_a = await queue(db, now, "a:v2", "update", target_key=a)
    reply_a = await queue(db, now, "a:r1", "reply", target_key=a)
    post_b = await queue(db, now, "b", "post", channel="C2", target_key=b)

    first = await claim(db, now)
    while_post_in_flight = await claim(db, now)
    await sent(db, post_a, now, "C1", "111.000001")
    second = await claim(db, now)
    await sent(db, update_a, now, "C1", "111.000001")
    third = await claim(db, now + INTERVAL)

    assert ids(first) == [post_a, post_b]
    assert ids(while_post_in_flight) == []
    assert [(r.id, r.target_channel, r.target_ts) for r in second.rows] == [
        (update_a, "C1", "111.000001")
    ]
    assert [(r.id, r.target_channel, r.target_ts) for r in third.rows] == [
        (reply_a, "C1", "111.000001")
    ]


async def test_posting_into_one_channel_is_paced_across_claims(
    db: SessionFactory, now: datetime
) -> None:
    posts = [await queue(db, now, f"p{i}", "post", channel="C1") for i in range(3)]
    other = await queue(db, now, "q", "post", channel="C2")
    webhook = await queue(db, now, "w", "webhook")

    first = await claim(db, now)
    same_instant = await claim(db, now)
    a_bit_early = await claim(db, now + 0.75 * INTERVAL - timedelta(microseconds=1))
    slightly_late = await claim(db, now + 0.75 * INTERVAL + timedelta(milliseconds=50))
    after_a_pause = await claim(db, now + 2.5 * INTERVAL)

    assert ids(first) == [posts[0], other, webhook]
    # After an idle channel the first post may be followed 0.75 interval later, no sooner.
    assert (ids(same_instant), same_instant.paced_until) == ([], now + 0.75 * INTERVAL)
    assert ids(a_bit_early) == []
    # Wake-up latency does not push the schedule back: the next slot stays on the grid.
    assert (ids(slightly_late), slightly_late.paced_until) == ([posts[1]], now + 1.75 * INTERVAL)
    assert (ids(after_a_pause), after_a_pause.paced_until) == ([posts[2]], now + 3.25 * INTERVAL)


async def test_busy_channel_does_not_starve_the_others(db: SessionFactory, now: datetime) -> None:
    for i in range(5):
        await queue(db, now, f"p{i}", "post", channel="C1")
    elsewhere = await queue(db, now, "q", "post", channel="C2")

    first = await claim(db, now, limit=2)
    second = await claim(db, now, limit=2)

    assert [r.channel for r in first.rows] == ["C1"]
    assert ids(second) == [elsewhere]


async def test_reply_uses_the_cards_stored_ts_when_there_is_no_post_row(
    db: SessionFactory, now: datetime
) -> None:
    async with db() as session, session.begin():
        lead = Lead(key="id:1", created_at=now, updated_at=now)
        session.add(lead)
        await session.flush()
        assert lead.id is not None
        mql = Mql(
            lead_id=lead.id, created_at=now, kind="threshold", score=100, updated_at=now,
            slack_channel="C1", slack_ts="222.000002",
        )  # fmt: skip
        session.add(mql)
        await session.flush()
        assert mql.id is not None
        mql_id = mql.id
    reply = await queue(db, now, "r", "reply", target_key=card_target(mql_id))
    orphan = await queue(db, now, "o", "update", target_key=card_target(999))

    batch = await claim(db, now)

    assert [(r.id, r.target_channel, r.target_ts) for r in batch.rows] == [
        (reply, "C1", "222.000002"),
        (orphan, None, None),
    ]


async def test_an_expired_lease_makes_the_row_due_again_in_doubt(
    db: SessionFactory, now: datetime
) -> None:
    row_id = await queue(db, now, "p", "post", channel="C1")

    first = await claim(db, now, worker="crashed")
    before_expiry = await claim(db, now + LEASE - timedelta(microseconds=1), worker="w2")
    after_expiry = await claim(db, now + LEASE, worker="w2")

    assert [(r.id, r.attempt, r.in_doubt_since) for r in first.rows] == [(row_id, 1, None)]
    assert ids(before_expiry) == []
    assert [(r.id, r.attempt, r.in_doubt_since) for r in after_expiry.rows] == [(row_id, 2, now)]


async def test_a_row_crashing_every_sender_is_dead_lettered(
    db: SessionFactory, now: datetime
) -> None:
    row_id = await queue(db, now, "p", "post", channel="C1")
    for attempt in range(2):
        await claim(db, now + attempt * LEASE, max_attempts=2)

    batch = await claim(db, now + 2 * LEASE, max_attempts=2)

    assert ids(batch) == []
    assert [(d.id, d.error) for d in batch.dead] == [
        (row_id, "gave up after 2 attempts (the last one never reported back)")
    ]


async def test_a_row_of_an_unknown_kind_is_dead_lettered_and_the_rest_still_go(
    db: SessionFactory, now: datetime
) -> None:
    """A kind no sender knows (written by hand, or by a newer release) stops nothing else."""
    odd = await queue(db, now, "odd", "post", channel="C1")
    fine = await queue(db, now, "fine", "post", channel="C2")
    async with db() as session, session.begin():
        row = await session.get(OutboxMessage, odd)
        assert row is not None
        row.kind = "fax"

    batch = await claim(db, now)

    assert ids(batch) == [fine]
    assert [(d.id, d.error) for d in batch.dead] == [(odd, "unknown outbox kind 'fax'")]
    async with db() as session:
        dead = await session.get(OutboxMessage, odd)
        assert dead is not None
        assert (dead.status, dead.last_error) == ("dead", "unknown outbox kind 'fax'")


async def test_enqueue_refuses_an_unknown_kind_naming_the_known_ones(
    db: SessionFactory, now: datetime
) -> None:
    with pytest.raises(ValueError, match="unknown outbox kind 'fax'; known: post, update, reply"):
        await queue(db, now, "x", "fax", channel="C1")
    async with db() as session:
        assert (await session.exec(select(OutboxMessage))).all() == []


async def test_a_sent_row_is_never_claimed_again(db: SessionFactory, now: datetime) -> None:
    row_id = await queue(db, now, "p", "post", channel="C1")
    await claim(db, now)
    assert await sent(db, row_id, now, "C1", "1.000001")

    later = await claim(db, now + timedelta(hours=1))

    assert ids(later) == []
    assert not await sent(db, row_id, now, "C1", "2.000002")  # a late second answer is ignored


async def test_an_update_superseded_in_flight_holds_back_the_newer_one(
    db: SessionFactory, now: datetime
) -> None:
    target = card_target(1)
    post = await queue(db, now, "c", "post", channel="C1", target_key=target)
    await claim(db, now)
    await sent(db, post, now, "C1", "1.000001")
    v2 = await queue(db, now, "c:v2", "update", target_key=target)
    in_flight = await claim(db, now)
    v3 = await queue(db, now, "c:v3", "update", target_key=target)  # supersedes v2 mid-flight

    while_v2_in_flight = await claim(db, now)
    delivered = await sent(db, v2, now, "C1", "1.000001")
    after = await claim(db, now)

    assert ids(in_flight) == [v2]
    assert ids(while_v2_in_flight) == []
    assert delivered
    assert ids(after) == [v3]


async def test_a_rate_limited_retry_keeps_its_attempts(db: SessionFactory, now: datetime) -> None:
    row_id = await queue(db, now, "p", "post", channel="C1")
    await claim(db, now)
    async with db() as session, session.begin():
        await schedule_retry(
            session, row_id=row_id, retry_at=now + timedelta(seconds=3), error="rate limited",
            count_attempt=False,
        )  # fmt: skip

    early = await claim(db, now + timedelta(seconds=2))
    due = await claim(db, now + timedelta(seconds=3))

    assert ids(early) == []
    assert [(r.id, r.attempt, r.in_doubt_since) for r in due.rows] == [(row_id, 1, None)]


@pytest.mark.postgres
async def test_concurrent_claimers_on_postgres_never_share_a_row(
    postgres_url: str, now: datetime
) -> None:
    engines = [create_engine(postgres_url) for _ in range(3)]
    factories = [session_factory(e) for e in engines]
    try:
        for i in range(120):
            await queue(factories[0], now, f"w{i}", "webhook")

        async def claimer(db: SessionFactory, name: str) -> list[int]:
            taken: list[int] = []
            while True:
                batch = await claim(db, now, worker=name, limit=7)
                if not batch.rows:
                    return taken
                taken += ids(batch)
                await asyncio.sleep(0)

        results = await asyncio.gather(
            *(claimer(db, f"w{n}") for n, db in enumerate(factories) for _ in range(2))
        )
        async with factories[0]() as session:
            rows = (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    finally:
        for engine in engines:
            await engine.dispose()
    everything = [row_id for taken in results for row_id in taken]
    assert sorted(everything) == [r.id for r in rows]
    assert len(set(everything)) == 120
    assert {r.attempts for r in rows} == {1}
    assert sum(1 for taken in results if taken) > 1  # the work really was shared


async def test_lookahead_leases_the_next_post_with_its_slot(
    db: SessionFactory, now: datetime
) -> None:
    first, second, third = [await queue(db, now, f"p{i}", "post", channel="C1") for i in range(3)]

    async with db() as session, session.begin():
        batches = [
            await claim_due(
                session, now=now, worker="w", lease=LEASE, limit=10,
                per_channel_interval=INTERVAL, max_attempts=8, lookahead=INTERVAL,
            )
            for _ in range(3)
        ]  # fmt: skip

    assert [[(r.id, r.send_at) for r in b.rows] for b in batches] == [
        [(first, None)],
        [(second, now + 0.75 * INTERVAL)],
        [],
    ]
    assert batches[2].paced_until == now + 0.75 * INTERVAL
    assert third not in ids(batches[2])
