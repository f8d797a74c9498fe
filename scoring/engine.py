"""The scoring engine: apply one event to a lead's stored state and say whether it qualified."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from math import floor as _floor
from typing import Any, NamedTuple

from scoring import segments as seg_ops
from scoring.instants import to_us
from scoring.keymemory import MAX_KEYS, SHARED_MAX, TIP, remember
from scoring.qualification import Qualification
from scoring.rules import NO_TYPE_RULES, ScoringRules
from scoring.segments import FOLD_EVERY, Segment
from scoring.state import LeadScoreState
from scoring.triggers import Candidate, add_candidate, forget_before, match_steps

__all__ = [
    "Applied",
    "LeadScoreState",
    "ScoredEvent",
    "apply_event",
    "reset_score",
    "score_at",
]


@dataclass(frozen=True, slots=True)
class ScoredEvent:
    """One lead event as the engine sees it.

    `score` (absolute) and `score_delta` are the sending tool's own figures; at most one may be
    given. `label` is a short human label ("MA guide") used in the qualification reasons.
    """

    key: str
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any] = field(default_factory=dict)
    score: float | None = None
    score_delta: float | None = None
    label: str = ""
    # occurred_at as µs since the epoch, computed once when the event is built (the hot path
    # reads it per apply; exact: the UTC offset is whole seconds, see instants.to_us).
    at_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("scored event: key must not be empty")
        if not self.type:
            raise ValueError(f"scored event {self.key!r}: type must not be empty")
        at = self.occurred_at
        offset = at.utcoffset() if isinstance(at, datetime) else None
        if offset is None:
            raise ValueError(f"scored event {self.key!r}: occurred_at must be a tz-aware datetime")
        if offset.microseconds:
            raise ValueError(
                f"scored event {self.key!r}: occurred_at's UTC offset has a fraction of a second"
            )
        object.__setattr__(self, "at_us", _floor(at.timestamp()) * 1_000_000 + at.microsecond)
        if self.score is not None and self.score_delta is not None:
            raise ValueError(f"scored event {self.key!r}: give score or score_delta, not both")
        for name in ("score", "score_delta"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ValueError(f"scored event {self.key!r}: {name} must be a finite number")


class Applied(NamedTuple):
    """The outcome of applying one event (a NamedTuple: one is built per event, cheaply).

    - `points`: the change this event made to the raw score, both taken at the later of the
      event's time and the lead's previous latest activity (so 0 for a superseded event, and the
      absolute score minus the score it replaced for an absolute score).
    - `score_before` / `score_after`: the clamped scores at that same instant.
    - `qualification`: set when a trigger completed or the score crossed the threshold; the
      caller decides whether the lead may become an MQL (open MQL, disqualified, ...).
    - `ignored`: nothing changed: the event is a duplicate, older than retention, or before a
      reset (`duplicate` tells the first case apart).
    """

    state: LeadScoreState
    points: float
    score_before: float
    score_after: float
    qualification: Qualification | None
    ignored: bool
    duplicate: bool = False


def _raw_at(segments: tuple[Segment, ...], rules: ScoringRules, now_us: int) -> float:
    if not segments:
        return 0.0
    last = segments[-1]
    gap = now_us - last.end
    if gap <= 0:
        return last.value
    reset = rules.reset_us
    if reset is not None and gap >= reset:
        return 0.0
    half = rules.half_life_us
    if half is None:
        return last.value
    return last.value * seg_ops.decay(gap, half)


def _with_half_life(state: LeadScoreState, half_life_us: int | None) -> LeadScoreState:
    """The state with its values recomputed for another decay half-life (rules changed)."""
    if state.half_life_us == half_life_us:
        return state
    segments = tuple(seg_ops.recompute(s, half_life_us) for s in state.segments)
    return state._replace(segments=segments, half_life_us=half_life_us)


def score_at(state: LeadScoreState, rules: ScoringRules, now: datetime) -> float:
    """The lead's score at `now`: 0 after `inactivity_reset` of quiet (inclusive), decayed if
    decay is configured, never below 0. A `now` before the latest activity reads the score as of
    the latest activity."""
    state = _with_half_life(state, rules.half_life_us)
    return max(0.0, _raw_at(state.segments, rules, to_us(now)))


def reset_score(state: LeadScoreState, at: datetime) -> LeadScoreState:
    """The state of a returning (e.g. recycled) lead: events before `at` no longer count.

    Points and activity before `at` are forgotten (so the inactivity clock starts at `at` at the
    earliest), events at or after `at` keep counting, later-arriving events older than `at` are
    ignored, and trigger candidates before `at` are dropped. Remembered keys stay.
    """
    cut = to_us(at)
    floor = cut if state.floor_us is None else max(state.floor_us, cut)
    kept = tuple(
        seg_ops.cut_before(s, floor, state.half_life_us) for s in state.segments if s.end >= floor
    )
    return state._replace(
        segments=kept,
        triggers=forget_before(state.triggers, floor),
        floor_us=floor,
    )


def _place(
    segments: tuple[Segment, ...],
    at: int,
    key: str,
    absolute: bool,
    figure: float,
    reset: int | None,
    half: int | None,
) -> tuple[Segment, ...]:
    """The segments with one event placed by its own time (merging segments it bridges)."""
    if not segments:
        return (seg_ops.single(at, key, absolute, figure),)
    last = segments[-1]
    if at >= last.start:  # the common case: the event belongs at the end
        if at > last.end:
            piece = seg_ops.single(at, key, absolute, figure)
            if reset is None or at - last.end < reset:
                return (*segments[:-1], seg_ops.compose(last, piece, half))
            return (*segments, piece)
        return (*segments[:-1], seg_ops.insert_inside(last, at, key, absolute, figure, half))

    index = len(segments) - 1
    while index >= 0 and segments[index].start > at:
        index -= 1
    left = segments[index] if index >= 0 else None
    right = segments[index + 1]
    if left is not None and at <= left.end:
        inside = seg_ops.insert_inside(left, at, key, absolute, figure, half)
        return (*segments[:index], inside, *segments[index + 1 :])
    piece = seg_ops.single(at, key, absolute, figure)
    joins_left = left is not None and (reset is None or at - left.end < reset)
    joins_right = reset is None or right.start - at < reset
    if left is not None and joins_left and joins_right:
        merged = seg_ops.compose(seg_ops.compose(left, piece, half), right, half)
        return (*segments[:index], merged, *segments[index + 2 :])
    if left is not None and joins_left:
        return (*segments[:index], seg_ops.compose(left, piece, half), *segments[index + 1 :])
    if joins_right:
        return (*segments[: index + 1], seg_ops.compose(piece, right, half), *segments[index + 2 :])
    return (*segments[: index + 1], piece, *segments[index + 1 :])


def _prune_segments(
    segments: tuple[Segment, ...], horizon: int, reset: int | None, half: int | None
) -> tuple[Segment, ...]:
    """Forget segments no in-retention event can reach, and fold old items of the last one."""
    reach = horizon - (reset or 0)
    drop = 0
    while drop < len(segments) - 1 and segments[drop].end < reach:
        drop += 1
    if drop:
        segments = segments[drop:]
    last = segments[-1]
    if last.size >= last.fold_due:
        segments = (*segments[:-1], seg_ops.fold(last, horizon, half))
    return segments


_new = tuple.__new__


def _ignored(state: LeadScoreState, rules: ScoringRules, at: int, *, duplicate: bool) -> Applied:
    latest = state.latest_us
    ref = at if latest is None or at > latest else latest
    score = max(0.0, _raw_at(state.segments, rules, ref))
    return Applied(state, 0.0, score, score, None, True, duplicate)


def apply_event(state: LeadScoreState, event: ScoredEvent, rules: ScoringRules) -> Applied:
    """Apply one event using only the stored state (never the lead's history).

    Applying the same set of events in any arrival order gives the same score (within float
    tolerance, and within the limits below); an event whose key the state still remembers
    changes nothing. This is the hot path: the common case (an event at or after the latest
    activity) is written out inline.

    Semantics (all times are the events' own `occurred_at`, never the arrival time):
    - Events are ordered by (occurred_at, key); at one instant an absolute score comes before points.
    - Points come from the rules' table (unknown types score 0), or from the event's `score_delta`;
      an event with `score` sets the score as of its occurred_at: events before it no longer add.
    - Every event is activity. When two consecutive activities are at least `inactivity_reset`
      apart, the score is 0 just before the later one is applied: a gap of exactly the reset period
      resets, one microsecond less does not. With `decay_half_life` the score halves per half-life.
    - The score is kept raw (it can go below 0, so the order of arrival never matters) and clamped
      to 0 only when read: `score_at`, `LeadScoreState.score`, `Applied.score_before/after`.

    Limits (each keeps the state small and bounded):
    - An event older than `retention` before the lead's latest activity is ignored on arrival; so
      arrival order changes nothing only for events that lie within `retention` of one another.
    - Duplicates are recognised by key while the state remembers it (the newest MAX_KEYS keys);
      beyond that the database's unique event id is the guard.
    - Triggers see only events within the longest trigger window before the latest activity (and at
      most MAX_CANDIDATES of them); a trigger fires once per completion, not again while an earlier
      completed sequence still starts within its window before the latest activity.
    - Changing the points table affects later events only; changing the half-life recomputes.
    """
    at = event.at_us
    key = event.key
    segments, latest, keys, key_count, trigger_memory, floor, state_half = state
    by_type, reset, half, retention, max_window, threshold = rules.hot
    seq = keys.get(key)
    if seq is not None and key_count - MAX_KEYS <= seq < key_count:
        return _ignored(state, rules, at, duplicate=True)
    if (latest is not None and at < latest - retention) or (floor is not None and at < floor):
        return _ignored(state, rules, at, duplicate=False)

    if state_half != half and segments:
        segments = _with_half_life(state, half).segments
    event_type = event.type
    figure, compiled = by_type.get(event_type, NO_TYPE_RULES)
    score = event.score
    if score is not None:
        absolute = True
        figure = float(score)
    else:
        absolute = False
        delta = event.score_delta
        if delta is not None:
            figure = float(delta)

    if segments and (latest is None or at >= latest) and at > segments[-1].end:
        # In order: the event extends the last segment or, after a quiet gap, starts one.
        ref = at
        last = segments[-1]
        gap = at - last.end
        if reset is not None and gap >= reset:
            before_raw = 0.0
            segments = segments + (seg_ops.single(at, key, absolute, figure),)  # noqa: RUF005
        else:
            before_raw = last.value if half is None else last.value * 2.0 ** (-gap / half)
            start, _, _, shield_at, shield_key, abs_score, items, size, fold_due = last
            if absolute:
                grown = _new(Segment, (start, at, figure, at, key, figure, None, 0, FOLD_EVERY))
            elif figure:
                grown = _new(
                    Segment,
                    (
                        start,
                        at,
                        before_raw + figure,
                        shield_at,
                        shield_key,
                        abs_score,
                        (at, figure, items),
                        size + 1,
                        fold_due,
                    ),
                )
            else:
                grown = _new(
                    Segment,
                    (
                        start,
                        at,
                        before_raw,
                        shield_at,
                        shield_key,
                        abs_score,
                        items,
                        size,
                        fold_due,
                    ),
                )
            segments = segments[:-1] + (grown,)  # noqa: RUF005
        after_raw = segments[-1].value
    elif (
        segments
        and not absolute
        and (latest is None or latest <= segments[-1].end)
        and segments[-1].start <= at
    ):
        # Late but inside the last segment (about a quarter of the events): points land at
        # their own time; the segment's span, and so the instant scores are read at, stays.
        last = segments[-1]
        ref = at if latest is None or at > latest else latest
        before_raw = after_raw = last.value
        shield_at = last.shield_at
        if figure and (shield_at is None or at >= shield_at):
            end = last.end
            gap = end - at
            after_raw += figure if half is None or not gap else figure * 2.0 ** (-gap / half)
            grown = _new(
                Segment,
                (
                    last.start,
                    end,
                    after_raw,
                    shield_at,
                    last.shield_key,
                    last.abs_score,
                    (at, figure, last.items),
                    last.size + 1,
                    last.fold_due,
                ),
            )
            segments = segments[:-1] + (grown,)  # noqa: RUF005
    else:
        ref = at if latest is None or at > latest else latest
        before_raw = _raw_at(segments, rules, ref)
        segments = _place(segments, at, key, absolute, figure, reset, half)
        after_raw = _raw_at(segments, rules, ref)

    horizon = ref - retention
    last = segments[-1]
    if last.size >= last.fold_due or (
        len(segments) > 1 and segments[0].end < horizon - (reset or 0)
    ):
        segments = _prune_segments(segments, horizon, reset, half)

    if (
        seq is None
        and type(keys) is dict
        and keys.get(TIP) == key_count
        and len(keys) <= SHARED_MAX
    ):
        keys[key] = key_count  # the newest state of its lineage: see scoring.keymemory
        keys[TIP] = key_count + 1
    else:
        keys = remember(keys, key_count, key)

    fired: str | None = None
    chain: tuple[Candidate, ...] = ()
    if compiled is not None:
        oldest = ref - max_window
        if at >= oldest:
            steps = match_steps(compiled, event.properties)
            if steps:
                candidate = _new(Candidate, (at, key, event_type, event.label, steps))
                trigger_memory, hit = add_candidate(rules, trigger_memory, candidate, ref)
                if hit is not None:
                    fired, chain = hit

    new_state: LeadScoreState = _new(
        LeadScoreState, (segments, ref, keys, key_count + 1, trigger_memory, floor, half)
    )
    score_before = before_raw if before_raw > 0.0 else 0.0
    score_after = after_raw if after_raw > 0.0 else 0.0
    qualification: Qualification | None = None
    if fired is not None:
        qualification = Qualification(
            "trigger",
            score_after,
            threshold,
            fired,
            tuple(c.key for c in chain),
            tuple(c.type for c in chain),
            tuple(c.label for c in chain),
        )
    elif score_before < threshold <= score_after:
        external = score is not None or event.score_delta is not None
        qualification = Qualification(
            "external" if external else "threshold",
            score_after,
            threshold,
            None,
            (key,),
            (event.type,),
            (event.label,),
        )
    applied: Applied = _new(
        Applied,
        (new_state, after_raw - before_raw, score_before, score_after, qualification, False, False),
    )
    return applied
