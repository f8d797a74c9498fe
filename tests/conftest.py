"""Shared fixtures: a fixed clock, a migrated SQLite database per test, and a PostgreSQL database per run."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import SessionFactory, create_engine, session_factory
from store.migrate import upgrade

NOW = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)  # Tue 24 Nov 2026 10:15 in Tokyo
POSTGRES_URL = os.environ.get(
    "MQLBOT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database file of this test's own."""
    url = f"sqlite:///{tmp_path / 'mqlbot.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(sqlite_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> SessionFactory:
    return session_factory(engine)


def _admin_conninfo() -> str:
    return POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL admin URL; skips (fails in CI) when no server answers."""
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL not reachable at {POSTGRES_URL} (set MQLBOT_TEST_POSTGRES_URL): {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return _admin_conninfo()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database of this test's own, dropped afterwards."""
    name = f"mqlbot_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(postgres_url)
    yield eng
    await eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's Slack credentials, mqlbot settings or ./mqlbot.toml."""
    for name in list(os.environ):
        if (name.startswith("MQLBOT_") and not name.startswith("MQLBOT_TEST_")) or name.startswith(
            "SLACK_"
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


MINIMAL_TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
managers = ["U0MGR"]
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A minimal valid configuration file."""
    path = tmp_path / "mqlbot.toml"
    path.write_text(MINIMAL_TOML, encoding="utf-8")
    return path
