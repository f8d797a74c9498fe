"""Property tests for the scoring core: arrival order, duplicates and JSON never change a score."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.engine import LeadScoreState, ScoredEvent, apply_event, score_at
from scoring.rules import ScoringRules, TriggerRule, TriggerStep

T0 = datetime(2026, 1, 5, tzinfo=UTC)
POINTS = {"email_opened": 3, "form_submitted": 40, "unsubscribed": -50, "page_visited": 0.5}
TRIGGER = TriggerRule(
    "demo then pricing",
    (
        TriggerStep("video_watched", {"video": "demo"}),
        TriggerStep("page_visited", {"url": "pricing"}),
    ),
    timedelta(days=3),
)
RULE_SETS = {
    "reset": ScoringRules(points=POINTS, threshold=100, triggers=(TRIGGER,)),
    "decay": ScoringRules(
        points=POINTS,
        threshold=100,
        inactivity_reset=None,
        decay_half_life=timedelta(days=5),
    ),
    "reset and decay": ScoringRules(
        points=POINTS,
        threshold=100,
        inactivity_reset=timedelta(days=10),
        decay_half_life=timedelta(days=5),
        triggers=(TRIGGER,),
    ),
    "neither": ScoringRules(points=POINTS, threshold=100, inactivity_reset=None),
}


@st.composite
def lead_events(draw: st.DrawFn) -> list[ScoredEvent]:
    """Up to 25 events of one lead over ~4 months (well within retention), on a coarse grid so
    that equal instants and gaps of exactly the reset period happen often."""
    count = draw(st.integers(min_value=1, max_value=25))
    events = []
    for n in range(count):
        # Half-day steps: 30-day gaps (the default reset) and 10-day gaps occur exactly.
        at = T0 + timedelta(hours=12) * draw(st.integers(min_value=0, max_value=240))
        kind = draw(st.sampled_from(["points", "points", "points", "absolute", "delta", "trigger"]))
        if kind == "absolute":
            events.append(
                ScoredEvent(f"e{n}", "score_changed", at, score=draw(st.integers(0, 150)))
            )
        elif kind == "delta":
            delta = draw(st.floats(min_value=-30, max_value=30, allow_nan=False))
            events.append(ScoredEvent(f"e{n}", "score_changed", at, score_delta=delta))
        elif kind == "trigger":
            event_type, props = draw(
                st.sampled_from(
                    [("video_watched", {"video": "Demo"}), ("page_visited", {"url": "/pricing"})]
                )
            )
            events.append(ScoredEvent(f"e{n}", event_type, at, props))
        else:
            events.append(ScoredEvent(f"e{n}", draw(st.sampled_from(sorted(POINTS))), at))
    return events


def reference_score(events: Iterable[ScoredEvent], rules: ScoringRules) -> float:
    """The score by its definition, from the whole history sorted by time (no engine code)."""

    def order(e: ScoredEvent) -> tuple[datetime, int, str]:
        return (e.occurred_at, 0 if e.score is not None else 1, e.key)

    score = 0.0
    previous: datetime | None = None
    for e in sorted(events, key=order):
        if previous is not None:
            gap = e.occurred_at - previous
            if rules.inactivity_reset is not None and gap >= rules.inactivity_reset:
                score = 0.0
            elif rules.decay_half_life is not None:
                score *= 0.5 ** (gap / rules.decay_half_life)
        if e.score is not None:
            score = e.score
        elif e.score_delta is not None:
            score += e.score_delta
        else:
            score += rules.points.get(e.type, 0.0)
        previous = e.occurred_at
    return max(0.0, score)


def apply_all(
    events: Iterable[ScoredEvent], rules: ScoringRules, state: LeadScoreState | None = None
) -> LeadScoreState:
    state = state or LeadScoreState.empty()
    for e in events:
        state = apply_event(state, e, rules).state
    return state


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("rules_name", sorted(RULE_SETS))
@settings(max_examples=150, deadline=None)
@given(events=lead_events(), data=st.data())
def test_any_arrival_order_gives_the_definitions_score(
    rules_name: str, events: list[ScoredEvent], data: st.DataObject
) -> None:
    rules = RULE_SETS[rules_name]
    arrival = data.draw(st.permutations(events))
    state = apply_all(arrival, rules)

    assert close(state.score, reference_score(events, rules))
    later = max(e.occurred_at for e in events) + timedelta(days=data.draw(st.integers(0, 40)))
    assert close(score_at(state, rules, later), score_at(apply_all(events, rules), rules, later))


@pytest.mark.parametrize("rules_name", sorted(RULE_SETS))
@settings(max_examples=100, deadline=None)
@given(events=lead_events(), data=st.data())
def test_duplicates_never_change_a_score(
    rules_name: str, events: list[ScoredEvent], data: st.DataObject
) -> None:
    rules = RULE_SETS[rules_name]
    copies = data.draw(st.lists(st.sampled_from(events), max_size=15))
    arrival = data.draw(st.permutations([*events, *copies]))
    state = LeadScoreState.empty()
    seen: set[str] = set()
    for e in arrival:
        applied = apply_event(state, e, rules)
        assert applied.duplicate is (e.key in seen)
        if applied.duplicate:
            assert applied.state is state
        seen.add(e.key)
        state = applied.state

    assert close(state.score, reference_score(events, rules))


@pytest.mark.parametrize("rules_name", sorted(RULE_SETS))
@settings(max_examples=100, deadline=None)
@given(events=lead_events(), data=st.data())
def test_json_round_trip_preserves_behaviour(
    rules_name: str, events: list[ScoredEvent], data: st.DataObject
) -> None:
    rules = RULE_SETS[rules_name]
    arrival: Sequence[ScoredEvent] = data.draw(st.permutations(events))
    cut = data.draw(st.integers(0, len(arrival)))
    direct = LeadScoreState.empty()
    stored = LeadScoreState.empty()
    for n, e in enumerate(arrival):
        if n == cut:
            stored = LeadScoreState.from_json(json.loads(json.dumps(stored.to_json())))
        a = apply_event(direct, e, rules)
        b = apply_event(stored, e, rules)
        assert close(a.score_after, b.score_after)
        assert (a.qualification is None) is (b.qualification is None)
        if a.qualification is not None and b.qualification is not None:
            assert a.qualification.to_json() == b.qualification.to_json()
        direct, stored = a.state, b.state

    assert stored.to_json() == LeadScoreState.from_json(stored.to_json()).to_json()
    assert stored.last_activity_at == direct.last_activity_at
    replayed = apply_all(arrival, rules, LeadScoreState.from_json(stored.to_json()))
    assert close(replayed.score, direct.score)  # every key remembered: all duplicates
