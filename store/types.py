"""Column types: timezone-aware UTC datetimes on every backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; refuses naive ones; always returns aware UTC datetimes.

    SQLite has no time zone type, so values are normalised to UTC before they are written and
    tagged as UTC when read back; PostgreSQL uses ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: all times must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_datetime(value: datetime) -> str:
    """The text UTCDateTime stores on SQLite, for raw DBAPI writes that skip per-row type processing.

    SQLAlchemy's SQLite DATETIME always writes microseconds (``YYYY-MM-DD HH:MM:SS.ffffff``), so
    rows written either way read back identically.
    """
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: all times must be timezone-aware")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def from_sqlite_datetime(text: str | None) -> datetime | None:
    """A time as UTCDateTime reads it back from SQLite's text (aware, UTC), for raw DBAPI reads."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def json_text(value: Any) -> str:
    """The JSON text stored in JSON columns (every engine's serializer, and raw SQLite writes).

    orjson, ~5x the standard encoder on a lead's scoring state; compact, UTF-8 rather than
    \\u escapes. Integers beyond 64 bits, which orjson refuses, fall back to the standard encoder.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)
