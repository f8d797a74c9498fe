"""Recycle returns: back to Lead on the return date (SLA time zone), score reset, thread, CRM webhook."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date

import pytest
from sqlmodel import col, select

from handlers.dispositions import DISPOSITIONS, RETURNING_STATES
from handlers.jobs.recycle import run_recycle
from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.rules import ScoringRules
from store.engine import SessionFactory
from store.models import Lead, MqlState
from store.sweeps import returns_due
from tests.handlers.jobs.builders import (
    add_mql,
    audits,
    config,
    deps,
    get_mql,
    outbox,
    texts,
    tokyo,
)

# No inactivity reset, so only the return itself can bring the score down.
RULES = ScoringRules(points={"content_downloaded": 40}, threshold=100, inactivity_reset=None)
WEBHOOK = "https://crm.example.com/hooks/mqlbot"


def scored(*days: int) -> LeadScoreState:
    state = LeadScoreState.empty()
    for n, day in enumerate(days):
        event = ScoredEvent(f"e{n}", "content_downloaded", tokyo(day, 10, month=8))
        state = apply_event(state, event, RULES).state
    return state


async def add_recycled(
    sessions: SessionFactory, *, until: date, lead_stage: str = "recycled", name: str = "Aiko Sato"
) -> int:
    state = scored(20, 21, 22)
    return await add_mql(
        sessions,
        config(rules=RULES),
        created_at=tokyo(20, 10, month=8),
        name=name,
        state=MqlState.RECYCLED,
        owner_id="U0SDRA",
        claimed_at=tokyo(20, 10, 5, month=8),
        nag_due_at=None,
        reason="timing",
        recycle_until=until,
        lead_stage=lead_stage,
        lead_score=120.0,
        score_state=state.to_json(),
    )


async def lead_of(sessions: SessionFactory, mql_id: int) -> Lead:
    mql = await get_mql(sessions, mql_id)
    async with sessions() as session:
        return (await session.exec(select(Lead).where(col(Lead.id) == mql.lead_id))).one()


@pytest.mark.parametrize("webhook", [None, WEBHOOK])
async def test_a_recycled_mql_returns_to_lead_on_its_date_in_the_sla_time_zone(
    db_sessions: SessionFactory, webhook: str | None
) -> None:
    sessions = db_sessions
    cfg = config(rules=RULES, crm_webhook_url=webhook)
    mql_id = await add_recycled(sessions, until=date(2026, 11, 24))
    # 23:30 on the 23rd in Tokyo: not yet (although it is already the 24th nowhere else).
    assert await run_recycle(deps(sessions, cfg), tokyo(23, 23, 30)) == {"checked": 0}
    # 00:30 on the 24th in Tokyo is still the 23rd in UTC: the SLA time zone decides.
    at = tokyo(24, 0, 30)
    assert at.astimezone(UTC).date() == date(2026, 11, 23)
    assert await run_recycle(deps(sessions, cfg), at) == {"checked": 1, "returned": 1}
    assert await run_recycle(deps(sessions, cfg), tokyo(24, 1, 30)) == {"checked": 0}

    mql = await get_mql(sessions, mql_id)
    assert (mql.state, mql.returned_at, mql.version) == (
        MqlState.RECYCLED,
        at.astimezone(UTC),
        2,
    )
    lead = await lead_of(sessions, mql_id)
    assert (lead.stage, lead.score) == ("lead", 0.0)
    # It must qualify again through fresh activity: old points are gone, new ones count.
    state = LeadScoreState.from_json(lead.score_state)
    fresh = apply_event(state, ScoredEvent("new", "content_downloaded", tokyo(25, 10)), RULES)
    assert fresh.score_after == 40.0
    late = apply_event(
        state, ScoredEvent("old", "content_downloaded", tokyo(23, 10, month=8)), RULES
    )
    assert late.score_after == 0.0

    assert await texts(sessions) == [
        (
            "reply",
            "C0SDR",
            "Back from recycle (Timing): this is a Lead again and must qualify again through "
            "fresh activity.",
        )
    ]
    [entry] = await audits(sessions)
    assert (entry.actor, entry.action, entry.from_state, entry.to_state) == (
        "system",
        "recycle_return",
        "recycled",
        "lead",
    )
    assert entry.detail == {
        "owner": "U0SDRA",
        "previous_owner": None,
        "score_before": 120.0,
        "score_after": 0.0,
    }
    [update] = await outbox(sessions, kinds=("update",))
    assert update.dedupe_key == f"card:{mql_id}:v2"
    hooks = await outbox(sessions, kinds=("webhook",))
    if webhook is None:
        assert hooks == []
    else:
        [hook] = hooks
        assert hook.payload == {
            "type": "mql.state_changed",
            "action": "recycle_return",
            "mql_id": mql_id,
            "lead": {
                "id": None,
                "email": "aiko.sato@example.co.jp",
                "key": "email:aiko.sato@example.co.jp",
            },
            "from_state": "recycled",
            "to_state": "lead",
            "owner": "U0SDRA",
            "previous_owner": None,
            "actor": "system",
            "reason": "timing",
            "note": None,
            "next_step": None,
            "next_step_on": None,
            "recycle_until": "2026-11-24",
            "at": "2026-11-23T15:30:00+00:00",
        }


async def test_score_is_kept_when_reset_on_return_is_off(sessions: SessionFactory) -> None:
    cfg = dataclasses.replace(config(rules=RULES), reset_score_on_return=False)
    mql_id = await add_recycled(sessions, until=date(2026, 11, 24))
    await run_recycle(deps(sessions, cfg), tokyo(24, 9))
    lead = await lead_of(sessions, mql_id)
    assert (lead.stage, lead.score) == ("lead", 120.0)


async def test_a_lead_that_qualified_again_meanwhile_is_left_alone(
    sessions: SessionFactory,
) -> None:
    cfg = config(rules=RULES)
    mql_id = await add_recycled(sessions, until=date(2026, 11, 24), lead_stage="mql")
    assert await run_recycle(deps(sessions, cfg), tokyo(24, 9)) == {"checked": 1, "superseded": 1}
    lead = await lead_of(sessions, mql_id)
    assert (lead.stage, lead.score) == ("mql", 120.0)
    assert (await get_mql(sessions, mql_id)).returned_at == tokyo(24, 9).astimezone(UTC)
    assert await outbox(sessions) == []


async def test_one_broken_return_never_stops_the_others(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config(rules=RULES)
    good = [
        await add_recycled(sessions, until=date(2026, 11, 20), name=f"Lead {n}") for n in range(3)
    ]
    broken = await add_recycled(sessions, until=date(2026, 11, 21), name="Broken")
    async with sessions() as session, session.begin():
        lead = await lead_of(sessions, broken)
        lead.score_state = {"v": 999}
        session.add(lead)
    summary = await run_recycle(deps(sessions, cfg), tokyo(24, 9), batch=2)
    assert summary == {"checked": 4, "failed": 1, "returned": 3}
    assert f"recycle: MQL {broken} failed" in caplog.text
    for mql_id in good:
        assert (await lead_of(sessions, mql_id)).stage == "lead"
    assert (await lead_of(sessions, broken)).stage == "recycled"
    assert (await get_mql(sessions, broken)).returned_at is None


async def test_exactly_the_dispositions_that_return_come_back(db_sessions: SessionFactory) -> None:
    # One MQL per disposition, each with a return date that has passed: the table's ``returns``
    # alone decides which of them the job brings back.
    cfg = config(rules=RULES)
    ids = {
        spec.state: await add_mql(
            db_sessions,
            cfg,
            created_at=tokyo(20, 10, month=8),
            name=f"Lead {spec.state.value}",
            state=spec.state,
            owner_id="U0SDRA",
            nag_due_at=None,
            recycle_until=date(2026, 11, 20),
            lead_stage=spec.stage.value,
            score_state=scored(20).to_json(),
        )
        for spec in DISPOSITIONS
    }
    summary = await run_recycle(deps(db_sessions, cfg), tokyo(24, 9))
    assert summary == {"checked": len(RETURNING_STATES), "returned": len(RETURNING_STATES)}
    returned = {
        state for state, mql_id in ids.items() if (await get_mql(db_sessions, mql_id)).returned_at
    }
    assert returned == set(RETURNING_STATES) == {MqlState.RECYCLED}
    for state, mql_id in ids.items():
        stage = (await lead_of(db_sessions, mql_id)).stage
        assert stage == ("lead" if state in RETURNING_STATES else state.value)


async def test_the_sweep_reads_the_states_it_is_given(db_sessions: SessionFactory) -> None:
    cfg = config(rules=RULES)
    recycled = await add_recycled(db_sessions, until=date(2026, 11, 20))
    lead = await add_mql(
        db_sessions,
        cfg,
        created_at=tokyo(20, 10, month=8),
        name="Ken Ito",
        state=MqlState.LEAD,
        owner_id="U0SDRA",
        nag_due_at=None,
        recycle_until=date(2026, 11, 20),
    )
    today = date(2026, 11, 24)
    async with db_sessions() as session:
        assert await returns_due(
            session, states=[MqlState.LEAD], today=today, after_id=0, limit=10
        ) == [lead]
        both = [MqlState.RECYCLED, MqlState.LEAD]
        assert await returns_due(session, states=both, today=today, after_id=0, limit=10) == [
            recycled,
            lead,
        ]
        with pytest.raises(ValueError, match="at least one returning state"):
            await returns_due(session, states=[], today=today, after_id=0, limit=10)
