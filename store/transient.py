"""Running a transaction again when the database dropped it: a restart, a failover, a cut connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# About six seconds in all: longer than a database restart, shorter than a user's patience.
DELAYS = (0.1, 0.25, 0.5, 1.0, 2.0, 2.0)


def is_transient(exc: BaseException) -> bool:
    """Whether the database lost the transaction rather than refused it (retrying may succeed)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def retry_transient(
    work: Callable[[], Awaitable[T]], *, what: str, delays: tuple[float, ...] = DELAYS
) -> T:
    """Run ``work`` (one whole transaction, safe to repeat) until it is not lost to the database.

    Only for work that is idempotent against the stored state: a transaction whose commit was
    lost with its connection may have committed, and the repeat must then change nothing.
    """
    for delay in delays:
        try:
            return await work()
        except Exception as exc:
            if not is_transient(exc):
                raise
            log.warning("%s: the database dropped the transaction (%s); again in %.2f s",
                        what, type(exc.__cause__ or exc).__name__, delay)  # fmt: skip
        await asyncio.sleep(delay)
    return await work()
