"""`mqlbot import events`: a file or stdin, the summary, bad lines by number, resuming."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from typer.testing import CliRunner

from bot.cli import app
from store.engine import sync_url
from tests.handlers.ingest.test_backfill import history, jsonl

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'import.db'}"
    monkeypatch.setenv("MQLBOT_DATABASE_URL", url)
    return url


def stored_events(url: str) -> int:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        count = int(conn.execute(text("SELECT count(*) FROM event")).scalar_one())
    engine.dispose()
    return count


def test_a_file_is_imported_with_a_summary_and_a_second_run_resumes_at_its_end(
    config_file: Path, database: str, tmp_path: Path
) -> None:
    source = tmp_path / "history.jsonl"
    source.write_bytes(jsonl(history(500)))
    args = ["import", "events", str(source), "--config", str(config_file), "--batch-size", "200"]

    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "imported 500 events (0 duplicates" in first.stdout
    assert "events/s" in first.stdout
    assert "line 500" in first.stderr  # the progress line's final state
    assert stored_events(database) == 500

    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "imported 0 events" in again.stdout
    assert "resumed after line 500" in again.stdout

    restarted = runner.invoke(app, [*args, "--restart", "--no-progress"])
    assert "imported 0 events (500 duplicates" in restarted.stdout
    assert restarted.stderr == ""


def test_stdin_with_bad_lines_lists_them_and_exits_1(config_file: Path, database: str) -> None:
    lines = jsonl(history(30)).splitlines(keepends=True)
    lines[6] = json.dumps({"id": "x", "type": "email_opened"}).encode() + b"\n"
    result = runner.invoke(
        app,
        ["import", "events", "-", "--config", str(config_file), "--batch-size", "10"],
        input=b"".join(lines),
    )
    assert result.exit_code == 1
    assert "line 7: occurred_at: Field required" in result.stderr
    assert "line 7: lead: Field required" in result.stderr
    assert "nothing stored from line 1 on" in result.stderr
    assert stored_events(database) == 0


def test_a_missing_file_is_named(config_file: Path, database: str) -> None:
    result = runner.invoke(app, ["import", "events", "nope.jsonl", "--config", str(config_file)])
    assert result.exit_code == 2
    assert "nope.jsonl: no such file" in result.stderr
