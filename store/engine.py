"""Async engines and sessions: SQLite (WAL, busy timeout, immediate write locks) or PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from store.types import json_text

SessionFactory = async_sessionmaker[AsyncSession]
READ_ONLY = {"mqlbot_read_only": True}


def async_url(url: str) -> str:
    """Pick the async driver for a configured URL (sqlite -> aiosqlite, postgresql -> psycopg)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(
        f"database_url: unsupported database {backend!r}; use sqlite:// or postgresql://"
    )


def sync_url(url: str) -> str:
    """The same database through a synchronous driver (used by migrations)."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    driver = {"sqlite": "sqlite", "postgresql": "postgresql+psycopg"}.get(backend)
    if driver is None:
        raise ValueError(
            f"database_url: unsupported database {backend!r}; use sqlite:// or postgresql://"
        )
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


# WAL pages after which a commit copies them back into the database file (SQLite's default is
# 1,000). A 500-event ingest batch dirties ~1,400 pages, so with the default every batch also
# checkpointed; less often, a page rewritten by several batches is copied once (bench_ingest:
# the commit's cost halved). The same on every connection: a commit of any other connection (a
# Claim click) past the bound would otherwise do the ingest's checkpoint for it. Bounds the WAL
# file to ~40 MiB between checkpoints.
CHECKPOINT_PAGES = 10_000


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy own transaction boundaries so "begin" below decides the lock mode.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # The busy timeout first: switching a fresh file to WAL needs a lock another connection
    # may hold at that moment, and without the timeout that fails at once.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_PAGES}")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front: a read-then-write transaction can otherwise
    # fail with "database is locked" instead of waiting. Read-only work opts out.
    if conn.get_execution_options().get("mqlbot_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def sqlite_events() -> list[tuple[str, Any]]:
    """The engine event listeners every SQLite engine of the bot needs (pragmas, BEGIN IMMEDIATE)."""
    return [("connect", _sqlite_pragmas), ("begin", _sqlite_begin)]


# How every engine writes JSON columns (the same text the raw SQLite writes produce). Reads
# keep the standard decoder: orjson would turn an integer beyond 64 bits into a float.
JSON_CODECS: dict[str, Any] = {"json_serializer": json_text}


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine for the configured URL, set up for concurrent use."""
    target = async_url(url)
    if target.startswith("sqlite"):
        engine = create_async_engine(target, echo=echo, connect_args={"timeout": 30}, **JSON_CODECS)
        for name, listener in sqlite_events():
            event.listen(engine.sync_engine, name, listener)
        return engine
    return create_async_engine(
        target,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        **JSON_CODECS,
    )


def session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
