"""Behaviour triggers: ordered sequences within a window qualify at once, whatever the score."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from scoring.engine import Applied, LeadScoreState, ScoredEvent, apply_event, reset_score
from scoring.rules import ScoringRules, TriggerRule, TriggerStep

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEMO_THEN_PRICING = TriggerRule(
    "demo then pricing",
    (
        TriggerStep("video_watched", {"video": "demo"}),
        TriggerStep("page_visited", {"url": "/pricing"}),
    ),
    timedelta(hours=72),
)
WEBINAR_GUIDE_CONTACT = TriggerRule(
    "webinar, guide, contact",
    (
        TriggerStep("event_attended"),
        TriggerStep("content_downloaded", {"asset": "guide"}),
        TriggerStep("form_submitted", {"form": "^contact$"}),
    ),
    timedelta(days=14),
)
RULES = ScoringRules(
    points={
        "video_watched": 10,
        "page_visited": 2,
        "event_attended": 20,
        "content_downloaded": 15,
        "form_submitted": 25,
        "email_opened": 1,
    },
    threshold=100,
    triggers=(DEMO_THEN_PRICING, WEBINAR_GUIDE_CONTACT),
)


def event(
    key: str, event_type: str, at: timedelta, properties: Mapping[str, object] | None = None
) -> ScoredEvent:
    props = dict(properties or {})
    label = next((str(v) for v in props.values()), "")
    return ScoredEvent(key, event_type, T0 + at, props, label=label)


def demo(key: str, at: timedelta, video: str = "Product demo") -> ScoredEvent:
    return event(key, "video_watched", at, {"video": video})


def pricing(key: str, at: timedelta, url: str = "https://example.com/pricing") -> ScoredEvent:
    return event(key, "page_visited", at, {"url": url})


def noise(key: str, at: timedelta) -> ScoredEvent:
    return event(key, "email_opened", at, {"email": "newsletter"})


def run(events: Iterable[ScoredEvent], state: LeadScoreState | None = None) -> list[Applied]:
    state = state or LeadScoreState.empty()
    results = []
    for item in events:
        applied = apply_event(state, item, RULES)
        results.append(applied)
        state = applied.state
    return results


def fired(results: list[Applied]) -> list[str | None]:
    return [r.qualification.trigger if r.qualification else None for r in results]


def test_two_step_trigger_qualifies_at_once_whatever_the_score() -> None:
    results = run([demo("d", 0 * HOUR), pricing("p", 2 * HOUR)])

    assert fired(results) == [None, "demo then pricing"]
    reason = results[-1].qualification
    assert reason is not None
    assert reason.kind == "trigger"
    assert reason.score == 12  # far below the threshold
    assert reason.event_keys == ("d", "p")
    assert reason.summary_en() == (
        "trigger: demo then pricing "
        "(video_watched (Product demo) → page_visited (https://example.com/pricing))"
    )


@pytest.mark.parametrize(
    ("gap", "fires"),
    [
        (timedelta(hours=72), True),  # the window is inclusive
        (timedelta(hours=72, seconds=1), False),
        (timedelta(microseconds=1), True),
        (timedelta(0), False),  # "then" means strictly later
    ],
)
def test_window_and_order_boundaries(gap: timedelta, fires: bool) -> None:
    results = run([demo("d", HOUR), pricing("p", HOUR + gap)])

    assert (results[-1].qualification is not None) is fires


def test_wrong_order_does_not_fire() -> None:
    results = run([pricing("p", 0 * HOUR), demo("d", HOUR)])

    assert fired(results) == [None, None]


@pytest.mark.parametrize(
    ("video", "url", "fires"),
    [
        ("DEMO day", "https://x.example/PRICING?plan=pro", True),  # case-insensitive search
        ("webinar replay", "https://example.com/pricing", False),
        ("Product demo", "https://example.com/blog", False),
    ],
)
def test_property_patterns(video: str, url: str, fires: bool) -> None:
    results = run([demo("d", 0 * HOUR, video), pricing("p", HOUR, url)])

    assert (results[-1].qualification is not None) is fires


def test_missing_property_does_not_match() -> None:
    results = run([event("d", "video_watched", 0 * HOUR), pricing("p", HOUR)])

    assert fired(results) == [None, None]


def test_non_string_property_is_matched_as_text() -> None:
    rules = ScoringRules(
        points={},
        threshold=100,
        triggers=(
            TriggerRule("big form", (TriggerStep("form_submitted", {"seats": "^5\\d$"}),), HOUR),
        ),
    )
    applied = apply_event(
        LeadScoreState.empty(), ScoredEvent("f", "form_submitted", T0, {"seats": 50}), rules
    )

    assert applied.qualification is not None
    assert applied.qualification.summary_en() == "trigger: big form (form_submitted)"


def test_interleaved_noise_does_not_break_the_sequence() -> None:
    results = run(
        [
            noise("n1", 0 * HOUR),
            demo("d", HOUR),
            noise("n2", 2 * HOUR),
            pricing("blog", 3 * HOUR, "https://example.com/blog"),
            noise("n3", 4 * HOUR),
            pricing("p", 5 * HOUR),
        ]
    )

    assert fired(results) == [None, None, None, None, None, "demo then pricing"]


def test_three_step_trigger() -> None:
    results = run(
        [
            event("w", "event_attended", 0 * HOUR, {"event": "MA seminar"}),
            event("g", "content_downloaded", 24 * HOUR, {"asset": "MA Guide"}),
            noise("n", 30 * HOUR),
            event("f", "form_submitted", 48 * HOUR, {"form": "contact"}),
        ]
    )

    assert fired(results) == [None, None, None, "webinar, guide, contact"]
    reason = results[-1].qualification
    assert reason is not None
    assert reason.event_keys == ("w", "g", "f")
    assert reason.event_types == ("event_attended", "content_downloaded", "form_submitted")


def test_three_step_trigger_needs_every_step_in_order() -> None:
    results = run(
        [
            event("g", "content_downloaded", 0 * HOUR, {"asset": "guide"}),
            event("w", "event_attended", HOUR, {"event": "seminar"}),
            event("f", "form_submitted", 2 * HOUR, {"form": "contact"}),
        ]
    )

    assert fired(results) == [None, None, None]


def test_three_step_trigger_outside_its_window() -> None:
    results = run(
        [
            event("w", "event_attended", 0 * HOUR, {"event": "seminar"}),
            event("g", "content_downloaded", 24 * HOUR, {"asset": "guide"}),
            event("f", "form_submitted", 15 * 24 * HOUR, {"form": "contact"}),
        ]
    )

    assert fired(results) == [None, None, None]


def test_late_first_step_completes_the_sequence() -> None:
    results = run([pricing("p", 5 * HOUR), noise("n", 6 * HOUR), demo("d", HOUR)])

    assert fired(results) == [None, None, "demo then pricing"]
    assert results[-1].qualification is not None
    assert results[-1].qualification.event_keys == ("d", "p")


def test_late_middle_step_completes_a_three_step_sequence() -> None:
    results = run(
        [
            event("w", "event_attended", 0 * HOUR, {"event": "seminar"}),
            event("f", "form_submitted", 48 * HOUR, {"form": "contact"}),
            event("g", "content_downloaded", 24 * HOUR, {"asset": "guide"}),
        ]
    )

    assert fired(results)[-1] == "webinar, guide, contact"


def test_a_completed_trigger_does_not_fire_again_within_its_window() -> None:
    results = run([demo("d", 0 * HOUR), pricing("p1", HOUR), pricing("p2", 2 * HOUR)])

    assert fired(results) == [None, "demo then pricing", None]


def test_fires_again_once_the_earlier_sequence_has_left_the_window() -> None:
    results = run(
        [
            demo("d1", 0 * HOUR),
            pricing("p1", HOUR),
            demo("d2", 100 * HOUR),
            pricing("p2", 101 * HOUR),
        ]
    )

    assert fired(results) == [None, "demo then pricing", None, "demo then pricing"]


def test_late_event_older_than_every_trigger_window_is_not_a_candidate() -> None:
    # The longest window is 14 days (336 h): both steps are older than that on arrival.
    results = run([noise("n", 400 * HOUR), pricing("p", 50 * HOUR), demo("d", 49 * HOUR)])

    assert fired(results) == [None, None, None]


def test_reset_score_forgets_trigger_steps_before_it() -> None:
    first = run([demo("d", 0 * HOUR)])[-1].state
    returned = reset_score(first, T0 + HOUR)

    assert fired(run([pricing("p", 2 * HOUR)], returned)) == [None]
    assert fired(run([demo("d2", 2 * HOUR), pricing("p", 3 * HOUR)], returned)) == [
        None,
        "demo then pricing",
    ]


def test_trigger_state_survives_a_json_round_trip() -> None:
    state = run([demo("d", 0 * HOUR), noise("n", HOUR)])[-1].state
    restored = LeadScoreState.from_json(state.to_json())

    assert fired(run([pricing("p", 2 * HOUR)], restored)) == ["demo then pricing"]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (
            TriggerRule("bad", (TriggerStep("page_visited", {"url": "(unclosed"}),), HOUR),
            "trigger 1 \\('bad'\\) step 1 property 'url': bad regular expression",
        ),
        (TriggerRule("empty", (), HOUR), "needs at least one step"),
        (TriggerRule("", (TriggerStep("x"),), HOUR), "trigger 1 needs a name"),
        (TriggerRule("t", (TriggerStep("x"),), timedelta(0)), "within must be positive"),
    ],
)
def test_bad_trigger_rules_are_refused_with_a_clear_reason(
    trigger: TriggerRule, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ScoringRules(points={}, threshold=100, triggers=(trigger,))


def test_two_triggers_with_one_name_are_refused() -> None:
    with pytest.raises(ValueError, match="two triggers are named 'demo then pricing'"):
        ScoringRules(points={}, threshold=100, triggers=(DEMO_THEN_PRICING, DEMO_THEN_PRICING))
