"""Stored forms: the lead's scoring state and the qualification reasons, and their bad-input errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.keymemory import MAX_KEYS
from scoring.qualification import Qualification
from scoring.rules import ScoringRules, TriggerRule, TriggerStep

T0 = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
RULES = ScoringRules(points={"email_opened": 5, "form_submitted": 40}, threshold=100)
DAY = timedelta(days=1)


def test_empty_state_json() -> None:
    assert LeadScoreState.empty().to_json() == {
        "v": 2,
        "latest": None,
        "floor": None,
        "half_life": None,
        "segments": [],
        "kinds": [],
        "candidates": [[], [], []],
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
            [0, 5.0, 300_000_000, 5.0],  # (latest - time, points), newest arrival first
        ]
    ]
    assert data["keys"] == ["k0", "k1"]


TRIGGER_RULES = ScoringRules(
    points={"page_visited": 1},
    threshold=100,
    triggers=(
        TriggerRule(
            "demo then pricing",
            (
                TriggerStep("video_watched", {"video": "demo"}),
                TriggerStep("page_visited", {"url": "pricing"}),
            ),
            timedelta(days=3),
        ),
        TriggerRule("pricing twice", (TriggerStep("page_visited", {"url": "pricing"}),) * 2, DAY),
    ),
)


def demo_and_pricing_state() -> LeadScoreState:
    state = LeadScoreState.empty()
    for key, event_type, props, hours in [
        ("d", "video_watched", {"video": "Demo"}, 0),
        ("p1", "page_visited", {"url": "/blog"}, 1),
        ("p2", "page_visited", {"url": "/pricing"}, 2),
        ("p0", "page_visited", {"url": "/pricing"}, 1),  # late: arrives after p2
    ]:
        event = ScoredEvent(key, event_type, T0 + timedelta(hours=hours), props)
        state = apply_event(state, event, TRIGGER_RULES).state
    return state


def test_candidates_are_stored_as_columns_with_each_kind_and_key_once() -> None:
    data = json.loads(json.dumps(demo_and_pricing_state().to_json()))

    hour = 3_600_000_000
    assert data["latest"] == data["segments"][0][0] + 2 * hour
    assert data["kinds"] == [
        ["page_visited", "", "demo then pricing", 1, "pricing twice", 0, "pricing twice", 1],
        ["video_watched", "", "demo then pricing", 0],
    ]
    assert data["keys"] == ["d", "p1", "p2", "p0"]
    assert data["candidates"] == [
        [0, hour, 2 * hour],  # latest - time, newest first
        [2, 3, 0],  # positions in "keys"
        [0, 0, 1],  # positions in "kinds"
    ]
    assert data["completed"] == {
        "demo then pricing": data["latest"] - 2 * hour,
        "pricing twice": data["latest"] - hour,
    }
    # Items in arrival order, newest first: p0 arrived last although it happened before p2.
    assert data["segments"][0][6] == [hour, 1.0, 0, 1.0, hour, 1.0]


def test_a_candidate_key_no_longer_remembered_is_stored_as_text() -> None:
    data = demo_and_pricing_state().to_json()
    data["keys"] = data["keys"][1:]  # as if "d" had been forgotten
    data["candidates"][1] = [1, 2, "d"]

    restored = LeadScoreState.from_json(data)

    assert restored.to_json()["candidates"][1] == [1, 2, "d"]
    assert restored.knows_key("d") is False


def test_state_round_trip_is_exact() -> None:
    data = json.loads(json.dumps(demo_and_pricing_state().to_json()))

    assert LeadScoreState.from_json(data).to_json() == data


def format_1(state: LeadScoreState) -> dict[str, Any]:
    """What format 1 stored for this state: absolute times, small lists, oldest first."""
    data = state.to_json()
    latest = data["latest"]
    keys = data["keys"]
    segments = []
    for seg in data["segments"]:
        flat = seg[6]
        items = sorted(zip([seg[1] - age for age in flat[0::2]], flat[1::2], strict=True))
        segments.append([*seg[:6], [list(item) for item in items]])
    candidates = []
    for age, key, kind in zip(*data["candidates"], strict=True):
        event_type, label, *steps = data["kinds"][kind]
        pairs = [list(pair) for pair in zip(steps[0::2], steps[1::2], strict=True)]
        name = keys[key] if isinstance(key, int) else key
        candidates.append([latest - age, name, event_type, label, pairs])
    candidates.reverse()
    return {
        "v": 1,
        "latest": latest,
        "floor": data["floor"],
        "half_life": data["half_life"],
        "segments": segments,
        "candidates": candidates,
        "completed": data["completed"],
        "keys": keys,
    }


def test_format_1_is_read_and_converted() -> None:
    state = demo_and_pricing_state()
    old = format_1(state)

    restored = LeadScoreState.from_json(old)

    assert restored.to_json()["v"] == 2
    assert old["candidates"][0] == [
        old["latest"] - 2 * 3_600_000_000,
        "d",
        "video_watched",
        "",
        [["demo then pricing", 0]],
    ]
    assert restored.to_json()["candidates"] == state.to_json()["candidates"]
    assert restored.to_json()["kinds"] == state.to_json()["kinds"]
    # Format 1 kept items in time order: the arrival order is lost, the items are not.
    converted_items = restored.to_json()["segments"][0][6]
    assert converted_items == [0, 1.0, 3_600_000_000, 1.0, 3_600_000_000, 1.0]
    assert (restored.score, restored.all_keys()) == (state.score, ["d", "p1", "p2", "p0"])
    later = ScoredEvent("v", "video_watched", T0 + timedelta(hours=3), {"video": "demo"})
    pricing = ScoredEvent("p3", "page_visited", T0 + timedelta(hours=4), {"url": "pricing"})
    for restored_or_not in (restored, state):
        first = apply_event(restored_or_not, later, TRIGGER_RULES)
        second = apply_event(first.state, pricing, TRIGGER_RULES)
        assert second.qualification is None  # both triggers already complete within window
        assert second.score_after == 4.0  # four page visits


def test_format_1_with_a_bad_candidate_is_refused() -> None:
    old = format_1(demo_and_pricing_state())
    old["candidates"][0] = old["candidates"][0][:4]

    with pytest.raises(ValueError, match="lead score state: a candidate has 5 fields"):
        LeadScoreState.from_json(old)


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
    elif change == "item pairs":
        data["segments"][0][6].pop()
    elif change == "item time":
        data["segments"][0][6][0] = 1.5
    elif change == "item points":
        data["segments"][0][6][1] = True
    elif change == "keys":
        data["keys"] = {"k0": 1}
    elif change == "empty key":
        data["keys"] = ["k0", ""]
    elif change == "candidate columns":
        data["candidates"] = [[1], ["k"]]
    elif change == "candidate kind":
        data["candidates"] = [[1], ["k"], [0]]
    elif change == "step index":
        data["kinds"] = [["page_visited", "", "t", "first"]]
        data["candidates"] = [[1], ["k"], [0]]
    elif change == "candidate key":
        data["kinds"] = [["page_visited", "", "t", 0]]
        data["candidates"] = [[1], [7], [0]]
    elif change == "candidate order":
        data["kinds"] = [["x", "", "t", 0]]
        data["candidates"] = [[2, 1], ["k", "j"], [0, 0]]
    elif change == "candidate order at one instant":
        data["kinds"] = [["x", "", "t", 0]]
        data["candidates"] = [[1, 1], ["j", "k"], [0, 0]]
    elif change == "completed":
        data["completed"] = {"t": "soon"}
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("version", "unknown format version 99"),
        ("segments", "'segments' is missing"),
        ("segment length", "a segment has 7 fields, got 3"),
        ("segment time", "segment start must be an integer, got 'yesterday'"),
        ("item pairs", "segment items must be \\[time, points, ...\\] pairs"),
        ("item time", "item times must be integers, got 1.5"),
        ("item points", "item points must be finite numbers, got True"),
        ("keys", "'keys' must be a list"),
        ("empty key", "'keys' holds an empty key"),
        ("candidate columns", "'candidates' must be 3 lists"),
        ("candidate kind", "a candidate names a kind that does not exist"),
        ("step index", "step indexes must be integers, got 'first'"),
        ("candidate key", "a candidate key must be a string or a position in 'keys', got 7"),
        ("candidate order", "candidates must be newest first"),
        ("candidate order at one instant", "candidates must be newest first"),
        ("completed", "completed trigger starts must be integers, got 'soon'"),
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
