"""Backfill checkpoints: how far a named import got, advanced in the same transaction as each batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import ImportCheckpoint
from store.upsert import insert_ignore, table_of

CHECKPOINT = table_of(ImportCheckpoint)


class CheckpointConflict(Exception):
    """Another import of the same name moved the checkpoint meanwhile (two runs at once)."""


@dataclass(frozen=True)
class Position:
    """A point in an import's input, and the totals stored up to it."""

    line: int  # lines consumed (the next line to read is line + 1)
    byte_offset: int
    digest: str  # SHA-256 (hex) of the input's first byte_offset bytes
    accepted: int = 0
    duplicates: int = 0
    mqls: int = 0


@dataclass(frozen=True)
class Checkpoint:
    """A stored checkpoint: its position, when the import started, and when it finished (if)."""

    name: str
    position: Position
    started_at: datetime
    finished_at: datetime | None


async def get_checkpoint(session: AsyncSession, *, name: str) -> Checkpoint | None:
    """The checkpoint of the import called `name`, if one ran."""
    row = (
        await session.exec(select(ImportCheckpoint).where(col(ImportCheckpoint.name) == name))
    ).first()
    if row is None:
        return None
    position = Position(
        row.line, row.byte_offset, row.digest, row.accepted, row.duplicates, row.mqls
    )
    return Checkpoint(row.name, position, row.started_at, row.finished_at)


async def advance_checkpoint(
    session: AsyncSession,
    *,
    name: str,
    previous: Position | None,
    to: Position,
    now: datetime,
    finished: bool = False,
) -> None:
    """Move the checkpoint from `previous` (None: a new import) to `to`, in the caller's transaction.

    The row is only moved from exactly where this import left it, so two runs of one import at
    once cannot both advance it: the second gets CheckpointConflict (and its batch rolls back).
    """
    values = {
        "line": to.line,
        "byte_offset": to.byte_offset,
        "digest": to.digest,
        "accepted": to.accepted,
        "duplicates": to.duplicates,
        "mqls": to.mqls,
        "updated_at": now,
        "finished_at": now if finished else None,
    }
    if previous is None:
        stmt = insert_ignore(session, CHECKPOINT, ["name"]).values(
            name=name, started_at=now, **values
        )
        result = await session.exec(stmt.returning(CHECKPOINT.c.name))
        if result.first() is None:
            raise CheckpointConflict(f"import {name!r} was started meanwhile by another run")
        return
    result = await session.exec(
        update(CHECKPOINT)
        .where(
            CHECKPOINT.c.name == name,
            CHECKPOINT.c.line == previous.line,
            CHECKPOINT.c.byte_offset == previous.byte_offset,
        )
        .values(**values)
    )
    if result.rowcount != 1:
        raise CheckpointConflict(f"import {name!r} was moved meanwhile by another run")


async def forget_checkpoint(session: AsyncSession, *, name: str) -> None:
    """Drop the checkpoint of `name` (an import started again from its first line)."""
    await session.exec(delete(CHECKPOINT).where(CHECKPOINT.c.name == name))
