"""The decay job: stored scores follow the half-life; nothing happens without one configured."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from handlers.jobs.decay import run_decay
from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.rules import ScoringRules
from store.engine import SessionFactory
from store.models import Lead
from tests.handlers.jobs.builders import config, deps, tokyo

DECAYING = ScoringRules(
    points={"content_downloaded": 40}, threshold=100, decay_half_life=timedelta(days=7)
)


async def add_lead(sessions: SessionFactory, name: str, state: LeadScoreState) -> int:
    async with sessions() as session, session.begin():
        lead = Lead(
            key=f"id:{name}",
            external_id=name,
            score=state.score,
            score_state=state.to_json(),
            created_at=tokyo(1, 9),
            updated_at=tokyo(1, 9),
        )
        session.add(lead)
        await session.flush()
        assert lead.id is not None
        return lead.id


async def scores(sessions: SessionFactory) -> dict[str, float]:
    async with sessions() as session:
        rows = await session.exec(select(Lead).order_by(col(Lead.id)))
        return {lead.external_id or "": round(lead.score, 3) for lead in rows.all()}


def downloaded(*days: int) -> LeadScoreState:
    state = LeadScoreState.empty()
    for n, day in enumerate(days):
        event = ScoredEvent(f"e{n}", "content_downloaded", tokyo(day, 10))
        state = apply_event(state, event, DECAYING).state
    return state


async def test_stored_scores_halve_every_half_life(sessions: SessionFactory) -> None:
    await add_lead(sessions, "a", downloaded(10, 10))  # 80 on the 10th
    await add_lead(sessions, "b", downloaded(17))  # 40 on the 17th
    await add_lead(sessions, "zero", LeadScoreState.empty())
    cfg = config(rules=DECAYING)
    summary = await run_decay(deps(sessions, cfg), tokyo(17, 10), batch=2)
    assert summary == {"checked": 2, "updated": 1, "failed": 0}
    assert await scores(sessions) == {"a": 40.0, "b": 40.0, "zero": 0.0}
    await run_decay(deps(sessions, cfg), tokyo(24, 10))
    assert await scores(sessions) == {"a": 20.0, "b": 20.0, "zero": 0.0}


async def test_nothing_happens_without_a_half_life(sessions: SessionFactory) -> None:
    await add_lead(sessions, "a", downloaded(10, 10))
    summary = await run_decay(deps(sessions, config()), tokyo(24, 10))
    assert summary == {"skipped": "no [scoring] decay_half_life configured"}
    assert await scores(sessions) == {"a": 80.0}


async def test_an_unreadable_state_is_logged_and_skipped(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    broken = await add_lead(sessions, "broken", downloaded(10))
    await add_lead(sessions, "fine", downloaded(10))
    async with sessions() as session, session.begin():
        lead = (await session.exec(select(Lead).where(col(Lead.id) == broken))).one()
        lead.score_state = {"v": 999}
        session.add(lead)
    summary = await run_decay(deps(sessions, config(rules=DECAYING)), tokyo(17, 10))
    assert summary == {"checked": 2, "updated": 1, "failed": 1}
    assert await scores(sessions) == {"broken": 40.0, "fine": 20.0}
    assert f"decay: lead {broken} has an unreadable score state" in caplog.text
