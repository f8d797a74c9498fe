"""Behaviour triggers: which steps an event matches, and whether a trigger's sequence is complete.

The engine keeps only trigger candidates (events that match at least one step of some trigger)
from the longest trigger window before the lead's latest activity, and at most
MAX_CANDIDATES of them; a candidate stores the steps it matched, not its properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from scoring.rules import ScoringRules

MAX_CANDIDATES = 64

StepRef = tuple[str, int]  # (trigger name, step index)


class Candidate(NamedTuple):
    """A recent event that matched at least one trigger step."""

    at: int  # occurred µs
    key: str
    type: str
    label: str
    steps: tuple[StepRef, ...]


def match_steps(
    rules: ScoringRules, event_type: str, properties: Mapping[str, Any]
) -> tuple[StepRef, ...]:
    """The (trigger, step) pairs this event satisfies: its type, and every property pattern."""
    compiled = rules.steps_by_type.get(event_type)
    if not compiled:
        return ()
    matched: list[StepRef] = []
    for name, index, patterns in compiled:
        for prop, pattern in patterns:
            value = properties.get(prop)
            if value is None:
                break
            if pattern.search(value if isinstance(value, str) else str(value)) is None:
                break
        else:
            matched.append((name, index))
    return tuple(matched)


def find_sequence(
    candidates: Sequence[Candidate], name: str, steps: int, window_us: int
) -> tuple[Candidate, ...] | None:
    """The earliest complete sequence of trigger `name` among time-ordered candidates, if any.

    For a given first step, taking the earliest later event for each next step is optimal
    (it leaves the most room for the rest), so trying each first step in turn is exact.
    """
    first_ref = (name, 0)
    count = len(candidates)
    for start_index, first in enumerate(candidates):
        if first_ref not in first.steps:
            continue
        limit = first.at + window_us
        chain = [first]
        index = start_index + 1
        for step in range(1, steps):
            ref = (name, step)
            previous_at = chain[-1].at
            while index < count:
                candidate = candidates[index]
                index += 1
                if candidate.at > limit:
                    index = count
                    break
                if candidate.at > previous_at and ref in candidate.steps:
                    chain.append(candidate)
                    break
            else:
                break
            if len(chain) != step + 1:
                break
        if len(chain) == steps:
            return tuple(chain)
    return None


def prune(candidates: tuple[Candidate, ...], oldest_us: int) -> tuple[Candidate, ...]:
    """Drop candidates older than `oldest_us` and keep at most MAX_CANDIDATES (the newest)."""
    drop = 0
    for candidate in candidates:
        if candidate.at >= oldest_us:
            break
        drop += 1
    drop = max(drop, len(candidates) - MAX_CANDIDATES)
    return candidates[drop:] if drop else candidates


def insert(candidates: tuple[Candidate, ...], candidate: Candidate) -> tuple[Candidate, ...]:
    """The candidates with one more, kept in (time, key) order."""
    position = len(candidates)
    while position and (candidates[position - 1].at, candidates[position - 1].key) > (
        candidate.at,
        candidate.key,
    ):
        position -= 1
    return (*candidates[:position], candidate, *candidates[position:])


def fired(
    rules: ScoringRules,
    before: tuple[Candidate, ...],
    after: tuple[Candidate, ...],
    names: Sequence[str],
) -> tuple[str, tuple[Candidate, ...]] | None:
    """The first trigger (in rule order) complete in `after` but not in `before`, with its events."""
    for rule in rules.triggers:
        if rule.name not in names:
            continue
        window = rules.trigger_window_us[rule.name]
        chain = find_sequence(after, rule.name, len(rule.steps), window)
        if chain is not None and find_sequence(before, rule.name, len(rule.steps), window) is None:
            return rule.name, chain
    return None
