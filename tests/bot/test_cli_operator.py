"""What an operator sees first: the missing-configuration message, `--help`, and `jobs run`'s output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import JOB_NAMES, app

runner = CliRunner()
COMMANDS = [
    [],
    ["serve"],
    ["worker"],
    ["socket"],
    ["demo"],
    ["db", "upgrade"],
    ["jobs", "run"],
    ["manifest"],
    ["config", "check"],
]


def test_config_check_without_configuration_names_the_file_and_the_required_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["config", "check"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"no configuration file at {tmp_path / 'mqlbot.toml'}" in lines[0]
    assert "--config or MQLBOT_CONFIG" in lines[0]
    assert "required keys: slack.sdr_channel, slack.marketing_channel" in lines[0]
    assert "MQLBOT_SLACK__SDR_CHANNEL, MQLBOT_SLACK__MARKETING_CHANNEL" in lines[0]


def test_a_file_lacking_a_required_key_is_named_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text('[slack]\nmarketing_channel = "C2"\n', encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"mqlbot: config: slack.sdr_channel: required but not set "
        f"(in {path}, or as MQLBOT_SLACK__SDR_CHANNEL)"
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "mqlbot")
def test_help_names_values_without_type_tags(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert not re.search(r"<\w+>", result.stdout), result.stdout
    assert "--help  " in result.stdout or "--help\n" in result.stdout


def test_help_shows_what_each_option_takes() -> None:
    demo = runner.invoke(app, ["demo", "--help"]).stdout
    assert "--language LANG" in demo
    assert "--config FILE" in demo
    assert "--keep DIR" in demo
    serve = runner.invoke(app, ["serve", "--help"]).stdout
    assert "--port PORT" in serve
    assert "--no-worker " in serve
    jobs = runner.invoke(app, ["jobs", "run", "--help"]).stdout
    assert "--at WHEN" in jobs
    assert all(name in jobs for name in JOB_NAMES)


def test_jobs_run_says_once_where_the_database_is_and_logs_no_migrations(
    tmp_path: Path, config_file: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MQLBOT_", "SLACK_"))}
    command = [sys.executable, "-c", "from bot.cli import main; main()", "jobs", "run", "nag"]
    command += ["--config", str(config_file)]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)  # noqa: S603
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)  # noqa: S603
    assert first.returncode == 0, first.stderr
    database = tmp_path / "mqlbot.db"
    assert first.stderr == f"mqlbot: database {database} (SQLite, new file)\n"
    assert again.stderr == f"mqlbot: database {database} (SQLite)\n"
    assert '"job": "nag"' in first.stdout
    assert database.exists()


@pytest.mark.parametrize("mode", [[], ["--script"]], ids=["page", "script"])
def test_demo_with_a_bad_configuration_stops_at_once_naming_the_key(
    tmp_path: Path, mode: list[str]
) -> None:
    path = tmp_path / "team.toml"
    path.write_text('[locale]\nlanguage = "fr"\n', encoding="utf-8")
    result = runner.invoke(app, ["demo", *mode, "--config", str(path)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "mqlbot: config: locale.language: Input should be 'en' or 'ja'"
    ]


def test_a_missing_key_inside_a_table_is_named_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "team.toml"
    path.write_text(
        '[slack]\nsdr_channel = "C1"\nmarketing_channel = "C2"\n'
        '[scoring.triggers.x]\nsteps = [{type = "page_visited"}]\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.stderr.strip() == (
        "mqlbot: config: scoring.triggers.x.within: required but not set "
        f"(in {path}, or as MQLBOT_SCORING__TRIGGERS__X__WITHIN)"
    )
