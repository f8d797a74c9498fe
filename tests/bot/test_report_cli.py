"""`mqlbot report funnel`: the same figures as the digest, as a table, CSV or JSON."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from store.engine import create_engine, session_factory
from tests.store.test_funnel import seed_funnel

runner = CliRunner()


def _seed(url: str) -> None:
    async def go() -> None:
        engine = create_engine(url)
        await seed_funnel(session_factory(engine))
        await engine.dispose()

    asyncio.run(go())


@pytest.fixture
def seeded_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    _seed(sqlite_url)
    monkeypatch.setenv("MQLBOT_DATABASE_URL", sqlite_url)
    return sqlite_url


def run(config_file: Path, *args: str) -> str:
    result = runner.invoke(
        app, ["report", "funnel", "--config", str(config_file), "--from", "2026-11-01",
              "--to", "2026-11-30", *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout


def test_csv_by_source(config_file: Path, seeded_db: str) -> None:
    rows = list(csv.DictReader(io.StringIO(run(config_file, "--format", "csv"))))
    assert [(r["group"], r["mqls"], r["sql"], r["opportunities"], r["won"]) for r in rows] == [
        ("ads", "2", "0", "0", "0"),
        ("webinar", "2", "2", "2", "1"),
        ("(none)", "1", "1", "1", "0"),
        ("TOTAL", "5", "3", "3", "1"),
    ]
    total = rows[-1]
    assert (total["pipeline"], total["won_amount"], total["won_rate"]) == (
        "USD 32100.75", "JPY 3200000", "20.0%",
    )  # fmt: skip


def test_json_keeps_amounts_exact_per_currency(config_file: Path, seeded_db: str) -> None:
    data = json.loads(run(config_file, "--format", "json", "--by", "band"))
    assert [g["group"] for g in data["groups"]] == ["below", "low", "mid", "high"]
    assert data["total"]["pipeline"] == {"USD": "32100.75"}
    assert data["median_seconds_mql_to_opportunity"] == 3 * 86400
    assert data["not_from_mql"]["won_amount"] == {"EUR": "500.00"}


def test_table(config_file: Path, seeded_db: str) -> None:
    lines = run(config_file, "--by", "campaign").splitlines()
    assert lines[0].split() == [
        "group", "mqls", "sql", "sql_rate", "opportunities", "opportunity_rate", "won",
        "won_rate", "pipeline", "won_amount",
    ]  # fmt: skip
    assert lines[-1].split()[:5] == ["TOTAL", "5", "3", "60.0%", "3"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "colour"], "--by 'colour': use one of source, campaign, band"),
        (["--format", "xml"], "--format 'xml': use one of table, csv, json"),
        (["--from", "yesterday"], "'yesterday' is neither a date"),
        (["--from", "2026-12-05", "--to", "2026-12-01"], "must be after --from"),
    ],
)
def test_bad_arguments_exit_non_zero_saying_why(
    config_file: Path, seeded_db: str, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["report", "funnel", "--config", str(config_file), *args])
    assert result.exit_code != 0
    assert message in result.stderr


def test_calibration_refuses_on_too_few_outcomes(config_file: Path, seeded_db: str) -> None:
    result = runner.invoke(
        app, ["report", "calibration", "--config", str(config_file), "--days", "3650"]
    )
    assert result.exit_code == 0, result.output
    assert "closed outcomes: 5" in result.stdout
    assert "Not enough outcomes to advise: needs >= 30 closed outcomes." in result.stdout


def test_calibration_replays_the_stored_outcomes(
    config_file: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from store.models import Lead, Mql

    async def seed() -> None:
        engine = create_engine(sqlite_url)
        sessions = session_factory(engine)
        recent = datetime.now(UTC) - timedelta(days=10)
        async with sessions() as session, session.begin():
            session.add_all(
                [
                    Lead(id=i, key=f"id:c{i}", created_at=recent, updated_at=recent)
                    for i in range(40)
                ]
            )
            await session.flush()
            session.add_all(
                [
                    Mql(lead_id=i, created_at=recent, updated_at=recent, kind="threshold",
                        score=105 if i < 15 else 140,
                        state="disqualified" if i < 15 else "sql",
                        bad_reason="no_fit" if i < 5 else None)
                    for i in range(40)
                ]
            )  # fmt: skip
        await engine.dispose()

    asyncio.run(seed())
    monkeypatch.setenv("MQLBOT_DATABASE_URL", sqlite_url)
    result = runner.invoke(
        app, ["report", "calibration", "--config", str(config_file), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["sample"], data["closed_outcomes"], data["enough"]) == (40, 40, True)
    by = {c["threshold"]: c for c in data["candidates"]}
    assert (by[110.0]["removed"], by[110.0]["sql"], by[110.0]["saved_hours"]) == (15, 25, 7.5)
    assert data["advice"] == 125.0
