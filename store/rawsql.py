"""Raw driver statements for the ingest's hot path, where SQLAlchemy's statement building cost more than the database.

Rendering an expanding ``IN (...)`` of a batch's hundreds of keys, and processing each result
row and parameter, took longer than SQLite's index lookups themselves, and on PostgreSQL than
the server's work. These helpers send plain SQL through the session's own connection (so inside
its transaction): ``?`` marks on SQLite; on PostgreSQL ``%s`` marks, with whole columns passed
as arrays (``= ANY(%s)``, ``unnest(%s, ...)``) or many rows pipelined, one round trip per
statement whatever the batch size. The SQL text is always built from constants in this package; values only ever travel as
parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

# Values per IN (...): SQLite allows 32,766 variables per statement; stay far below.
CHUNK = 900


async def rows_in(session: AsyncSession, sql: str, values: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (whose one ``{marks}`` is the IN list) for ``values``, in chunks.

    Rows come chunk by chunk: an ORDER BY in ``sql`` orders each chunk's rows only.
    """
    conn = await session.connection()
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        result = await conn.exec_driver_sql(
            sql.format(marks=", ".join("?" * len(chunk))), tuple(chunk)
        )
        rows.extend(tuple(row) for row in result.all())
    return rows


async def _psycopg(session: AsyncSession) -> AsyncConnection[Any]:
    """The psycopg connection under the session's, in the session's transaction."""
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, AsyncConnection)
    return driver


async def pg_rows(session: AsyncSession, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """The rows of one PostgreSQL statement with ``%s`` parameters, run on the raw connection.

    Never a prepared statement: psycopg prepares a statement after a few runs, and PostgreSQL's
    generic plan for ``= ANY($1)`` does not know the array's length, so it scanned whole tables
    (bench_ingest: PostgreSQL's CPU per event went up five-fold). Planning each run costs less.
    """
    async with (await _psycopg(session)).cursor() as cursor:
        await cursor.execute(sql, params, prepare=False)
        return await cursor.fetchall() if cursor.description is not None else []


async def pg_executemany(session: AsyncSession, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """One PostgreSQL statement for many parameter rows, pipelined by psycopg (one round trip)."""
    async with (await _psycopg(session)).cursor() as cursor:
        await cursor.executemany(sql, rows)
