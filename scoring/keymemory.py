"""The event keys a lead's state remembers for idempotency: the newest MAX_KEYS, O(1) per event."""

from __future__ import annotations

from collections.abc import Mapping

# Each state holds a dict key -> sequence number plus its own count; a key is known to the state
# when its number is among the state's newest MAX_KEYS (below its count). States of one lineage
# share the dict: the newest state (whose count equals the dict's TIP entry) adds its key in
# place, which no older state can see because the new number is at or above their counts. An
# older state that is applied again (a branch) copies what it sees first. So every state behaves
# as an immutable value, while the common case never copies. A state must not be applied from
# two threads at once (the ingest applies each lead's events in one task).
#
# Why only a few keys: the database's unique key on the event id is the duplicate guard of the
# ingest (it never applies an event already stored), so this memory only serves direct callers
# of the engine, whose retries come soon after the original. Every remembered key is stored in
# the lead's JSON state and decoded on every batch, so it is kept small.

MAX_KEYS = 32  # remembered per lead (see the module docstring)
SHARED_MAX = 4 * MAX_KEYS  # entries a shared dict may reach before a state copies what it sees
TIP = ""  # not a valid event key (keys are non-empty): holds the count of the newest state


def knows(keys: Mapping[str, int], count: int, key: str) -> bool:
    """Whether a state with this memory and count has seen `key` (among its newest MAX_KEYS)."""
    seq = keys.get(key)
    return seq is not None and count - MAX_KEYS <= seq < count


def remember(keys: Mapping[str, int], count: int, key: str) -> Mapping[str, int]:
    """The memory holding `key` as number `count` (the caller's new count is count + 1)."""
    if (
        isinstance(keys, dict)
        and keys.get(TIP) == count
        and key not in keys
        and len(keys) <= SHARED_MAX
    ):
        keys[key] = count  # a new entry goes last: the dict's order stays the numbers' order
        keys[TIP] = count + 1
        return keys
    # A branch, a fresh state, a forgotten key coming back or a full dict: copy what this state
    # sees, in number order.
    names = listed(keys, count)
    fresh = dict(zip(names, range(count - len(names), count), strict=True))
    fresh[key] = count
    fresh[TIP] = count + 1
    return fresh


def listed(keys: Mapping[str, int], count: int) -> list[str]:
    """The keys a state remembers, oldest first."""
    newest = min(count, MAX_KEYS)
    if newest == 0:
        return []
    # Entries are added in number order (see remember), so the newest are the last ones: check
    # that their numbers are exactly the state's newest, else sort.
    names = list(keys)
    if keys.get(TIP) == count:
        names.remove(TIP)
        recent = names[-newest:]
        if list(map(keys.__getitem__, recent)) == list(range(count - newest, count)):
            return recent
    oldest = count - MAX_KEYS
    seen = [(seq, k) for k, seq in keys.items() if k != TIP and oldest <= seq < count]
    return [k for _, k in sorted(seen)]


def from_list(keys: list[str]) -> tuple[dict[str, int], int]:
    """A memory and count holding these keys (oldest first), as read back from JSON."""
    kept = keys[-MAX_KEYS:]
    memory = dict(zip(kept, range(len(kept)), strict=True))
    memory[TIP] = len(kept)
    return memory, len(kept)
