"""Decoded scoring states of recently scored leads, valid only for the exact text they were stored as.

Decoding a lead's stored state (JSON, then `LeadScoreState.from_json`) was the largest part of
scoring a batch of events about many leads. The ingest keeps the states it has just stored here,
keyed by lead id together with the stored text: a later batch reuses one only when the database
still holds exactly that text, so a state changed meanwhile by another replica, a manager's
reset or a transaction that rolled back is simply decoded again. Never stale, only sometimes cold.
"""

from __future__ import annotations

from collections import OrderedDict

from scoring.state import LeadScoreState

# Per lead, the text plus the decoded state: ~3.7 KB with a few recent events, ~10 KB once the
# state remembers its 32 newest event keys; so ~40 MB to ~100 MB when full.
DEFAULT_CAPACITY = 10_000


class StateCache:
    """A least-recently-used map lead id -> (stored text, decoded state). Not thread-safe."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError(f"state cache capacity must be 0 or more, got {capacity}")
        self._capacity = capacity
        self._entries: OrderedDict[int, tuple[str, LeadScoreState]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, lead_id: int, text: str) -> LeadScoreState | None:
        """The state stored as `text` for this lead, if it is the one kept; else None."""
        entry = self._entries.get(lead_id)
        if entry is None or entry[0] != text:
            self.misses += 1
            return None
        self._entries.move_to_end(lead_id)
        self.hits += 1
        return entry[1]

    def put(self, lead_id: int, text: str, state: LeadScoreState) -> None:
        """Keep `state`, which the lead's row now holds as `text` (call once it is committed)."""
        if not self._capacity:
            return
        self._entries[lead_id] = (text, state)
        self._entries.move_to_end(lead_id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
