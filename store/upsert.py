"""INSERT ... ON CONFLICT DO NOTHING on SQLite and PostgreSQL alike (unique keys make writes idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlmodel.ext.asyncio.session import AsyncSession


def insert_ignore(session: AsyncSession, table: Table, conflict: list[str]) -> Insert:
    """An INSERT for `table` that silently skips rows clashing on the `conflict` columns."""
    if dialect_of(session) == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)


async def insert_returning_id(
    session: AsyncSession, table: Table, conflict: list[str], values: dict[str, Any]
) -> int | None:
    """Insert one row unless it clashes; return its new id, or None when it already existed."""
    stmt = insert_ignore(session, table, conflict).values(**values).returning(table.c.id)
    result = await session.exec(stmt)
    row = result.first()
    return None if row is None else int(row[0])


def dialect_of(session: AsyncSession) -> str:
    """The session's database dialect name ("sqlite" or "postgresql")."""
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def table_of(model: type[Any]) -> Table:
    """The SQLAlchemy table behind a SQLModel class (typed for mypy)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
