"""Raw SQLite reads for the ingest's hot path, where SQLAlchemy's statement building cost more than SQLite.

Rendering an expanding ``IN (...)`` of a batch's hundreds of keys, and processing each result
row, took longer than SQLite's index lookups themselves. These helpers send plain SQL with
``?`` marks through the session's own connection (so inside its transaction). The SQL text is
always built from constants in this package; values only ever travel as parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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
