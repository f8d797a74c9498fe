"""The scoring engine: points, inactivity reset, decay, external scores, order, retention, reasons."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from scoring.engine import Applied, LeadScoreState, ScoredEvent, apply_event, reset_score, score_at
from scoring.rules import ScoringRules

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
POINTS = {
    "email_opened": 5,
    "page_visited": 2,
    "content_downloaded": 30,
    "form_submitted": 40,
    "event_attended": 50,
    "unsubscribed": -50,
    "careers_visited": -20,
    "score_changed": 0,
}
RULES = ScoringRules(points=POINTS, threshold=100)


def event(
    key: str,
    event_type: str = "content_downloaded",
    at: timedelta = timedelta(0),
    *,
    score: float | None = None,
    delta: float | None = None,
    label: str = "",
) -> ScoredEvent:
    return ScoredEvent(
        key=key,
        type=event_type,
        occurred_at=T0 + at,
        score=score,
        score_delta=delta,
        label=label,
    )


def run(
    events: Iterable[ScoredEvent],
    rules: ScoringRules = RULES,
    state: LeadScoreState | None = None,
) -> list[Applied]:
    state = state or LeadScoreState.empty()
    results = []
    for item in events:
        applied = apply_event(state, item, rules)
        results.append(applied)
        state = applied.state
    return results


def final(events: Iterable[ScoredEvent], rules: ScoringRules = RULES) -> LeadScoreState:
    return run(events, rules)[-1].state


DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        (["email_opened"], 5),
        (["content_downloaded", "form_submitted"], 70),
        (["event_attended", "careers_visited"], 30),
        (["form_submitted", "unsubscribed"], 0),  # raw -10, read as 0
        (["webinar_registered"], 0),  # unknown type: 0 points
        (["score_changed"], 0),
    ],
)
def test_points_per_type_add_up(types: list[str], expected: float) -> None:
    state = final(event(f"e{n}", t, n * SECOND) for n, t in enumerate(types))

    assert state.score == expected


def test_negative_raw_score_is_read_as_zero_but_still_counts() -> None:
    results = run(
        [
            event("a", "unsubscribed"),  # raw -50
            event("b", "content_downloaded", SECOND),  # raw -20
            event("c", "form_submitted", 2 * SECOND),  # raw 20
        ]
    )

    assert [r.score_after for r in results] == [0, 0, 20]
    assert [r.points for r in results] == [-50, 30, 40]
    assert results[-1].state.raw_score == 20
    assert score_at(results[-1].state, RULES, T0 + DAY) == 20


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        (timedelta(days=30) - SECOND, 60),  # still active: the points add up
        (timedelta(days=30), 30),  # exactly the reset period: reset before the new event
        (timedelta(days=30) + SECOND, 30),
    ],
)
def test_inactivity_reset_boundary_between_events(gap: timedelta, expected: float) -> None:
    results = run([event("a"), event("b", at=gap)])

    assert results[-1].score_after == expected
    assert results[-1].score_before == expected - 30


@pytest.mark.parametrize(
    ("quiet", "expected"),
    [
        (timedelta(days=30) - SECOND, 30),
        (timedelta(days=30), 0),
        (timedelta(days=30) + SECOND, 0),
    ],
)
def test_score_at_resets_after_the_quiet_period(quiet: timedelta, expected: float) -> None:
    state = final([event("a")])

    assert score_at(state, RULES, T0 + quiet) == expected


def test_reset_boundary_is_exact_to_the_microsecond() -> None:
    rules = ScoringRules(points=POINTS, threshold=100, inactivity_reset=timedelta(days=30))
    tick = timedelta(microseconds=1)
    start = event("a", at=tick)  # fractional instants must not round across the boundary

    just_before = final([start, event("b", at=tick + timedelta(days=30) - tick)], rules)
    exactly = final([start, event("b", at=tick + timedelta(days=30))], rules)

    assert (just_before.score, exactly.score) == (60, 30)


def test_no_inactivity_reset_when_disabled() -> None:
    rules = ScoringRules(points=POINTS, threshold=100, inactivity_reset=None)
    state = final([event("a"), event("b", at=timedelta(days=300))], rules)

    assert state.score == 60
    assert score_at(state, rules, T0 + timedelta(days=999)) == 60


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        (timedelta(0), 80),
        (timedelta(days=7), 40),
        (timedelta(days=14), 20),
        (timedelta(days=21), 10),
    ],
)
def test_decay_halves_the_score_every_half_life(later: timedelta, expected: float) -> None:
    rules = ScoringRules(
        points={"big": 80}, threshold=100, inactivity_reset=None, decay_half_life=timedelta(days=7)
    )
    state = final([event("a", "big")], rules)

    assert score_at(state, rules, T0 + later) == pytest.approx(expected)


def test_decay_then_new_points_add_to_the_decayed_score() -> None:
    rules = ScoringRules(
        points={"big": 80, "small": 10},
        threshold=100,
        inactivity_reset=None,
        decay_half_life=timedelta(days=7),
    )
    results = run([event("a", "big"), event("b", "small", timedelta(days=7))], rules)

    assert results[-1].score_before == pytest.approx(40)
    assert results[-1].score_after == pytest.approx(50)


def test_decay_and_reset_combine() -> None:
    rules = ScoringRules(
        points={"big": 80},
        threshold=100,
        inactivity_reset=timedelta(days=30),
        decay_half_life=timedelta(days=7),
    )
    state = final([event("a", "big")], rules)

    assert score_at(state, rules, T0 + timedelta(days=28)) == pytest.approx(5)
    assert score_at(state, rules, T0 + timedelta(days=30)) == 0


def test_changing_the_half_life_recomputes_the_stored_score() -> None:
    slow = ScoringRules(points={"big": 80}, threshold=100, decay_half_life=timedelta(days=7))
    fast = ScoringRules(points={"big": 80}, threshold=100, decay_half_life=timedelta(days=1))
    state = final([event("a", "big"), event("b", "big", DAY)], slow)

    assert score_at(state, fast, T0 + DAY) == pytest.approx(80 + 40)


def test_absolute_score_sets_the_score_as_of_its_time() -> None:
    results = run(
        [
            event("a", "form_submitted"),
            event("b", "score_changed", SECOND, score=72),
            event("c", "email_opened", 2 * SECOND),
        ]
    )

    assert [r.score_after for r in results] == [40, 72, 77]
    assert results[1].points == 32  # the change it made


def test_events_before_an_absolute_score_no_longer_add() -> None:
    results = run(
        [
            event("abs", "score_changed", 10 * SECOND, score=72),
            event("late", "form_submitted", 5 * SECOND),  # arrives after, happened before
        ]
    )

    assert results[-1].score_after == 72
    assert results[-1].points == 0
    assert results[-1].ignored is False  # still activity, just superseded


def test_late_absolute_score_keeps_only_the_points_after_it() -> None:
    results = run(
        [
            event("a", "form_submitted", 1 * SECOND),
            event("b", "content_downloaded", 3 * SECOND),
            event("abs", "score_changed", 2 * SECOND, score=10),
        ]
    )

    assert results[-1].score_after == 40  # 10, then content_downloaded's 30


def test_score_delta_adds_the_senders_figure() -> None:
    state = final([event("a", "email_opened"), event("b", "score_changed", SECOND, delta=-3.5)])

    assert state.score == 1.5


def test_points_at_the_same_instant_as_an_absolute_score_count_after_it() -> None:
    same = [event("p", "email_opened", SECOND), event("abs", "score_changed", SECOND, score=50)]

    assert final(same).score == 55
    assert final(reversed(same)).score == 55


def test_of_two_absolute_scores_at_one_instant_the_greater_key_wins() -> None:
    pair = [
        event("mautic-1", "score_changed", SECOND, score=20),
        event("mautic-2", "score_changed", SECOND, score=90),
    ]

    assert final(pair).score == 90
    assert final(reversed(pair)).score == 90


def test_out_of_order_event_bridging_two_quiet_periods_joins_them() -> None:
    # Day 0 and day 50 are 50 days apart (reset); day 25 arriving late closes the gap.
    results = run(
        [
            event("a", "email_opened"),
            event("b", "content_downloaded", 50 * DAY),
            event("c", "form_submitted", 25 * DAY),
        ]
    )

    assert [r.score_after for r in results] == [5, 30, 75]
    assert results[-1].points == 45


def test_out_of_order_event_in_an_old_quiet_period_changes_nothing_now() -> None:
    results = run(
        [
            event("a", "email_opened"),
            event("b", "content_downloaded", 50 * DAY),
            event("c", "form_submitted", 10 * DAY),  # 40 days before b: still a reset
        ]
    )

    assert results[-1].score_after == 30
    assert results[-1].points == 0


def test_out_of_order_event_before_the_first_one_extends_the_run() -> None:
    results = run([event("a", at=10 * DAY), event("b", "email_opened", 0 * DAY)])

    assert results[-1].score_after == 35


def test_event_older_than_retention_is_ignored() -> None:
    rules = ScoringRules(points=POINTS, threshold=100, retention=timedelta(days=60))
    results = run([event("a", at=100 * DAY), event("b", at=39 * DAY)], rules)

    assert results[-1].ignored is True
    assert results[-1].state is results[0].state
    assert results[-1].score_after == 30


def test_event_exactly_at_retention_still_counts() -> None:
    rules = ScoringRules(
        points=POINTS, threshold=100, retention=timedelta(days=60), inactivity_reset=None
    )
    results = run([event("a", at=100 * DAY), event("b", at=40 * DAY)], rules)

    assert (results[-1].ignored, results[-1].score_after) == (False, 60)


def test_duplicate_key_changes_nothing() -> None:
    first = run([event("a"), event("b", at=SECOND)])[-1]
    again = apply_event(first.state, event("a"), RULES)

    assert (again.ignored, again.duplicate, again.score_after) == (True, True, 60)
    assert again.state is first.state


def test_a_state_stays_a_value_when_applied_twice() -> None:
    base = final([event("a")])
    left = apply_event(base, event("b", at=SECOND), RULES)
    right = apply_event(base, event("b", at=SECOND), RULES)  # same key on the same old state

    assert (left.duplicate, right.duplicate) == (False, False)
    assert left.score_after == right.score_after == 60
    assert base.knows_key("b") is False
    assert apply_event(left.state, event("b", at=SECOND), RULES).duplicate is True


def test_reset_score_forgets_earlier_events() -> None:
    state = final([event("a"), event("b", "form_submitted", DAY)])
    returned = reset_score(state, T0 + 2 * DAY)

    assert returned.score == 0
    assert score_at(returned, RULES, T0 + 2 * DAY) == 0
    late = apply_event(returned, event("c", "event_attended", DAY + SECOND), RULES)
    assert (late.ignored, late.score_after) == (True, 0)
    fresh = apply_event(returned, event("d", "email_opened", 3 * DAY), RULES)
    assert fresh.score_after == 5


def test_reset_score_keeps_events_at_or_after_the_reset() -> None:
    state = final(
        [
            event("a", "form_submitted"),
            event("b", "content_downloaded", 2 * DAY),
            event("c", "email_opened", 3 * DAY),
        ]
    )
    returned = reset_score(state, T0 + 2 * DAY)

    assert returned.score == 35
    assert apply_event(returned, event("d", "email_opened", DAY), RULES).ignored is True


def test_last_activity_is_the_latest_occurred_at_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    state = final(
        [
            ScoredEvent("a", "email_opened", datetime(2026, 11, 24, 10, 15, tzinfo=tokyo)),
            ScoredEvent("b", "email_opened", datetime(2026, 11, 20, 10, 15, tzinfo=tokyo)),
        ]
    )

    assert state.last_activity_at == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
    assert LeadScoreState.empty().last_activity_at is None


def test_threshold_crossing_qualifies_with_its_reason() -> None:
    results = run(
        [
            event("a", "event_attended"),
            event("b", "form_submitted", SECOND),
            event("c", "content_downloaded", 2 * SECOND, label="MA guide"),
            event("d", "email_opened", 3 * SECOND),
        ]
    )

    assert [r.qualification is not None for r in results] == [False, False, True, False]
    reason = results[2].qualification
    assert reason is not None
    assert reason.summary_en() == "score 120 ≥ 100 after content_downloaded (MA guide)"
    assert (reason.kind, reason.event_keys, reason.trigger) == ("threshold", ("c",), None)


def test_exactly_the_threshold_qualifies() -> None:
    results = run([event("a", "event_attended"), event("b", "event_attended", SECOND)])

    assert results[-1].qualification is not None
    assert results[-1].qualification.summary_en() == "score 100 ≥ 100 after event_attended"


def test_requalifies_after_an_inactivity_reset() -> None:
    results = run(
        [
            event("a", "event_attended"),
            event("b", "event_attended", SECOND),
            event("c", "event_attended", 40 * DAY),
            event("d", "event_attended", 40 * DAY + SECOND),
        ]
    )

    assert [r.qualification is not None for r in results] == [False, True, False, True]


def test_external_score_crossing_is_an_external_qualification() -> None:
    results = run([event("a", "score_changed", score=105.5)])

    reason = results[0].qualification
    assert reason is not None
    assert reason.kind == "external"
    assert reason.summary_en() == "external score 105.5 ≥ 100 after score_changed"


def test_late_event_that_lifts_the_current_score_qualifies() -> None:
    results = run(
        [
            event("a", "event_attended"),
            event("b", "form_submitted", 2 * DAY),
            event("c", "content_downloaded", DAY, label="MA guide"),  # late, same run
        ]
    )

    assert results[-1].score_after == 120
    assert results[-1].qualification is not None


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: ScoredEvent("a", "email_opened", datetime(2026, 1, 1)),
            "tz-aware",
        ),
        (lambda: ScoredEvent("", "email_opened", T0), "key must not be empty"),
        (lambda: ScoredEvent("a", "", T0), "type must not be empty"),
        (lambda: ScoredEvent("a", "x", T0, score=1, score_delta=2), "not both"),
        (lambda: ScoredEvent("a", "x", T0, score=float("nan")), "score must be a finite"),
    ],
)
def test_bad_events_are_refused_with_a_clear_reason(build: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()  # type: ignore[operator]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threshold": 0}, "threshold must be positive"),
        ({"threshold": 100, "points": {"x": float("inf")}}, "points for 'x' must be finite"),
        ({"threshold": 100, "inactivity_reset": timedelta(0)}, "inactivity_reset must be positive"),
        ({"threshold": 100, "retention": timedelta(days=-1)}, "retention must be positive"),
    ],
)
def test_bad_rules_are_refused_with_a_clear_reason(kwargs: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"points": POINTS, **kwargs}
    with pytest.raises(ValueError, match=message):
        ScoringRules(**arguments)  # type: ignore[arg-type]


def test_long_active_run_stays_bounded_and_exact_for_late_absolute_scores() -> None:
    # One event a day for 200 days never goes quiet; with 30 days of retention, the items older
    # than that are folded, and a late absolute score inside retention still keeps exactly the
    # points after it.
    rules = ScoringRules(points=POINTS, threshold=10_000, retention=timedelta(days=30))
    days = [event(f"d{n}", "email_opened", n * DAY) for n in range(200)]
    state = final(days, rules)

    assert state.score == 1000
    assert len(state.to_json()["segments"][0][6]) < 100
    late = apply_event(state, event("abs", "score_changed", 189 * DAY + SECOND, score=7), rules)
    assert late.score_after == 7 + 10 * 5  # days 190..199
