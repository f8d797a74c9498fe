"""Activity segments: compact summaries of runs of activity with no inactivity gap inside them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple, Union

# (occurred µs, points, earlier arrivals) — None is the empty list. The tail may be a packed
# flat list [time, points, time, points, ...] (newest arrival first, never mutated): a state read
# from JSON keeps its items that way, so decoding builds no node per item.
Packed = list[int | float]
Chain = Union[tuple[int, float, "Chain"], Packed, None]  # noqa: UP007 (a recursive alias needs Union)
FOLD_EVERY = 64  # the smallest item count at which folding old items is tried


class Segment(NamedTuple):
    """One run of activity (a NamedTuple: cheap to build on the hot path).

    A lead's events split into segments wherever two consecutive activities are at least
    `inactivity_reset` apart; only the last segment carries the current score, but an out-of-order
    event can bridge two segments, so the engine keeps the recent ones.

    Within a segment the score is built from an optional absolute score (the "shield": the latest
    absolute score by (time, key); everything before it no longer counts) plus the points of the
    events at or after it. Points stay as individual (time, points) items because a late absolute
    score can land anywhere and must keep exactly the points after it; items older than the
    retention horizon are folded into one now and then, since nothing can land between them.
    All values are raw (unclamped) so that the order of arrival never matters.

    Items form a persistent linked list in arrival order, newest arrival first: adding any event,
    late or not, is O(1) and shares the rest (where copying a tuple would touch every item on
    every event). Nothing needs them in time order: every use filters or sums them.
    """

    start: int  # first activity, µs
    end: int  # last activity, µs
    value: float  # raw score as of `end` from everything that counts in this segment
    shield_at: int | None  # time of the governing absolute score, if any
    shield_key: str  # its event key: the tie-break between absolute scores at one instant
    abs_score: float  # the governing absolute score (0.0 without one)
    items: Chain  # points at or after the shield, newest arrival first; zero points left out
    size: int  # number of items
    fold_due: int  # try folding when `size` reaches this (doubling keeps the tries amortised O(1))


_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (hot path)


def due_after(size: int) -> int:
    """The item count at which to try folding next, after a try left `size` items."""
    return max(FOLD_EVERY, 2 * size)


def decay(delta_us: int, half_life_us: int | None) -> float:
    """The factor a score is multiplied by after `delta_us` of quiet."""
    if half_life_us is None or delta_us <= 0:
        return 1.0
    factor: float = 2.0 ** (-delta_us / half_life_us)
    return factor


def newest_first(items: Chain) -> Iterator[tuple[int, float]]:
    """The items as (time, points), newest arrival first."""
    while items is not None:
        if isinstance(items, list):
            yield from zip(items[0::2], items[1::2], strict=True)
            return
        at, points, items = items
        yield at, points


def chain_of(oldest_first: list[tuple[int, float]], tail: Chain = None) -> Chain:
    """A chain holding these items (given oldest arrival first) on top of `tail`."""
    for at, points in oldest_first:
        tail = (at, points, tail)
    return tail


def single(at: int, key: str, absolute: bool, figure: float) -> Segment:
    """The segment of one event: an absolute score, or points (zero points keep no item)."""
    if absolute:
        return _new(Segment, (at, at, figure, at, key, figure, None, 0, FOLD_EVERY))
    if figure:
        return _new(Segment, (at, at, figure, None, "", 0.0, (at, figure, None), 1, FOLD_EVERY))
    return _new(Segment, (at, at, 0.0, None, "", 0.0, None, 0, FOLD_EVERY))


def recompute(seg: Segment, half_life_us: int | None) -> Segment:
    """The segment with its value recomputed from its absolute score and items."""
    end = seg.end
    value = 0.0
    if seg.shield_at is not None:
        value = seg.abs_score * decay(end - seg.shield_at, half_life_us)
    for at, points in newest_first(seg.items):
        value += points * decay(end - at, half_life_us)
    return Segment(seg.start, end, value, *seg[3:])


def compose(first: Segment, second: Segment, half_life_us: int | None) -> Segment:
    """One segment from two, `first` entirely before `second` in time."""
    if second.shield_at is not None:
        # An absolute score in the later part hides everything before it.
        return Segment(first.start, *second[1:])
    carried = first.value
    if half_life_us is not None:
        carried *= decay(second.end - first.end, half_life_us)
    items = first.items
    if second.items is not None:
        items = chain_of(list(newest_first(second.items))[::-1], items)
    return Segment(
        first.start,
        second.end,
        carried + second.value,
        first.shield_at,
        first.shield_key,
        first.abs_score,
        items,
        first.size + second.size,
        max(first.fold_due, second.fold_due),
    )


def insert_inside(
    seg: Segment, at: int, key: str, absolute: bool, figure: float, half_life_us: int | None
) -> Segment:
    """Add an event whose time lies within the segment's span (start <= at <= end)."""
    shield_at = seg.shield_at
    if absolute:
        if shield_at is not None and (at, key) < (shield_at, seg.shield_key):
            return seg  # superseded by a later absolute score
        kept = [item for item in newest_first(seg.items) if item[0] >= at]
        kept.reverse()
        rebuilt = Segment(
            seg.start,
            seg.end,
            0.0,
            at,
            key,
            figure,
            chain_of(kept),
            len(kept),
            due_after(len(kept)),
        )
        return recompute(rebuilt, half_life_us)
    if (shield_at is not None and at < shield_at) or not figure:
        return seg  # before the absolute score that replaced it, or worth nothing
    value = seg.value + figure * decay(seg.end - at, half_life_us)
    return _new(
        Segment,
        (
            seg.start,
            seg.end,
            value,
            shield_at,
            seg.shield_key,
            seg.abs_score,
            (at, figure, seg.items),
            seg.size + 1,
            seg.fold_due,
        ),
    )


def fold(seg: Segment, horizon_us: int, half_life_us: int | None) -> Segment:
    """Fold the items older than the horizon into one: no late event can land between them."""
    newer: list[tuple[int, float]] = []
    old: list[tuple[int, float]] = []
    for item in newest_first(seg.items):
        (newer if item[0] >= horizon_us else old).append(item)
    if len(old) < 2:
        return Segment(*seg[:8], due_after(seg.size))  # fewer than two old items: nothing to fold
    last_at = max(at for at, _ in old)
    folded = sum(points * decay(last_at - at, half_life_us) for at, points in old)
    newer.reverse()
    items = chain_of(newer, (last_at, folded, None))
    return Segment(*seg[:6], items, len(newer) + 1, due_after(len(newer) + 1))


def cut_before(seg: Segment, at: int, half_life_us: int | None) -> Segment:
    """The segment with everything before `at` no longer counting (a reset at `at`).

    Acts as an absolute score of 0 at `at` that loses the tie against a real absolute score at
    the same instant; activity before `at` is forgotten too, so the segment starts at `at`.
    """
    if seg.start >= at:
        return seg
    if seg.shield_at is not None and seg.shield_at >= at:
        return Segment(at, *seg[1:])
    kept = [item for item in newest_first(seg.items) if item[0] >= at]
    kept.reverse()
    rebuilt = Segment(
        at, seg.end, 0.0, at, "", 0.0, chain_of(kept), len(kept), due_after(len(kept))
    )
    return recompute(rebuilt, half_life_us)
