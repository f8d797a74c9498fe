"""A lead's stored scoring state: small, bounded, immutable, and JSON round-trippable."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Any, NamedTuple

from scoring.instants import from_us
from scoring.keymemory import from_list, knows, listed
from scoring.segments import Segment, chain_of, due_after, newest_first
from scoring.triggers import EMPTY, Candidate, TriggerMemory, memory_of
from scoring.triggers import newest_first as candidates_newest_first

FORMAT_VERSION = 1
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
        """A JSON-ready dict; times are integer microseconds since the Unix epoch (exact)."""
        return {
            "v": FORMAT_VERSION,
            "latest": self.latest_us,
            "floor": self.floor_us,
            "half_life": self.half_life_us,
            "segments": [
                [
                    s.start,
                    s.end,
                    s.value,
                    s.shield_at,
                    s.shield_key,
                    s.abs_score,
                    [[at, points] for at, points in newest_first(s.items)][::-1],
                ]
                for s in self.segments
            ],
            "candidates": [
                [c.at, c.key, c.type, c.label, [list(r) for r in c.steps]]
                for c in reversed(list(candidates_newest_first(self.triggers.chain)))
            ],
            "completed": dict(self.triggers.completed),
            "keys": self.all_keys(),
        }

    @classmethod
    def from_json(cls, data: Any) -> LeadScoreState:
        """Read back what to_json wrote; ValueError names the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("lead score state: expected a JSON object")
        if data.get("v") != FORMAT_VERSION:
            raise ValueError(f"lead score state: unknown format version {data.get('v')!r}")
        for name in ("segments", "candidates", "keys"):
            if name not in data:
                raise ValueError(f"lead score state: {name!r} is missing")
        try:
            segments = tuple(_segment(raw) for raw in _list(data["segments"], "segments"))
            candidates = [_candidate(raw) for raw in _list(data["candidates"], "candidates")]
            if any((a.at, a.key) > (b.at, b.key) for a, b in pairwise(candidates)):
                raise ValueError("candidates must be in time order")
            completed = data.get("completed", {})
            if not isinstance(completed, dict):
                raise ValueError("'completed' must be an object")
            triggers = memory_of(
                candidates,
                {
                    _str(k, "a trigger name"): _int(v, f"completed[{k!r}]")
                    for k, v in completed.items()
                },
            )
            keys = data["keys"]
            if not isinstance(keys, list):
                raise ValueError("'keys' must be a list")
            memory, count = from_list([_key(k) for k in keys])
            return cls(
                segments=segments,
                triggers=triggers,
                latest_us=_opt_int(data.get("latest"), "latest"),
                floor_us=_opt_int(data.get("floor"), "floor"),
                half_life_us=_opt_int(data.get("half_life"), "half_life"),
                keys=memory,
                key_count=count,
            )
        except ValueError as exc:
            raise ValueError(f"lead score state: {exc}") from exc


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{what!r} must be a list")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be an integer, got {value!r}")
    return value


def _opt_int(value: Any, what: str) -> int | None:
    return None if value is None else _int(value, what)


def _float(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
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
    start, end, value, shield_at, shield_key, abs_score, raw_items = fields
    items = [
        (_int(item[0], "item time"), _float(item[1], "item points"))
        for item in _list(raw_items, "segment items")
        if len(_list(item, "item")) == 2 or _bad("an item is [time, points]")
    ]
    if any(a[0] > b[0] for a, b in pairwise(items)):
        raise ValueError("segment items must be in time order")
    return Segment(
        _int(start, "segment start"),
        _int(end, "segment end"),
        _float(value, "segment value"),
        _opt_int(shield_at, "segment shield time"),
        _str(shield_key, "segment shield key"),
        _float(abs_score, "segment absolute score"),
        chain_of(items),
        len(items),
        due_after(len(items)),
    )


def _candidate(raw: Any) -> Candidate:
    fields = _list(raw, "candidate")
    if len(fields) != 5:
        raise ValueError(f"a candidate has 5 fields, got {len(fields)}")
    at, key, event_type, label, steps = fields
    return Candidate(
        _int(at, "candidate time"),
        _str(key, "candidate key"),
        _str(event_type, "candidate type"),
        _str(label, "candidate label"),
        tuple(
            (_str(ref[0], "step trigger"), _int(ref[1], "step index"))
            for ref in _list(steps, "candidate steps")
            if len(_list(ref, "step")) == 2 or _bad("a step is [trigger, index]")
        ),
    )


def _key(value: Any) -> str:
    key = _str(value, "a key")
    if not key:
        raise ValueError(f"bad event key {key!r}")
    return key


def _bad(message: str) -> bool:
    raise ValueError(message)
