"""Lead events: idempotent bulk insert on the dedupe key, duplicate lookup, recent activity of a lead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Event
from store.rawsql import pg_rows, rows_in
from store.types import json_text, sqlite_datetime
from store.upsert import dialect_of, table_of

EVENT = table_of(Event)


class EventData(NamedTuple):
    """An event's own columns, known before any transaction (the lead and points come later).

    Build it with `EventData.of`, which computes the SQLite text of the time and properties
    once: the ingest builds it in the request's own task, outside the single writer's
    transaction. (A NamedTuple: one is built per received event, and cheaply.)
    """

    dedupe_key: str
    type: str
    occurred_at: datetime
    properties: Mapping[str, Any]
    score: float | None
    score_delta: float | None
    occurred_text: str
    properties_text: str

    @classmethod
    def of(
        cls,
        dedupe_key: str,
        type: str,
        occurred_at: datetime,
        properties: Mapping[str, Any],
        score: float | None = None,
        score_delta: float | None = None,
    ) -> EventData:
        """The data of one event, with its stored texts computed."""
        return cls(
            dedupe_key,
            type,
            occurred_at,
            properties,
            score,
            score_delta,
            sqlite_datetime(occurred_at),
            json_text(properties),
        )


class NewEvent(NamedTuple):
    """One event to store: its data, its lead, and the points the scoring engine gave it."""

    data: EventData
    lead_id: int
    points: float


async def known_keys(session: AsyncSession, *, dedupe_keys: Iterable[str]) -> set[str]:
    """Which of these dedupe keys are already stored (duplicates)."""
    keys = sorted(set(dedupe_keys))
    if dialect_of(session) == "sqlite":
        sql = "SELECT dedupe_key FROM event WHERE dedupe_key IN ({marks})"
        return {str(key) for (key,) in await rows_in(session, sql, keys)}
    rows = await pg_rows(session, "SELECT dedupe_key FROM event WHERE dedupe_key = ANY(%s)", [keys])
    return {str(key) for (key,) in rows}


async def insert_events(
    session: AsyncSession, *, events: Sequence[NewEvent], received_at: datetime
) -> set[str]:
    """Insert events, skipping any whose dedupe key is already stored; return the keys inserted.

    ON CONFLICT DO NOTHING on the unique key: a copy inserted at the same moment by another
    replica is skipped by the database itself, never by a check-then-insert.
    """
    if not events:
        return set()
    if dialect_of(session) == "sqlite":
        return await _insert_sqlite(session, events, received_at)
    return await _insert_postgres(session, events, received_at)


# One statement for the whole batch: each column travels as one array (see store.rawsql).
_PG_INSERT = (
    "INSERT INTO event (dedupe_key, lead_id, type, occurred_at, received_at, score, score_delta,"
    " points, properties)"
    " SELECT k, l, t, o, %s, s, d, p, j::json FROM unnest("
    "%s::text[], %s::int[], %s::text[], %s::timestamptz[], %s::float8[], %s::float8[],"
    " %s::float8[], %s::text[]) AS u(k, l, t, o, s, d, p, j)"
    " ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key"
)


async def _insert_postgres(
    session: AsyncSession, events: Sequence[NewEvent], received_at: datetime
) -> set[str]:
    """INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING RETURNING: one round trip.

    Replaced SQLAlchemy's executemany, whose per-row parameter processing cost more than
    PostgreSQL's own work. The properties go as the same JSON text the column type would write.
    """
    data = [e for e, _, _ in events]
    rows = await pg_rows(
        session,
        _PG_INSERT,
        [
            received_at,
            [e.dedupe_key for e in data],
            [lead_id for _, lead_id, _ in events],
            [e.type for e in data],
            [e.occurred_at for e in data],
            [e.score for e in data],
            [e.score_delta for e in data],
            [points for _, _, points in events],
            [e.properties_text for e in data],
        ],
    )
    return {str(key) for (key,) in rows}


_SQLITE_INSERT = (
    "INSERT INTO event (dedupe_key, lead_id, type, occurred_at, received_at, score, score_delta,"
    " points, properties) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING"
)


async def _insert_sqlite(
    session: AsyncSession, events: Sequence[NewEvent], received_at: datetime
) -> set[str]:
    """One raw executemany: SQLAlchemy's per-row parameter processing was ~1/4 of a batch's CPU.

    Values are serialised exactly as the column types would (JSON text, SQLite DATETIME text).
    sqlite3 cannot RETURNING from executemany, so the inserted keys are the rows past the
    largest id seen before (SQLite's write lock, held since BEGIN, keeps others out meanwhile).
    """
    conn = await session.connection()
    before = (await conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM event")).scalar_one()
    at = sqlite_datetime(received_at)
    done = await conn.exec_driver_sql(
        _SQLITE_INSERT,
        [
            (
                e.dedupe_key,
                lead_id,
                e.type,
                e.occurred_text,
                at,
                e.score,
                e.score_delta,
                points,
                e.properties_text,
            )
            for e, lead_id, points in events
        ],
    )
    if done.rowcount == len(events):
        return {e.data.dedupe_key for e in events}
    rows = await conn.exec_driver_sql("SELECT dedupe_key FROM event WHERE id > ?", (before,))
    return {str(key) for (key,) in rows.all()}


@dataclass(frozen=True)
class Activity:
    """One stored event as a card lists it."""

    type: str
    occurred_at: datetime
    points: float
    properties: Mapping[str, Any]


async def recent_activities(
    session: AsyncSession, *, lead_id: int, limit: int = 20
) -> list[Activity]:
    """A lead's most recent events, newest first (uses the (lead_id, occurred_at) index)."""
    rows = await session.exec(
        select(EVENT.c.type, EVENT.c.occurred_at, EVENT.c.points, EVENT.c.properties)
        .where(EVENT.c.lead_id == lead_id)
        .order_by(EVENT.c.occurred_at.desc(), EVENT.c.id.desc())
        .limit(limit)
    )
    return [
        Activity(type=kind, occurred_at=at, points=points, properties=properties)
        for kind, at, points, properties in rows.all()
    ]


async def count_events(session: AsyncSession, *, lead_id: int) -> int:
    """How many events a lead has (the card says "+N more")."""
    rows = await session.exec(
        select(func.count()).select_from(EVENT).where(EVENT.c.lead_id == lead_id)
    )
    return int(rows.one())


async def delete_events_before(session: AsyncSession, *, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` events that occurred before ``before``, oldest ids first; how many.

    No index covers ``occurred_at`` alone (ingest would pay for one on every event); old events
    have the lowest ids, so each batch finds its rows near the start of the table.
    """
    oldest = (
        select(EVENT.c.id).where(EVENT.c.occurred_at < before).order_by(EVENT.c.id).limit(limit)
    )
    result = await session.exec(delete(EVENT).where(EVENT.c.id.in_(oldest.scalar_subquery())))
    return int(result.rowcount)
