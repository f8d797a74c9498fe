"""Job slots: first claim wins, done slots are skipped, failed or expired ones are taken over once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from store.engine import SessionFactory, create_engine, session_factory
from store.jobs import (
    SlotClaim,
    claim_slot,
    day_slot,
    fail_slot,
    finish_slot,
    get_run,
    hour_slot,
    minute_slot,
)

LEASE = timedelta(minutes=5)
TOKYO = ZoneInfo("Asia/Tokyo")


def test_slot_names() -> None:
    at = datetime(2026, 11, 29, 16, 15, 42, tzinfo=UTC)  # Mon 30 Nov 01:15 in Tokyo
    assert minute_slot(at) == "2026-11-29T16:15"
    assert hour_slot(at) == "2026-11-29T16"
    assert day_slot(at, TOKYO) == "2026-11-30"
    assert day_slot(at, ZoneInfo("UTC")) == "2026-11-29"
    assert minute_slot(datetime(2026, 11, 24, 10, 15, tzinfo=TOKYO)) == "2026-11-24T01:15"


def test_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="a time zone is required"):
        minute_slot(datetime(2026, 11, 24, 1, 15))


async def _claim(url: str, owner: str, now: datetime) -> SlotClaim | None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await claim_slot(
                session, job="nag", slot="2026-11-24T01:15", owner=owner, now=now, lease=LEASE
            )
    finally:
        await engine.dispose()


async def test_first_claim_wins_then_done_slot_is_skipped(any_db_url: str, now: datetime) -> None:
    first = await _claim(any_db_url, "a", now)
    assert first == SlotClaim("nag", "2026-11-24T01:15", "a", 1)
    assert await _claim(any_db_url, "b", now) is None  # running, lease alive
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        assert await finish_slot(session, claim=first, now=now, result={"checked": 3})
    assert await _claim(any_db_url, "c", now + timedelta(hours=1)) is None  # done stays done
    async with sessions() as session:
        run = await get_run(session, job="nag", slot="2026-11-24T01:15")
    await engine.dispose()
    assert run is not None
    assert (run.status, run.owner, run.attempts, run.result) == ("done", "a", 1, {"checked": 3})


async def test_failed_slot_is_retried_and_expired_lease_taken_over(
    any_db_url: str, now: datetime
) -> None:
    first = await _claim(any_db_url, "a", now)
    assert first is not None
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        assert await fail_slot(session, claim=first, now=now, error="RuntimeError: boom")
    second = await _claim(any_db_url, "b", now + timedelta(seconds=1))
    assert second == SlotClaim("nag", "2026-11-24T01:15", "b", 2)
    # b crashes without a word: its lease runs out, then c takes over.
    assert await _claim(any_db_url, "c", now + LEASE) is None
    third = await _claim(any_db_url, "c", now + LEASE + timedelta(seconds=2))
    assert third == SlotClaim("nag", "2026-11-24T01:15", "c", 3)
    # b wakes up late: it cannot overwrite c's run.
    async with sessions() as session, session.begin():
        assert not await finish_slot(session, claim=second, now=now, result={})
        assert await finish_slot(session, claim=third, now=now, result={"ok": True})
    async with sessions() as session:
        run = await get_run(session, job="nag", slot="2026-11-24T01:15")
    await engine.dispose()
    assert run is not None
    assert (run.status, run.owner, run.attempts, run.error) == ("done", "c", 3, None)


async def test_concurrent_claims_have_one_winner(any_db_url: str, now: datetime) -> None:
    results = await asyncio.gather(*(_claim(any_db_url, f"w{n}", now) for n in range(6)))
    assert len([r for r in results if r is not None]) == 1


async def test_concurrent_takeovers_of_an_expired_lease_have_one_winner(
    any_db_url: str, now: datetime
) -> None:
    assert await _claim(any_db_url, "crashed", now) is not None
    later = now + LEASE + timedelta(minutes=1)
    results = await asyncio.gather(*(_claim(any_db_url, f"w{n}", later) for n in range(6)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert winners[0].attempt == 2


async def test_lease_must_be_positive(sessions: SessionFactory, now: datetime) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match="lease"):
            await claim_slot(session, job="nag", slot="x", owner="a", now=now, lease=timedelta(0))
