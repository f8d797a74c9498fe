"""Stored forms: the lead's scoring state and the qualification reasons, and their bad-input errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.keymemory import MAX_KEYS
from scoring.qualification import Qualification
from scoring.rules import ScoringRules

T0 = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
RULES = ScoringRules(points={"email_opened": 5, "form_submitted": 40}, threshold=100)


def test_empty_state_json() -> None:
    assert LeadScoreState.empty().to_json() == {
        "v": 1,
        "latest": None,
        "floor": None,
        "half_life": None,
        "segments": [],
        "candidates": [],
        "completed": {},
        "keys": [],
    }


def test_state_json_is_plain_json_with_exact_times() -> None:
    state = LeadScoreState.empty()
    for n, minutes in enumerate([0, 5]):
        at = T0 + timedelta(minutes=minutes, microseconds=7)
        state = apply_event(state, ScoredEvent(f"k{n}", "email_opened", at), RULES).state

    data = json.loads(json.dumps(state.to_json()))

    latest = 1_795_483_200_000_007  # 2026-11-24T01:20:00.000007Z in µs
    assert data["latest"] == latest
    assert data["segments"] == [
        [
            latest - 300_000_000,
            latest,
            10.0,
            None,
            "",
            0.0,
            [[latest - 300_000_000, 5.0], [latest, 5.0]],
        ]
    ]
    assert data["keys"] == ["k0", "k1"]


def test_state_remembers_only_the_newest_keys() -> None:
    state = LeadScoreState.empty()
    for n in range(MAX_KEYS + 10):
        event = ScoredEvent(f"k{n}", "email_opened", T0 + timedelta(seconds=n))
        state = apply_event(state, event, RULES).state

    keys = state.to_json()["keys"]
    assert len(keys) == MAX_KEYS
    assert keys[0] == "k10"
    assert state.knows_key("k9") is False
    assert state.knows_key(f"k{MAX_KEYS + 9}") is True


def good_state() -> dict[str, Any]:
    state = LeadScoreState.empty()
    for n in range(3):
        event = ScoredEvent(f"k{n}", "form_submitted", T0 + timedelta(hours=n))
        state = apply_event(state, event, RULES).state
    return state.to_json()


def broken(change: str) -> dict[str, Any]:
    data = good_state()
    if change == "version":
        data["v"] = 99
    elif change == "segments":
        del data["segments"]
    elif change == "segment length":
        data["segments"][0] = data["segments"][0][:3]
    elif change == "segment time":
        data["segments"][0][0] = "yesterday"
    elif change == "item order":
        data["segments"][0][6].reverse()
    elif change == "keys":
        data["keys"] = {"k0": 1}
    elif change == "candidate":
        data["candidates"] = [[1, "k", "page_visited", "", [["t", "first"]]]]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("version", "unknown format version 99"),
        ("segments", "'segments' is missing"),
        ("segment length", "a segment has 7 fields, got 3"),
        ("segment time", "segment start must be an integer, got 'yesterday'"),
        ("item order", "segment items must be in time order"),
        ("keys", "'keys' must be a list"),
        ("candidate", "step index must be an integer, got 'first'"),
    ],
)
def test_bad_stored_state_is_refused_with_a_clear_reason(change: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"lead score state: {message}"):
        LeadScoreState.from_json(broken(change))


def test_state_from_json_refuses_what_is_not_an_object() -> None:
    with pytest.raises(ValueError, match="expected a JSON object"):
        LeadScoreState.from_json([1, 2])


QUALIFICATION = Qualification(
    kind="threshold",
    score=105.0,
    threshold=100.0,
    trigger=None,
    event_keys=("evt-1",),
    event_types=("content_downloaded",),
    event_labels=("MA guide",),
)


def test_qualification_json_round_trip() -> None:
    data = json.loads(json.dumps(QUALIFICATION.to_json()))

    assert data == {
        "kind": "threshold",
        "score": 105.0,
        "threshold": 100.0,
        "trigger": None,
        "event_keys": ["evt-1"],
        "event_types": ["content_downloaded"],
        "event_labels": ["MA guide"],
    }
    assert Qualification.from_json(data) == QUALIFICATION


@pytest.mark.parametrize(
    ("qualification", "summary"),
    [
        (QUALIFICATION, "score 105 ≥ 100 after content_downloaded (MA guide)"),
        (
            Qualification("external", 99.25, 90, None, ("e",), ("score_changed",), ("",)),
            "external score 99.25 ≥ 90 after score_changed",
        ),
        (
            Qualification(
                "trigger",
                12,
                100,
                "demo then pricing",
                ("a", "b"),
                ("video_watched", "page_visited"),
                ("demo", "/pricing"),
            ),
            "trigger: demo then pricing (video_watched (demo) → page_visited (/pricing))",
        ),
    ],
)
def test_qualification_summaries(qualification: Qualification, summary: str) -> None:
    assert qualification.summary_en() == summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "vibes"}, "'kind' must be one of threshold, trigger, external"),
        ({"score": "high"}, "'score' must be a number"),
        ({"event_keys": "evt-1"}, "'event_keys' must be a list of strings"),
        ({"trigger": 3}, "'trigger' must be a string or null"),
        ({"kind": "trigger"}, "a trigger name is given exactly when kind is 'trigger'"),
        ({"event_labels": []}, "differ in length"),
    ],
)
def test_bad_stored_qualification_is_refused_with_a_clear_reason(
    change: dict[str, Any], message: str
) -> None:
    data = {**QUALIFICATION.to_json(), **change}
    with pytest.raises(ValueError, match=message):
        Qualification.from_json(data)
