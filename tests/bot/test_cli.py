"""The command line: config check, bad settings, serve without credentials, manifest, db upgrade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from store.migrate import head_revision

runner = CliRunner()


def test_config_check_prints_settings_with_secrets_masked(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    monkeypatch.setenv("MQLBOT_SLA__CLAIM_WITHIN", "20m")
    result = runner.invoke(app, ["config", "check", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["slack"]["sdr_channel"] == "C0SDR"
    assert shown["sla"]["claim_within"] == "20m"  # the environment wins over the file
    assert shown["slack_bot_token"] == "********"
    assert shown["webhook_secret"] is None
    assert "xoxb-very-secret" not in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[slack]\nsdr_channel="C1"\nmarketing_channel="C2"\ncolour="red"\n',
            "config: slack.colour: unknown key",
        ),
        (
            '[slack]\nsdr_channel="C1"\nmarketing_channel="C2"\n[sla]\nclaim_within="fast"\n',
            "config: sla.claim_within: 'fast' is not a duration",
        ),
        ('[slack]\nmarketing_channel="C2"\n', "config: slack.sdr_channel: required but not set"),
        (
            '[slack]\nsdr_channel="C1"\nmarketing_channel="C2"\n[sla]\ntimezone="Mars/Base"\n',
            "config: sla.timezone: unknown time zone 'Mars/Base'",
        ),
        (
            '[slack]\nsdr_channel="C1"\nmarketing_channel="C2"\n[sla]\nbusiness_hours="9-6"\n',
            "business_hours '9-6'",
        ),
        ('webhook_secret = "s3cret"\n', "webhook_secret must not be in"),
        ("[slack\n", "is not valid TOML"),
    ],
)
def test_bad_settings_exit_non_zero_with_one_line_naming_the_key(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml, encoding="utf-8")
    result = runner.invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_missing_explicit_config_file_is_named(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2
    assert "nope.toml not found" in result.stderr


def test_serve_without_slack_credentials_points_to_the_demo(config_file: Path) -> None:
    result = runner.invoke(app, ["serve", "--config", str(config_file)])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in result.stderr
    assert "mqlbot demo" in result.stderr


def test_sender_needs_only_the_bot_token(config_file: Path) -> None:
    result = runner.invoke(app, ["sender", "--config", str(config_file)])
    assert result.exit_code == 2
    assert result.stderr.strip() == "mqlbot: no Slack credentials: set SLACK_BOT_TOKEN"


def test_sender_refuses_a_lease_not_longer_than_its_http_timeout(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    args = ["sender", "--config", str(config_file), "--lease", "5", "--http-timeout", "5"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "sender lease (0:00:05) must be longer than the HTTP timeout (5.0s)" in result.stderr
    assert "Traceback" not in result.output


def test_manifest_fills_request_urls() -> None:
    result = runner.invoke(app, ["manifest", "--url", "https://bot.example.com/"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["_metadata"]["major_version"] == 1
    assert (
        data["settings"]["interactivity"]["request_url"] == "https://bot.example.com/slack/events"
    )
    assert data["settings"]["event_subscriptions"]["request_url"] == (
        "https://bot.example.com/slack/events"
    )
    assert data["features"]["slash_commands"][0]["url"] == "https://bot.example.com/slack/events"


def test_manifest_refuses_a_non_https_url() -> None:
    result = runner.invoke(app, ["manifest", "--url", "http://bot.example.com"])
    assert result.exit_code == 2
    assert "public https://" in result.stderr


def test_socket_manifest_has_no_request_urls() -> None:
    result = runner.invoke(app, ["manifest", "--socket"])
    data = json.loads(result.stdout)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["interactivity"]
    assert "url" not in data["features"]["slash_commands"][0]


def test_db_upgrade_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQLBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.db'}")
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"database at revision {head_revision()}")
    assert (tmp_path / "fresh.db").exists()


def test_unknown_job_is_refused_with_the_list() -> None:
    result = runner.invoke(app, ["jobs", "run", "coffee"])
    assert result.exit_code == 2
    assert "unknown job 'coffee'; jobs: nag, digest, recycle, decay" in result.stderr


def test_job_time_without_offset_is_refused(config_file: Path) -> None:
    result = runner.invoke(app, ["jobs", "run", "nag", "--at", "2026-11-24T09:00:00"])
    assert result.exit_code == 2
    assert "has no time zone offset" in result.stderr
