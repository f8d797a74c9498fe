"""Behaviour triggers: which steps an event matches, and whether it completes a trigger's sequence."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from types import MappingProxyType
from typing import Any, NamedTuple, Union

from scoring.rules import CompiledStep, ScoringRules

MAX_CANDIDATES = 64
PRUNE_EVERY = 8  # the smallest chain length at which stale candidates are cut off

StepRef = tuple[str, int]  # (trigger name, step index)


class Candidate(NamedTuple):
    """A recent event that matched at least one trigger step."""

    at: int  # occurred µs
    key: str
    type: str
    label: str
    steps: tuple[StepRef, ...]


# (candidate, older candidates) — None is the empty list.
CandidateChain = Union[tuple[Candidate, "CandidateChain"], None]  # noqa: UP007 (recursive alias)
NO_COMPLETIONS: Mapping[str, int] = MappingProxyType({})


Kind = tuple[str, str, tuple[StepRef, ...]]  # a candidate's type, label and matched steps
_new = tuple.__new__  # builds a NamedTuple without its Python-level __new__ (hot path)


class Stored(NamedTuple):
    """Candidates as read from a stored state, still in columns (newest first, checked)."""

    times: list[int]
    keys: list[str]
    kinds: list[int]  # positions in `table`
    table: list[Kind]

    def candidates(self) -> list[Candidate]:
        """The candidates, newest first."""
        types, labels, steps = zip(*map(self.table.__getitem__, self.kinds), strict=True)
        rows = zip(self.times, self.keys, types, labels, steps, strict=True)
        return list(map(_new, repeat(Candidate), rows))


class TriggerMemory(NamedTuple):
    """The trigger part of a lead's state.

    The state keeps trigger candidates (events that match at least one step of some trigger) as a
    linked list, newest first, so an in-order event is added in O(1). Candidates older than the
    longest trigger window before the lead's latest activity are skipped by every walk and cut off
    when the chain reaches `due` candidates (then `due` becomes twice what was kept, so the cuts
    stay amortised O(1) and stale candidates never outnumber live ones for long); a cut keeps at
    most MAX_CANDIDATES, so the chain holds at most twice that. A candidate stores the steps it matched, not its
    properties. For each trigger the memory also holds the latest start of any complete sequence
    seen: while that sequence starts within the trigger's window before the latest activity, the
    trigger is "already complete" and a new completion does not fire again.

    A memory read from a stored state keeps its candidates in `stored` (and `chain` is None)
    until a trigger step needs them: most events match no step, and writing the state back
    then re-encodes the columns without building a node per candidate.
    """

    chain: CandidateChain = None  # newest first
    size: int = 0  # candidates in the chain, skipped ones included
    completed: Mapping[str, int] = NO_COMPLETIONS  # trigger -> latest start of a complete sequence
    due: int = PRUNE_EVERY  # cut off stale candidates when `size` reaches this
    stored: Stored | None = None  # the candidates, not yet linked (see above)


EMPTY = TriggerMemory()


def linked(memory: TriggerMemory) -> TriggerMemory:
    """The memory with its stored candidates linked into the chain."""
    if memory.stored is None:
        return memory
    chain: CandidateChain = None
    for candidate in reversed(memory.stored.candidates()):
        chain = (candidate, chain)
    return TriggerMemory(chain, memory.size, memory.completed, memory.due)


def newest_first(chain: CandidateChain) -> Iterator[Candidate]:
    """The candidates, newest first."""
    while chain is not None:
        candidate, chain = chain
        yield candidate


def memory_of(oldest_first: list[Candidate], completed: Mapping[str, int]) -> TriggerMemory:
    """A memory holding these candidates (given in time order)."""
    chain: CandidateChain = None
    for candidate in oldest_first:
        chain = (candidate, chain)
    size = len(oldest_first)
    return TriggerMemory(chain, size, completed, max(PRUNE_EVERY, 2 * size))


def match_steps(
    compiled: tuple[CompiledStep, ...], properties: Mapping[str, Any]
) -> tuple[StepRef, ...]:
    """The (trigger, step) pairs an event satisfies, given the compiled steps of its type
    (`ScoringRules.steps_by_type`): every property pattern must match."""
    matched: tuple[StepRef, ...] = ()
    for patterns, step in compiled:
        for prop, pattern in patterns:
            value = properties.get(prop)
            if (
                value is None
                or pattern.search(value if isinstance(value, str) else str(value)) is None
            ):
                break
        else:
            matched = matched + step if matched else step
    return matched


def _chain_through(
    newer: Sequence[Candidate],
    pivot: Candidate,
    older: CandidateChain,
    name: str,
    step: int,
    steps: int,
    window_us: int,
    oldest_us: int,
) -> tuple[Candidate, ...] | None:
    """A complete sequence of trigger `name` in which `pivot` is step `step`, if any.

    `newer` are the later candidates in time order, `older` the earlier ones newest first.
    The steps after the pivot take the earliest possible later events (that minimises the end)
    and the steps before it the latest possible earlier ones (that maximises the start); each
    side's choice is independent of the other, so a sequence is found whenever one exists.
    """
    later: list[Candidate] = []
    at = pivot.at
    latest_end = at + window_us  # the start is at or before the pivot
    index = 0
    for wanted in range(step + 1, steps):
        ref = (name, wanted)
        while index < len(newer):
            candidate = newer[index]
            index += 1
            if candidate.at > latest_end:
                return None
            if candidate.at > at and ref in candidate.steps:
                later.append(candidate)
                at = candidate.at
                break
        else:
            return None
    end = at
    earliest_start = max(oldest_us, end - window_us)  # so every walk stays inside the window
    earlier: list[Candidate] = []
    at = pivot.at
    for wanted in range(step - 1, -1, -1):
        ref = (name, wanted)
        while older is not None:
            candidate, older = older
            if candidate.at < earliest_start:
                return None
            if candidate.at < at and ref in candidate.steps:
                earlier.append(candidate)
                at = candidate.at
                break
        else:
            return None
    if end - at > window_us:
        return None
    earlier.reverse()
    return (*earlier, pivot, *later)


def add_candidate(
    rules: ScoringRules, memory: TriggerMemory, candidate: Candidate, latest_us: int
) -> tuple[TriggerMemory, tuple[str, tuple[Candidate, ...]] | None]:
    """The memory with the candidate added, and the first trigger (in rule order) it fires.

    A trigger fires when a complete sequence through the candidate exists and no earlier
    complete sequence of that trigger starts within its window before the latest activity
    (one firing per completion, not one per repeated last step).
    """
    if memory.stored is not None:
        memory = linked(memory)
    oldest_us = latest_us - rules.max_window_us
    at, key = candidate.at, candidate.key
    rest = memory.chain
    newer: Sequence[Candidate] = ()  # candidates after this one, in time order
    if rest is None or rest[0].at < at or (rest[0].at == at and rest[0].key < key):
        chain: CandidateChain = (candidate, rest)  # in order, the common case
    else:
        newer = []
        while rest is not None and (rest[0].at, rest[0].key) > (at, key):
            newer.append(rest[0])
            rest = rest[1]
        chain = (candidate, rest)
        for later in reversed(newer):
            chain = (later, chain)
        newer.reverse()
    older = rest

    spans = rules.trigger_spans
    best: dict[str, tuple[Candidate, ...]] | None = None  # candidate.steps come in rule order
    for name, step in candidate.steps:
        span = spans.get(name)
        if span is None:
            continue  # a step of a trigger the rules no longer have
        window, length = span
        if step >= length:
            continue  # a step of a trigger the rules no longer have
        if step < length - 1 and not newer:
            continue  # nothing after it yet to finish the sequence (the in-order case)
        found = _chain_through(newer, candidate, older, name, step, length, window, oldest_us)
        if found is not None:
            if best is None:
                best = {}
            known = best.get(name)
            if known is None or found[0].at > known[0].at:
                best[name] = found

    completed = memory.completed
    hit: tuple[str, tuple[Candidate, ...]] | None = None
    if best is not None:  # most candidates complete nothing
        for name, sequence in best.items():
            previous = completed.get(name)
            if hit is None and (previous is None or previous < latest_us - spans[name][0]):
                hit = (name, sequence)
            if previous is None or sequence[0].at > previous:
                completed = {**completed, name: sequence[0].at}

    size = memory.size + 1
    if size >= memory.due:
        return _pruned(chain, size, completed, oldest_us), hit
    memory = _new(TriggerMemory, (chain, size, completed, memory.due, None))
    return memory, hit


def _pruned(
    chain: CandidateChain, size: int, completed: Mapping[str, int], oldest_us: int
) -> TriggerMemory:
    """The memory keeping the newest MAX_CANDIDATES candidates at or after `oldest_us`."""
    kept: list[Candidate] = []
    rest = chain
    # Newest first, so the first candidate too old (or one too many) ends the walk.
    while rest is not None and len(kept) < MAX_CANDIDATES:
        candidate = rest[0]
        if candidate.at < oldest_us:
            break
        kept.append(candidate)
        rest = rest[1]
    count = len(kept)
    if rest is not None:  # something was cut off: relink what is kept
        chain = None
        for candidate in reversed(kept):
            chain = (candidate, chain)
    return _new(TriggerMemory, (chain, count, completed, max(PRUNE_EVERY, 2 * count), None))


def forget_before(memory: TriggerMemory, floor_us: int) -> TriggerMemory:
    """The memory without candidates or completions before `floor_us` (a score reset)."""
    kept = [c for c in newest_first(linked(memory).chain) if c.at >= floor_us]
    kept.reverse()
    completed = {name: start for name, start in memory.completed.items() if start >= floor_us}
    return memory_of(kept, completed)
