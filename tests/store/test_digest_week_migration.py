"""Migration 0002 renames the digests already run so that no week is posted twice or skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from sqlalchemy import create_engine, pool, text

from bot.jobs import registry, run_in_slot
from bot.runtime import Runtime
from bot.settings import load_settings
from store.engine import sync_url
from store.migrate import alembic_config, upgrade

TOKYO = ZoneInfo("Asia/Tokyo")
BEFORE = "0001"
# What the digest job stored before: each week keyed by the week it was *sent* in.
OLD_SLOTS = {
    "2026-W49": datetime(2026, 11, 30, 9, tzinfo=TOKYO),  # reported 23-29 Nov (W48)
    "2026-W50": datetime(2026, 12, 7, 9, tzinfo=TOKYO),  # reported 30 Nov - 6 Dec (W49)
    "2027-W01": datetime(2027, 1, 4, 9, tzinfo=TOKYO),  # reported 28 Dec - 3 Jan (2026-W53)
}
OLD_KEYS = [
    ("digest:2026-W49", "digest:2026-W49"),
    ("digest:2026-W49:chart", "digest:2026-W49"),
    ("digest:2026-W50", "digest:2026-W50"),
    ("digest:2026-W50:chart", "digest:2026-W50"),
    ("digest:now:U0MGR:1764000000", "digest:now:U0MGR:1764000000"),  # `/mql digest`: not weekly
]
TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
[sla]
timezone = "Asia/Tokyo"
"""


def _at_old_revision(url: str) -> None:
    config = alembic_config(url)
    command.downgrade(config, BEFORE)
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    stamp = datetime(2026, 12, 7, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for slot in OLD_SLOTS:
            conn.execute(
                text(
                    "INSERT INTO job_run (job, slot, status, owner, attempts, started_at,"
                    " lease_until, finished_at, result) VALUES ('digest', :slot, 'done', 'old',"
                    " 1, :at, :at, :at, :result)"
                ),
                {"slot": slot, "at": stamp, "result": json.dumps({"week": slot})},
            )
        for key, target in OLD_KEYS:
            conn.execute(
                text(
                    "INSERT INTO outbox (dedupe_key, kind, channel, target_key, payload, status,"
                    " attempts, next_attempt_at, created_at) VALUES (:key, 'post', 'C0MKT',"
                    " :target, '{}', 'sent', 1, :at, :at)"
                ),
                {"key": key, "target": target, "at": stamp},
            )
    engine.dispose()


def _stored(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        slots = conn.execute(
            text("SELECT slot FROM job_run WHERE job = 'digest' ORDER BY slot")
        ).scalars()
        keys = conn.execute(text("SELECT dedupe_key, target_key FROM outbox ORDER BY dedupe_key"))
        result = (list(slots), [(k, t) for k, t in keys])
    engine.dispose()
    return result


def test_already_run_digests_are_renamed_after_the_week_they_reported(any_db_url: str) -> None:
    _at_old_revision(any_db_url)
    upgrade(any_db_url)
    slots, keys = _stored(any_db_url)
    assert slots == ["2026-W48", "2026-W49", "2026-W53"]
    assert keys == [
        ("digest:2026-W48", "digest:2026-W48"),
        ("digest:2026-W48:chart", "digest:2026-W48"),
        ("digest:2026-W49", "digest:2026-W49"),
        ("digest:2026-W49:chart", "digest:2026-W49"),
        ("digest:now:U0MGR:1764000000", "digest:now:U0MGR:1764000000"),
    ]


def test_downgrade_gives_the_old_names_back(sqlite_url: str) -> None:
    _at_old_revision(sqlite_url)
    before = _stored(sqlite_url)
    upgrade(sqlite_url)
    command.downgrade(alembic_config(sqlite_url), BEFORE)
    assert _stored(sqlite_url) == before


@pytest.mark.parametrize("replayed", [datetime(2026, 12, 7, 9, tzinfo=TOKYO), None])
async def test_after_the_migration_no_week_is_posted_twice_or_skipped(
    any_db_url: str, tmp_path: Path, replayed: datetime | None
) -> None:
    _at_old_revision(any_db_url)
    upgrade(any_db_url)
    path = tmp_path / "team.toml"
    path.write_text(TOML, encoding="utf-8")
    runtime = Runtime.build(load_settings(path, database_url=any_db_url))
    digest = registry()["digest"]
    try:
        if replayed is not None:  # the week sent on 7 Dec, replayed: already done
            again = await run_in_slot(runtime, digest, replayed)
            assert (again["slot"], again["outcome"]) == ("2026-W49", "skipped")
        following = await run_in_slot(runtime, digest, datetime(2026, 12, 14, 9, tzinfo=TOKYO))
    finally:
        await runtime.close()
    assert (following["slot"], following["outcome"], following["queued"]) == ("2026-W50", "done", 1)
    slots, keys = _stored(any_db_url)
    assert slots == ["2026-W48", "2026-W49", "2026-W50", "2026-W53"]
    weekly = [k for k, _ in keys if not k.endswith(":chart") and ":now:" not in k]
    assert weekly == ["digest:2026-W48", "digest:2026-W49", "digest:2026-W50"]
