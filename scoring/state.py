"""A lead's stored scoring state: small, bounded, immutable, and JSON round-trippable."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scoring.instants import from_us
from scoring.segments import Segment
from scoring.triggers import Candidate

FORMAT_VERSION = 1
MAX_KEYS = (
    256  # event keys remembered for idempotency (the database's unique key is the real guard)
)
RECENT_KEYS = 32  # keys kept in a small tuple before they are merged into the mapping


@dataclass(frozen=True, slots=True)
class LeadScoreState:
    """What the engine needs to score the next event of one lead, and nothing more.

    - `segments`: the recent activity segments, oldest first (bounded by retention and reset).
    - `candidates`: recent events matching trigger steps (bounded by the trigger windows).
    - `latest_us`: the latest activity seen (µs); `floor_us`: events before it no longer count.
    - `half_life_us`: the decay half-life the segment values were computed with.
    - `keys` + `recent_keys`: event keys remembered for idempotency (at most MAX_KEYS, within
      retention). Never mutated: each applied event builds a new state sharing what is unchanged.
    """

    segments: tuple[Segment, ...] = ()
    candidates: tuple[Candidate, ...] = ()
    latest_us: int | None = None
    floor_us: int | None = None
    half_life_us: int | None = None
    keys: Mapping[str, int] = field(default_factory=dict)
    recent_keys: tuple[str, ...] = ()
    recent_keys_at: tuple[int, ...] = ()

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
        return key in self.keys or key in self.recent_keys

    def all_keys(self) -> dict[str, int]:
        """Every remembered key with its event time (µs)."""
        merged = dict(self.keys)
        merged.update(zip(self.recent_keys, self.recent_keys_at, strict=True))
        return merged

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
                    [list(i) for i in s.items],
                ]
                for s in self.segments
            ],
            "candidates": [
                [c.at, c.key, c.type, c.label, [list(r) for r in c.steps]] for c in self.candidates
            ],
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
            candidates = tuple(_candidate(raw) for raw in _list(data["candidates"], "candidates"))
            keys = data["keys"]
            if not isinstance(keys, dict):
                raise ValueError("'keys' must be an object")
            return cls(
                segments=segments,
                candidates=candidates,
                latest_us=_opt_int(data.get("latest"), "latest"),
                floor_us=_opt_int(data.get("floor"), "floor"),
                half_life_us=_opt_int(data.get("half_life"), "half_life"),
                keys={str(k): _int(v, f"keys[{k!r}]") for k, v in keys.items()},
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
    start, end, value, shield_at, shield_key, abs_score, items = fields
    return Segment(
        _int(start, "segment start"),
        _int(end, "segment end"),
        _float(value, "segment value"),
        _opt_int(shield_at, "segment shield time"),
        _str(shield_key, "segment shield key"),
        _float(abs_score, "segment absolute score"),
        tuple(
            (_int(item[0], "item time"), _float(item[1], "item points"))
            for item in _list(items, "segment items")
            if len(_list(item, "item")) == 2 or _bad("an item is [time, points]")
        ),
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


def _bad(message: str) -> bool:
    raise ValueError(message)
