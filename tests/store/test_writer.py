"""The writer runs SQLite write transactions in its own thread; what it commits the bot's engine reads."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlmodel.ext.asyncio.session import AsyncSession

from store.engine import CHECKPOINT_PAGES, SessionFactory
from store.writer import WRITER_CACHE_KIB, Writer


async def _insert_lead(session: AsyncSession, key: str) -> None:
    await session.exec(  # type: ignore[call-overload]
        text(
            "INSERT INTO lead (key, stage, score, score_state, created_at, updated_at)"
            " VALUES (:key, 'target', 0, '{}', '2026-01-01', '2026-01-01')"
        ),
        params={"key": key},
    )


async def _keys(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        rows = await session.exec(text("SELECT key FROM lead ORDER BY key"))  # type: ignore[call-overload]
        return [str(r[0]) for r in rows.all()]


async def test_sqlite_work_runs_in_the_writer_thread_and_commits(
    sqlite_url: str, sessions: SessionFactory
) -> None:
    writer = Writer(sqlite_url, sessions)

    async def work(factory: SessionFactory) -> str:
        async with factory() as session, session.begin():
            await _insert_lead(session, "id:w1")
        return threading.current_thread().name

    try:
        assert await writer.run(work) == "mqlbot-sqlite-writer"
        assert await _keys(sessions) == ["id:w1"]
    finally:
        await writer.close()


async def test_a_failed_transaction_raises_to_the_caller_and_leaves_nothing(
    sqlite_url: str, sessions: SessionFactory
) -> None:
    writer = Writer(sqlite_url, sessions)

    async def work(factory: SessionFactory) -> None:
        async with factory() as session, session.begin():
            await _insert_lead(session, "id:w2")
            raise LookupError("lead w2 is wrong")

    try:
        with pytest.raises(LookupError, match="lead w2 is wrong"):
            await writer.run(work)
        assert await _keys(sessions) == []
    finally:
        await writer.close()


async def test_a_closed_writer_starts_again_on_the_next_run(
    sqlite_url: str, sessions: SessionFactory
) -> None:
    writer = Writer(sqlite_url, sessions)

    async def work(factory: SessionFactory) -> None:
        async with factory() as session, session.begin():
            await _insert_lead(session, f"id:w{len(await _keys(factory))}")

    await writer.run(work)
    await writer.close()
    await writer.run(work)
    await writer.close()
    await writer.close()  # closing twice is harmless
    assert await _keys(sessions) == ["id:w0", "id:w1"]


async def test_postgresql_work_runs_on_the_callers_loop(postgres_url: str) -> None:
    from store.engine import create_engine, session_factory

    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    writer = Writer(postgres_url, sessions)

    async def work(factory: SessionFactory) -> str:
        assert factory is sessions
        async with factory() as session, session.begin():
            await _insert_lead(session, "id:pg")
        return threading.current_thread().name

    try:
        assert await writer.run(work) == threading.current_thread().name
        assert await _keys(sessions) == ["id:pg"]
    finally:
        await writer.close()
        await engine.dispose()


async def _pragmas(factory: SessionFactory) -> tuple[int, int]:
    async with factory() as session:
        checkpoint = (await session.exec(text("PRAGMA wal_autocheckpoint"))).one()  # type: ignore[call-overload]
        cache = (await session.exec(text("PRAGMA cache_size"))).one()  # type: ignore[call-overload]
        return int(checkpoint[0]), int(cache[0])


async def test_every_connection_checkpoints_alike_and_the_writer_has_a_large_cache(
    sqlite_url: str, sessions: SessionFactory
) -> None:
    writer = Writer(sqlite_url, sessions)
    try:
        in_writer = await writer.run(_pragmas)
    finally:
        await writer.close()
    # Other connections (a Claim click) must not do the ingest's checkpoints for it.
    assert await _pragmas(sessions) == (CHECKPOINT_PAGES, -2000)  # SQLite's default cache
    assert in_writer == (CHECKPOINT_PAGES, -WRITER_CACHE_KIB)
