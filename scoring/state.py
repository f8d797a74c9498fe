"""A lead's stored scoring state: small, bounded, immutable, and JSON round-trippable."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from datetime import datetime
from itertools import pairwise, repeat
from types import MappingProxyType
from typing import Any, NamedTuple

from scoring.instants import from_us
from scoring.keymemory import from_list, knows, listed
from scoring.segments import Chain, Packed, Segment, due_after
from scoring.triggers import (
    EMPTY,
    PRUNE_EVERY,
    Candidate,
    CandidateChain,
    Kind,
    Stored,
    TriggerMemory,
)

FORMAT_VERSION = 2  # 1: items and candidates as lists of small lists (read and converted)
NO_KEYS: Mapping[str, int] = MappingProxyType({})


class LeadScoreState(NamedTuple):
    """What the engine needs to score the next event of one lead, and nothing more.

    Immutable; a NamedTuple rather than a frozen dataclass because one is built per applied
    event and a frozen dataclass costs several times more to build (see bench/bench_scoring.py).

    - `segments`: the recent activity segments, oldest first (bounded by retention and reset).
    - `latest_us`: the latest activity seen, µs since the epoch.
    - `keys` + `key_count`: event keys remembered for idempotency, the newest MAX_KEYS
      arrivals (see scoring.keymemory for how states share the dict and stay values).
    - `triggers`: recent events matching trigger steps (bounded by the trigger windows) and
      the latest completion of each trigger.
    - `floor_us`: events before it no longer count (set by reset_score).
    - `half_life_us`: the decay half-life the segment values were computed with.
    """

    segments: tuple[Segment, ...] = ()
    latest_us: int | None = None
    keys: Mapping[str, int] = NO_KEYS
    key_count: int = 0
    triggers: TriggerMemory = EMPTY
    floor_us: int | None = None
    half_life_us: int | None = None

    @classmethod
    def empty(cls) -> LeadScoreState:
        """The state of a lead with no activity."""
        return cls()

    @property
    def raw_score(self) -> float:
        """The score as of the latest activity, unclamped (can be negative)."""
        return self.segments[-1].value if self.segments else 0.0

    @property
    def score(self) -> float:
        """The score as of the latest activity, never below 0 (see engine.score_at for `now`)."""
        return max(0.0, self.raw_score)

    @property
    def last_activity_at(self) -> datetime | None:
        """The lead's latest activity (UTC), or None before any."""
        return None if self.latest_us is None else from_us(self.latest_us)

    def knows_key(self, key: str) -> bool:
        """Whether an event with this key was already applied (and is still remembered)."""
        return knows(self.keys, self.key_count, key)

    def all_keys(self) -> list[str]:
        """Every remembered key, oldest arrival first."""
        return listed(self.keys, self.key_count)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict in format 2 (see `from_json`); times are integer µs (exact)."""
        keys = self.all_keys()
        triggers = self.triggers
        stored = triggers.stored
        columns: list[list[Any]] = [[], [], []]
        table: list[Kind] = []
        if stored is not None or triggers.chain is not None:
            position = dict(zip(keys, range(len(keys)), strict=True))
            if stored is not None:  # untouched since read: re-encode the columns as they are
                ats, names, refs, table = stored
            else:
                ats, names, refs, table = _columns(triggers.chain)
            columns = [
                list(map(operator.sub, repeat(self.latest_us), ats)),
                list(map(position.get, names, names)),
                refs[:],  # the stored state's lists are never handed out
            ]
        return {
            "v": FORMAT_VERSION,
            "latest": self.latest_us,
            "floor": self.floor_us,
            "half_life": self.half_life_us,
            "segments": [[*s[:6], flat_items(s.end, s.items)] for s in self.segments],
            "kinds": [
                [t, label, *(part for ref in steps for part in ref)] for t, label, steps in table
            ],
            "candidates": columns,
            "completed": dict(self.triggers.completed),
            "keys": keys,
        }

    @classmethod
    def from_json(cls, data: Any) -> LeadScoreState:
        """Read back what to_json wrote (format 2, or format 1 converted on the way).

        Format 2 keeps the stored form small and cheap to encode and decode: flat lists checked
        in bulk, times as integer µs, no string stored twice. Fields: `latest`, `floor`,
        `half_life` (µs or null); `segments`, each `[start, end, value, shield_at, shield_key,
        abs_score, items]` with `items` flat `[end - time, points, ...]`, newest arrival first;
        `kinds`, the distinct (type, label, steps) of the trigger candidates, each flat
        `[type, label, trigger, step index, trigger, step index, ...]`; `candidates`, three
        parallel lists, newest first: `latest - time`, the key (its position in `keys` when
        remembered, else the key itself), the kind's position in `kinds`; `completed`, trigger
        -> latest start of a complete sequence; `keys`, remembered event keys, oldest first.
        Format 1 (v=1) had absolute times, items and candidates as lists of small lists,
        oldest first, and candidate steps as [trigger, index] pairs.
        ValueError names the first bad field.
        """
        if not isinstance(data, dict):
            raise ValueError("lead score state: expected a JSON object")
        version = data.get("v")
        if version == 1:
            data = _from_v1(data)
        elif version != FORMAT_VERSION:
            raise ValueError(f"lead score state: unknown format version {version!r}")
        for name in ("segments", "kinds", "candidates", "keys"):
            if name not in data:
                raise ValueError(f"lead score state: {name!r} is missing")
        try:
            segments = tuple(map(_segment, _list(data["segments"], "segments")))
            completed = data.get("completed", {})
            if not isinstance(completed, dict):
                raise ValueError("'completed' must be an object")
            _all_type(completed, str, "a trigger name")
            _all_type(completed.values(), int, "completed trigger starts")
            keys = _list(data["keys"], "keys")
            _all_type(keys, str, "'keys'")
            if not all(keys):
                raise ValueError("'keys' holds an empty key")
            latest = _opt_int(data.get("latest"), "latest")
            triggers = _triggers(data["kinds"], data["candidates"], completed, keys, latest)
            memory, count = from_list(keys)
            return cls(
                segments=segments,
                triggers=triggers,
                latest_us=latest,
                floor_us=_opt_int(data.get("floor"), "floor"),
                half_life_us=_opt_int(data.get("half_life"), "half_life"),
                keys=memory,
                key_count=count,
            )
        except ValueError as exc:
            raise ValueError(f"lead score state: {exc}") from exc


def _columns(chain: CandidateChain) -> Stored:
    """Linked candidates as columns, newest first, numbering each distinct kind."""
    candidates: list[Candidate] = []
    append = candidates.append
    while chain is not None:
        candidate, chain = chain
        append(candidate)
    ats, names, types, labels, steps = zip(*candidates, strict=True)
    kinds: dict[Kind, int] = {}
    # setdefault numbers each distinct kind by first appearance.
    refs = [kinds.setdefault(k, len(kinds)) for k in zip(types, labels, steps, strict=True)]
    return Stored(list(ats), list(names), refs, list(kinds))


def flat_items(end: int, items: Chain) -> list[int | float]:
    """A segment's items as the flat stored list [end - time, points, ...], newest arrival first."""
    flat: list[int | float] = []
    append = flat.append
    while items is not None:
        if isinstance(items, list):
            tail = items[:]  # the packed tail read from JSON
            tail[0::2] = map(operator.sub, repeat(end), items[0::2])
            flat += tail
            break
        at, points, items = items
        append(end - at)
        append(points)
    return flat


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what!r} must be a list")
    return value


