"""The per-item loop of the sweeping jobs: read a batch of keys, one transaction per item, count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from store.engine import SessionFactory

Key = TypeVar("Key")


async def sweep(
    sessions: SessionFactory,
    *,
    read: Callable[[AsyncSession, Key | None, int], Awaitable[Sequence[Key]]],
    apply: Callable[[AsyncSession, Key], Awaitable[str]],
    batch: int,
    on_failure: Callable[[Key], None],
) -> dict[str, Any]:
    """Apply ``apply`` to every key ``read`` returns, batch by batch; return counts by outcome.

    ``read(session, after, limit)`` gives up to ``limit`` keys after the keyset ``after`` (None
    first), so a key that fails or stays due is not read twice in one run. Each key gets its
    own transaction: one that raises is rolled back, reported through ``on_failure`` and
    counted as ``failed``, and the rest go on.
    """
    counts: Counter[str] = Counter()
    after: Key | None = None
    while True:
        async with sessions() as session:
            keys = await read(session, after, batch)
        for key in keys:
            after = key
            try:
                async with sessions() as session, session.begin():
                    outcome = await apply(session, key)
            except Exception:  # one failing item never stops the batch
                on_failure(key)
                outcome = "failed"
            counts[outcome] += 1
        if len(keys) < batch:
            break
    return {"checked": sum(counts.values()), **dict(sorted(counts.items()))}
