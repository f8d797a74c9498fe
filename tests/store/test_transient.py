"""retry_transient: a transaction the database dropped runs again; a refused one does not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from store.transient import retry_transient


def dropped() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("terminating connection"))


async def test_work_dropped_by_the_database_runs_again_until_it_succeeds() -> None:
    calls: list[int] = []

    async def work() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise dropped()
        return "done"

    assert await retry_transient(work, what="test", delays=(0, 0, 0)) == "done"
    assert len(calls) == 3


async def test_a_refusal_by_the_database_is_not_retried() -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate key"))

    with pytest.raises(IntegrityError):
        await retry_transient(work, what="test", delays=(0, 0))
    assert len(calls) == 1


async def test_a_database_that_stays_away_fails_after_the_last_delay() -> None:
    calls: list[int] = []

    async def work() -> None:
        calls.append(1)
        raise dropped()

    with pytest.raises(OperationalError):
        await retry_transient(work, what="test", delays=(0, 0))
    assert len(calls) == 3
