"""The scoring rules: points per event type, threshold, inactivity reset or decay, triggers, retention."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from scoring.instants import span_us

# One compiled step as the engine uses it: ((property, pattern), ...) and ((trigger name, step
# index),), the latter built once so that matching one step allocates nothing.
CompiledStep = tuple[tuple[tuple[str, re.Pattern[str]], ...], tuple[tuple[str, int]]]
# Per event type: its points and its compiled trigger steps (None when it matches no step).
TypeRules = tuple[float, tuple[CompiledStep, ...] | None]
NO_TYPE_RULES: TypeRules = (0.0, None)  # an event type the rules do not name
# What the engine reads on every event: rules by type (a plain dict: one lookup per event),
# reset, half-life, retention, longest trigger window, threshold.
HotRules = tuple[dict[str, TypeRules], int | None, int | None, int, int, float]


@dataclass(frozen=True, slots=True)
class TriggerStep:
    """One step of a trigger: an event type plus property patterns.

    Each pattern is a regular expression searched case-insensitively in the property's text;
    every listed property must be present and match.
    """

    type: str
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TriggerRule:
    """An ordered sequence of steps that makes an MQL at once when it happens within `within`.

    Steps must happen at strictly increasing times ("then" means later), each step on its own
    event, and the last step no later than `within` after the first (inclusive).
    """

    name: str
    steps: tuple[TriggerStep, ...]
    within: timedelta


def _check_span(name: str, value: timedelta | None, *, optional: bool) -> None:
    if value is None:
        if not optional:
            raise ValueError(f"scoring rules: {name} is required")
        return
    if not isinstance(value, timedelta):
        raise TypeError(f"scoring rules: {name} must be a timedelta, got {type(value).__name__}")
    if value <= timedelta(0):
        raise ValueError(f"scoring rules: {name} must be positive, got {value}")


def _compile_trigger(index: int, rule: TriggerRule) -> list[CompiledStep]:
    where = f"scoring rules: trigger {index + 1} ({rule.name!r})"
    if not isinstance(rule, TriggerRule):
        raise TypeError(f"{where} must be a TriggerRule")
    if not rule.name:
        raise ValueError(f"scoring rules: trigger {index + 1} needs a name")
    if not rule.steps:
        raise ValueError(f"{where} needs at least one step")
    _check_span(f"trigger {rule.name!r} within", rule.within, optional=False)
    compiled: list[CompiledStep] = []
    for number, step in enumerate(rule.steps):
        if not step.type:
            raise ValueError(f"{where} step {number + 1} needs an event type")
        patterns: list[tuple[str, re.Pattern[str]]] = []
        for prop, pattern in step.properties.items():
            try:
                patterns.append((prop, re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                raise ValueError(
                    f"{where} step {number + 1} property {prop!r}: "
                    f"bad regular expression {pattern!r} ({exc})"
                ) from exc
        compiled.append((tuple(patterns), ((rule.name, number),)))
    return compiled


@dataclass(frozen=True, slots=True)
class ScoringRules:
    """Everything a product manager tunes about scoring; validated and pre-compiled once.

    - `points`: points per event type (negative allowed); unknown types score 0.
    - `threshold`: the score at which a lead qualifies (must be positive).
    - `inactivity_reset`: a gap of at least this long between two activities (or between the
      last activity and `now`) resets the score to 0. None disables it.
    - `decay_half_life`: the score halves every half-life of quiet (gradual alternative; may be
      combined with the reset). None disables it.
    - `triggers`: behaviour sequences that qualify at once.
    - `retention`: an event older than this, relative to the lead's latest activity, is ignored
      when it arrives; the state forgets what such events could still have changed.
    """

    points: Mapping[str, float]
    threshold: float
    inactivity_reset: timedelta | None = timedelta(days=30)
    decay_half_life: timedelta | None = None
    triggers: tuple[TriggerRule, ...] = ()
    retention: timedelta = timedelta(days=400)
    # Derived once in __post_init__ so the hot path never converts or compiles anything.
    reset_us: int | None = field(init=False, repr=False, compare=False)
    half_life_us: int | None = field(init=False, repr=False, compare=False)
    retention_us: int = field(init=False, repr=False, compare=False)
    steps_by_type: Mapping[str, tuple[CompiledStep, ...]] = field(
        init=False, repr=False, compare=False
    )
    # trigger name -> (window µs, number of steps): one lookup per matched step.
    trigger_spans: dict[str, tuple[int, int]] = field(init=False, repr=False, compare=False)
    max_window_us: int = field(init=False, repr=False, compare=False)
    hot: HotRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        points: dict[str, float] = {}
        for event_type, value in dict(self.points).items():
            if not isinstance(event_type, str) or not event_type:
                raise ValueError(f"scoring rules: points key {event_type!r} is not an event type")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"scoring rules: points for {event_type!r} must be a number")
            if not math.isfinite(value):
                raise ValueError(f"scoring rules: points for {event_type!r} must be finite")
            points[event_type] = float(value)
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            raise TypeError("scoring rules: threshold must be a number")
        if not math.isfinite(self.threshold) or self.threshold <= 0:
            raise ValueError(f"scoring rules: threshold must be positive, got {self.threshold}")
        _check_span("inactivity_reset", self.inactivity_reset, optional=True)
        _check_span("decay_half_life", self.decay_half_life, optional=True)
        _check_span("retention", self.retention, optional=False)

        by_type: dict[str, list[CompiledStep]] = {}
        windows: dict[str, int] = {}
        for index, rule in enumerate(self.triggers):
            if rule.name in windows:
                raise ValueError(f"scoring rules: two triggers are named {rule.name!r}")
            windows[rule.name] = span_us(rule.within)
            for step, compiled in zip(rule.steps, _compile_trigger(index, rule), strict=True):
                by_type.setdefault(step.type, []).append(compiled)

        setattr_ = object.__setattr__
        setattr_(self, "threshold", float(self.threshold))
        setattr_(self, "triggers", tuple(self.triggers))
        setattr_(
            self,
            "reset_us",
            None if self.inactivity_reset is None else span_us(self.inactivity_reset),
        )
        setattr_(
            self,
            "half_life_us",
            None if self.decay_half_life is None else span_us(self.decay_half_life),
        )
        setattr_(self, "retention_us", span_us(self.retention))
        setattr_(self, "steps_by_type", MappingProxyType({k: tuple(v) for k, v in by_type.items()}))
        setattr_(
            self,
            "trigger_spans",
            {rule.name: (windows[rule.name], len(rule.steps)) for rule in self.triggers},
        )
        setattr_(self, "max_window_us", max(windows.values(), default=0))
        by_type_rules: dict[str, TypeRules] = {
            event_type: (points.get(event_type, 0.0), self.steps_by_type.get(event_type))
            for event_type in {*points, *self.steps_by_type}
        }
        # Unpacked once per event by the engine: one attribute read instead of six.
        setattr_(
            self,
            "hot",
            (
                by_type_rules,
                self.reset_us,
                self.half_life_us,
                self.retention_us,
                self.max_window_us,
                self.threshold,
            ),
        )
