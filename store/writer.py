"""Write transactions run off the event loop: on SQLite, in one thread with its own loop and connection.

Why: through aiosqlite every statement is a round trip to the connection's thread (several
queue hand-offs and GIL switches per statement), which made a one-event ingest transaction
cost ~4 ms of CPU. Here the whole transaction runs in one thread whose event loop serves only
these transactions, on a connection that calls sqlite3 directly: one hand-off per transaction,
and the caller's loop never blocks (sqlite3 releases the GIL while it waits for the file lock).
On PostgreSQL the work simply runs on the caller's loop with the normal sessions.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from functools import partial
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from store.engine import JSON_CODECS, SessionFactory, async_url, session_factory, sqlite_events

T = TypeVar("T")
Work = Callable[[SessionFactory], Awaitable[T]]


class _InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the calling thread (the writer's own loop).

    aiosqlite funnels every call through ``_execute``; running it inline removes the thread
    round trip. The connection's own thread still opens the sqlite3 connection and serves the
    rare calls SQLAlchemy queues to it directly (setting the isolation level at connect).
    """

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def _inline_engine(url: str) -> AsyncEngine:
    database = make_url(async_url(url)).database or ":memory:"
    connector = partial(sqlite3.connect, database, timeout=30, check_same_thread=False)

    async def connect() -> aiosqlite.Connection:
        connection = _InlineConnection(connector, 64)
        # As SQLAlchemy does for its own aiosqlite connections: never keep the process alive.
        connection._thread.daemon = True
        return await connection

    engine = create_async_engine(async_url(url), async_creator=connect, **JSON_CODECS)
    for name, listener in [*sqlite_events(), ("connect", _writer_pragmas)]:
        event.listen(engine.sync_engine, name, listener)
    return engine


# The writer connection's page cache, in KiB (SQLite's default is 2 MiB): a 500-event batch
# touches some 1,500 pages (event rows, two event indexes, the leads), which a 2 MiB cache
# evicts and reads again within the same transaction.
WRITER_CACHE_KIB = 64 * 1024


def _writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
    cursor.close()


class Writer:
    """Runs write transactions: ``await writer.run(work)`` where ``work(sessions)`` is a coroutine.

    ``work`` must only use the session factory it is given (on SQLite it runs on another loop
    in another thread, so it must not touch objects bound to the caller's loop).
    """

    def __init__(self, url: str, sessions: SessionFactory) -> None:
        self._url = url
        self._sqlite = make_url(url).get_backend_name() == "sqlite"
        self._sessions = sessions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._engine: AsyncEngine | None = None
        self._thread_sessions: SessionFactory | None = None
        self._lock = threading.Lock()

    async def run(self, work: Work[T]) -> T:
        """Run ``work`` with a session factory; returns its result or raises its exception."""
        if not self._sqlite:
            return await work(self._sessions)
        loop, sessions = self._start()
        future: Future[T] = asyncio.run_coroutine_threadsafe(_call(work, sessions), loop)
        return await asyncio.wrap_future(future)

    def _start(self) -> tuple[asyncio.AbstractEventLoop, SessionFactory]:
        with self._lock:
            if self._loop is None or self._thread_sessions is None:
                loop = asyncio.new_event_loop()
                self._engine = _inline_engine(self._url)
                self._thread_sessions = session_factory(self._engine)
                self._thread = threading.Thread(
                    target=loop.run_forever, name="mqlbot-sqlite-writer", daemon=True
                )
                self._thread.start()
                self._loop = loop
            return self._loop, self._thread_sessions

    async def close(self) -> None:
        """Close the writer's connection and stop its thread (a later ``run`` starts them again)."""
        with self._lock:
            loop, thread, engine = self._loop, self._thread, self._engine
            self._loop = self._thread = self._engine = self._thread_sessions = None
        if loop is None or thread is None or engine is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(engine.dispose(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)
        loop.close()


async def _call(work: Work[T], sessions: SessionFactory) -> T:
    return await work(sessions)
