"""Deps as if at another instant: decisions read that instant, messages stay due by the real now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.context import Deps
from store.engine import SessionFactory
from tests.handlers.jobs.builders import config

REAL = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)


def deps(sessions: SessionFactory) -> Deps:
    return Deps(config=config(), sessions=sessions, clock=lambda: REAL)


def test_a_future_instant_is_decided_then_and_queued_for_now(sessions: SessionFactory) -> None:
    later = REAL + timedelta(days=6)
    replayed = deps(sessions).as_if_at(later)
    assert replayed.clock() == later
    assert replayed.queued_at() == REAL
    assert replayed.queued_at(later + timedelta(hours=1)) == REAL


def test_a_past_instant_is_queued_as_of_then(sessions: SessionFactory) -> None:
    earlier = REAL - timedelta(hours=3)
    replayed = deps(sessions).as_if_at(earlier)
    assert replayed.clock() == earlier
    assert replayed.queued_at() == earlier


def test_replaying_a_replay_keeps_the_real_clock(sessions: SessionFactory) -> None:
    twice = deps(sessions).as_if_at(REAL + timedelta(days=1)).as_if_at(REAL + timedelta(days=2))
    assert twice.queued_at() == REAL
    assert deps(sessions).queued_at() == REAL
