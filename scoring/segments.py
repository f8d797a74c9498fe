"""Activity segments: compact summaries of runs of activity with no inactivity gap inside them.

A lead's events split into segments wherever two consecutive activities are at least
`inactivity_reset` apart; only the last segment carries the current score, but an out-of-order
event can bridge two segments, so the engine keeps the recent ones.

Within a segment the score is built from an optional absolute score (the "shield": the latest
absolute score by (time, key); everything before it no longer counts) plus the points of the
events at or after it. Points stay as individual (time, points) items because a late absolute
score can land anywhere and must keep exactly the points after it; items older than the
retention horizon are folded into one, since nothing can land before them any more.
All values are raw (unclamped) so that the order of arrival never matters.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import NamedTuple

Item = tuple[int, float]  # (occurred µs, points)


class Segment(NamedTuple):
    """One run of activity (a NamedTuple: cheap to build on the hot path)."""

    start: int  # first activity, µs
    end: int  # last activity, µs
    value: float  # raw score as of `end` from everything that counts in this segment
    shield_at: int | None  # time of the governing absolute score, if any
    shield_key: str  # its event key: the tie-break between absolute scores at one instant
    abs_score: float  # the governing absolute score (0.0 without one)
    items: tuple[Item, ...]  # points at or after the shield, by time; zero points left out


def decay(delta_us: int, half_life_us: int | None) -> float:
    """The factor a score is multiplied by after `delta_us` of quiet."""
    if half_life_us is None or delta_us <= 0:
        return 1.0
    factor: float = 2.0 ** (-delta_us / half_life_us)
    return factor


def single(at: int, key: str, absolute: bool, figure: float) -> Segment:
    """The segment of one event: an absolute score, or points (zero points keep no item)."""
    if absolute:
        return Segment(at, at, figure, at, key, figure, ())
    return Segment(at, at, figure, None, "", 0.0, ((at, figure),) if figure else ())


def recompute(seg: Segment, half_life_us: int | None) -> Segment:
    """The segment with its value recomputed from its absolute score and items."""
    end = seg.end
    value = 0.0
    if seg.shield_at is not None:
        value = seg.abs_score * decay(end - seg.shield_at, half_life_us)
    for at, points in seg.items:
        value += points * decay(end - at, half_life_us)
    return seg._replace(value=value)


def compose(first: Segment, second: Segment, half_life_us: int | None) -> Segment:
    """One segment from two, `first` entirely before `second` in time."""
    if second.shield_at is not None:
        # An absolute score in the later part hides everything before it.
        return second._replace(start=first.start)
    carried = first.value
    if half_life_us is not None:
        carried *= decay(second.end - first.end, half_life_us)
    return Segment(
        first.start,
        second.end,
        carried + second.value,
        first.shield_at,
        first.shield_key,
        first.abs_score,
        first.items + second.items if second.items else first.items,
    )


def insert_inside(
    seg: Segment, at: int, key: str, absolute: bool, figure: float, half_life_us: int | None
) -> Segment:
    """Add an event whose time lies within the segment's span (start <= at <= end)."""
    shield_at = seg.shield_at
    if absolute:
        if shield_at is not None and (at, key) < (shield_at, seg.shield_key):
            return seg  # superseded by a later absolute score
        kept = seg.items[bisect_left(seg.items, (at,)) :]
        return recompute(
            seg._replace(shield_at=at, shield_key=key, abs_score=figure, items=kept), half_life_us
        )
    if (shield_at is not None and at < shield_at) or not figure:
        return seg  # before the absolute score that replaced it, or worth nothing
    items = list(seg.items)
    insort(items, (at, figure))
    return seg._replace(
        value=seg.value + figure * decay(seg.end - at, half_life_us), items=tuple(items)
    )


def fold(seg: Segment, horizon_us: int, half_life_us: int | None) -> Segment:
    """Fold the items older than the horizon into one: no late event can land between them."""
    items = seg.items
    cut = bisect_left(items, (horizon_us,))
    if cut < 2:
        return seg
    last_at = items[cut - 1][0]
    folded = sum(points * decay(last_at - at, half_life_us) for at, points in items[:cut])
    return seg._replace(items=((last_at, folded), *items[cut:]))


def cut_before(seg: Segment, at: int, half_life_us: int | None) -> Segment:
    """The segment with everything before `at` no longer counting (a reset at `at`).

    Acts as an absolute score of 0 at `at` that loses the tie against a real absolute score at
    the same instant; activity before `at` is forgotten too, so the segment starts at `at`.
    """
    if seg.start >= at:
        return seg
    if seg.shield_at is not None and seg.shield_at >= at:
        return seg._replace(start=at)
    kept = seg.items[bisect_left(seg.items, (at,)) :]
    return recompute(
        Segment(at, seg.end, 0.0, at, "", 0.0, kept),
        half_life_us,
    )
