"""Fixtures for the job tests: sessions on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from store.engine import SessionFactory, create_engine, session_factory


@pytest.fixture
async def db_sessions(any_db_url: str) -> AsyncIterator[SessionFactory]:
    """Sessions on a fresh migrated database, once SQLite and once PostgreSQL."""
    engine = create_engine(any_db_url)
    yield session_factory(engine)
    await engine.dispose()
