"""The state cache: a kept state is returned only for the exact text it was stored as."""

from __future__ import annotations

import pytest

from scoring.state import LeadScoreState
from scoring.statecache import StateCache

EMPTY = LeadScoreState.empty()
OTHER = LeadScoreState(latest_us=1)


def test_a_kept_state_is_returned_for_its_own_text_only() -> None:
    cache = StateCache(10)
    cache.put(1, '{"v":2,"latest":1}', OTHER)
    assert cache.get(1, '{"v":2,"latest":1}') is OTHER
    assert cache.get(1, '{"v":2,"latest":2}') is None  # changed meanwhile: decode again
    assert cache.get(2, '{"v":2,"latest":1}') is None  # another lead
    assert (cache.hits, cache.misses) == (1, 2)


def test_the_least_recently_used_lead_is_dropped_when_full() -> None:
    cache = StateCache(2)
    cache.put(1, "a", EMPTY)
    cache.put(2, "b", EMPTY)
    assert cache.get(1, "a") is EMPTY  # 1 is now the most recently used
    cache.put(3, "c", OTHER)
    assert len(cache) == 2
    assert cache.get(2, "b") is None
    assert cache.get(1, "a") is EMPTY
    assert cache.get(3, "c") is OTHER


def test_a_newer_state_replaces_the_kept_one() -> None:
    cache = StateCache(2)
    cache.put(1, "a", EMPTY)
    cache.put(1, "b", OTHER)
    assert (len(cache), cache.get(1, "a"), cache.get(1, "b")) == (1, None, OTHER)


def test_capacity_zero_keeps_nothing_and_negative_is_refused() -> None:
    cache = StateCache(0)
    cache.put(1, "a", EMPTY)
    assert (len(cache), cache.get(1, "a")) == (0, None)
    with pytest.raises(ValueError, match="capacity must be 0 or more, got -1"):
        StateCache(-1)