def _all_type(values: Iterable[Any], kind: type, what: str) -> None:
    # One C-level pass (type() is exact: bool is not accepted as int); details only on failure.
    if not set(map(type, values)) <= {kind}:
        bad = next(v for v in values if type(v) is not kind)
        raise ValueError(f"{what} must be {_NAMES[kind]}, got {bad!r}")


_NUMBER = {int, float}
_INT = {int}
_STR = {str}
_new = tuple.__new__  # builds a NamedTuple from a tuple without its Python-level __new__
_NAMES = {int: "integers", str: "strings"}


def _numbers(values: list[Any], what: str) -> list[float]:
    if not set(map(type, values)) <= _NUMBER or not all(map(math.isfinite, values)):
        bad = next(v for v in values if type(v) not in _NUMBER or not math.isfinite(v))
        raise ValueError(f"{what} must be finite numbers, got {bad!r}")
    return list(map(float, values))


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return value


def _opt_int(value: Any, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _float(value: Any, what: str) -> float:
    if type(value) not in _NUMBER or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a string, got {value!r}")
    return value


def _segment(raw: Any) -> Segment:
    fields = _list(raw, "segment")
    if len(fields) != 7:
        raise ValueError(f"a segment has 7 fields, got {len(fields)}")
    start, end, value, shield_at, shield_key, abs_score, flat = fields
    if not (
        type(start) is int
        and type(end) is int
        and type(value) is float
        and (shield_at is None or type(shield_at) is int)
        and type(shield_key) is str
        and type(abs_score) is float
        and math.isfinite(value + abs_score)
    ):
        # Not what to_json writes: check each field for a precise message (ints are accepted).
        start = _int(start, "segment start")
        end = _int(end, "segment end")
        value = _float(value, "segment value")
        shield_at = _opt_int(shield_at, "segment shield time")
        shield_key = _str(shield_key, "segment shield key")
        abs_score = _float(abs_score, "segment absolute score")
    flat = _list(flat, "segment items")
    if len(flat) % 2:
        raise ValueError("segment items must be [time, points, ...] pairs")
    ages = flat[0::2]
    _all_type(ages, int, "item times")
    packed: Packed = flat[:]  # the right length; every slot is overwritten below
    packed[0::2] = map(operator.sub, repeat(end), ages)
    packed[1::2] = _numbers(flat[1::2], "item points")
    size = len(ages)
    return _new(
        Segment,
        (
            start,
            end,
            value,
            shield_at,
            shield_key,
            abs_score,
            packed or None,
            size,
            due_after(size),
        ),
    )


_KINDS: dict[tuple[Any, ...], Kind] = {}  # memo of checked kinds: few distinct ones exist
_KINDS_MAX = 4096


def _kind(raw: Any) -> Kind:
    flat = tuple(_list(raw, "kind"))
    known = _KINDS.get(flat)
    if known is not None:
        return known
    if len(flat) < 4 or len(flat) % 2:
        raise ValueError("a kind is [type, label, trigger, index, ...]")
    names, indexes = flat[2::2], flat[3::2]
    _all_type(flat[:2], str, "a kind's type and label")
    _all_type(names, str, "step triggers")
    _all_type(indexes, int, "step indexes")
    kind = (flat[0], flat[1], tuple(zip(names, indexes, strict=True)))
    if len(_KINDS) >= _KINDS_MAX:
        _KINDS.clear()
    _KINDS[flat] = kind
    return kind


def _triggers(
    raw_kinds: Any, raw: Any, completed: dict[str, int], keys: list[str], latest: int | None
) -> TriggerMemory:
    kinds = list(map(_kind, _list(raw_kinds, "kinds")))
    columns = _list(raw, "candidates")
    if len(columns) != 3 or not all(isinstance(c, list) for c in columns):
        raise ValueError("'candidates' must be 3 lists: times, keys, kinds")
    ages, names, refs = columns
    size = len(ages)
    if not size == len(names) == len(refs):
        raise ValueError("the candidate lists differ in length")
    if not size:
        return TriggerMemory(None, 0, completed)
    if latest is None:
        raise ValueError("candidates without a latest activity")
    _all_type(ages, int, "candidate times")
    _all_type(refs, int, "candidate kinds")
    if not 0 <= min(refs) <= max(refs) < len(kinds):
        raise ValueError("a candidate names a kind that does not exist")
    positions = [k for k in names if type(k) is not str]
    if positions:  # a remembered key is stored as its position in `keys`
        if set(map(type, positions)) != _INT or not 0 <= min(positions) <= max(positions) < len(
            keys
        ):
            bad = next(k for k in positions if type(k) is not int or not 0 <= k < len(keys))
            raise ValueError(
                f"a candidate key must be a string or a position in 'keys', got {bad!r}"
            )
        names = [k if type(k) is str else keys[k] for k in names]
    if any(map(operator.gt, ages, ages[1:])) or (
        len(set(ages)) < size
        and any(
            map(
                operator.gt,
                zip(ages, names[1:], strict=False),
                zip(ages[1:], names, strict=False),
            )
        )
    ):
        raise ValueError("candidates must be newest first")
    times = list(map(operator.sub, repeat(latest), ages))
    stored = Stored(times, names[:], refs[:], kinds)  # copies: the caller keeps its data
    return TriggerMemory(None, size, completed, max(PRUNE_EVERY, 2 * size), stored)


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A format-1 state rewritten as format 2 (values then checked by the format-2 reader)."""
    converted = dict(data, v=FORMAT_VERSION)
    try:
        segments = []
        for raw in _list(data.get("segments", []), "segments"):
            fields = _list(raw, "segment")
            if len(fields) == 7:
                end = _int(fields[1], "segment end")
                pairs = _list(fields[6], "segment items")
                if any(len(_list(pair, "item")) != 2 for pair in pairs):
                    raise ValueError("an item is [time, points]")
                ages = [[end - _int(at, "item time"), points] for at, points in reversed(pairs)]
                fields = [*fields[:6], [part for pair in ages for part in pair]]
            segments.append(fields)
        converted["segments"] = segments
        rows = [_list(raw, "candidate") for raw in _list(data.get("candidates", []), "candidates")]
        if any(len(row) != 5 for row in rows):
            raise ValueError("a candidate has 5 fields")
        if any(_v1_order(a) > _v1_order(b) for a, b in pairwise(rows)):
            raise ValueError("candidates must be in time order")
        latest = data.get("latest")
        if rows:
            latest = _int(latest, "latest")
        kinds: list[list[Any]] = []
        columns: list[list[Any]] = [[], [], []]
        for at, key, event_type, label, steps in reversed(rows):
            pairs = _list(steps, "candidate steps")
            if any(len(_list(pair, "step")) != 2 for pair in pairs):
                raise ValueError("a step is [trigger, index]")
            kind = [event_type, label, *(part for pair in pairs for part in pair)]
            if kind not in kinds:
                kinds.append(kind)
            columns[0].append(latest - at)
            columns[1].append(key)
            columns[2].append(kinds.index(kind))
        converted["kinds"] = kinds
        converted["candidates"] = columns
    except ValueError as exc:
        raise ValueError(f"lead score state: {exc}") from exc
    return converted


def _v1_order(row: list[Any]) -> tuple[int, str]:
    return (_int(row[0], "candidate time"), _str(row[1], "candidate key"))
