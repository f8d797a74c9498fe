"""The MQL decision's reasons: why a lead qualified and which events carried it over the line."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

Kind = Literal["threshold", "trigger", "external"]
KINDS: tuple[str, ...] = get_args(Kind)


def format_score(value: float) -> str:
    """A score as people write it: 105, 97.5, -20 (at most two decimals)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _event_text(event_type: str, label: str) -> str:
    return f"{event_type} ({label})" if label else event_type


@dataclass(frozen=True, slots=True)
class Qualification:
    """Why a lead qualified.

    - "threshold": the score crossed from below the threshold to at least the threshold.
    - "external": the same, where the sending tool's own figure (score or score_delta) did it.
    - "trigger": a behaviour trigger's sequence completed; qualifies whatever the score.
    `score` is the lead's score right after the event; the event tuples run in time order.
    """

    kind: Kind
    score: float
    threshold: float
    trigger: str | None
    event_keys: tuple[str, ...]
    event_types: tuple[str, ...]
    event_labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"qualification kind must be one of {', '.join(KINDS)}, not {self.kind!r}"
            )
        if (self.kind == "trigger") != (self.trigger is not None):
            raise ValueError(
                "qualification: a trigger name is given exactly when kind is 'trigger'"
            )
        if not (len(self.event_keys) == len(self.event_types) == len(self.event_labels)):
            raise ValueError(
                "qualification: event_keys, event_types and event_labels differ in length"
            )

    def summary_en(self) -> str:
        """One line for the card, e.g. "score 105 ≥ 100 after content_downloaded (MA guide)"."""
        events = [
            _event_text(t, label)
            for t, label in zip(self.event_types, self.event_labels, strict=True)
        ]
        if self.kind == "trigger":
            return f"trigger: {self.trigger} ({' → '.join(events)})"
        prefix = "external score" if self.kind == "external" else "score"
        line = f"{prefix} {format_score(self.score)} ≥ {format_score(self.threshold)}"
        return f"{line} after {', '.join(events)}" if events else line

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored with the MQL)."""
        return {
            "kind": self.kind,
            "score": self.score,
            "threshold": self.threshold,
            "trigger": self.trigger,
            "event_keys": list(self.event_keys),
            "event_types": list(self.event_types),
            "event_labels": list(self.event_labels),
        }

    @classmethod
    def from_json(cls, data: Any) -> Qualification:
        """Read back what to_json wrote; ValueError names the first bad field."""
        if not isinstance(data, dict):
            raise ValueError("qualification: expected a JSON object")

        def number(name: str) -> float:
            value = data.get(name)
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ValueError(f"qualification: {name!r} must be a number, got {value!r}")
            return float(value)

        def strings(name: str) -> tuple[str, ...]:
            value = data.get(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"qualification: {name!r} must be a list of strings")
            return tuple(value)

        kind = data.get("kind")
        if kind not in KINDS:
            raise ValueError(
                f"qualification: 'kind' must be one of {', '.join(KINDS)}, got {kind!r}"
            )
        trigger = data.get("trigger")
        if trigger is not None and not isinstance(trigger, str):
            raise ValueError(f"qualification: 'trigger' must be a string or null, got {trigger!r}")
        return cls(
            kind=kind,
            score=number("score"),
            threshold=number("threshold"),
            trigger=trigger,
            event_keys=strings("event_keys"),
            event_types=strings("event_types"),
            event_labels=strings("event_labels"),
        )
