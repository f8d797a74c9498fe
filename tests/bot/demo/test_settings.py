"""The demo reads the user's configuration like `serve`, under its own talk-to-the-stand-in settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.demo.page import demo_page
from bot.demo.run import (
    MARKETING_CHANNEL,
    SDR_CHANNEL,
    STANDIN_TOKEN,
    demo_language,
    demo_settings,
)
from bot.settings import ConfigError, Settings

REAL_WORKSPACE = """
database_url = "sqlite:///production.db"
[slack]
sdr_channel = "C0REALSDR"
marketing_channel = "C0REALMKT"
sdr_usergroup = "S0REAL"
managers = ["U0REALBOSS"]
[scoring]
mql_threshold = 80
[crm]
webhook_url = "https://crm.example.com/hook"
[locale]
language = "ja"
"""


def _settings(config: Path | None = None, language: str | None = None) -> Settings:
    return demo_settings(
        database_url="sqlite:///demo.db",
        slack_api_url="http://127.0.0.1:1/api/",
        signing_secret="demo-signing",
        webhook_secret="demo-webhook",
        language=language,
        config=config,
    )


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without mqlbot.toml and without MQLBOT_/SLACK_ variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("MQLBOT_LOCALE__LANGUAGE", "MQLBOT_DATABASE_URL", "MQLBOT_SLACK_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_configuration_the_demo_runs_on_its_own_defaults(isolated: Path) -> None:
    settings = _settings()
    assert settings.locale.language == "en"
    assert settings.sla.timezone == "Asia/Tokyo"
    assert settings.slack.sdr_channel == SDR_CHANNEL


def test_the_environment_switches_the_demo_to_japanese(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQLBOT_LOCALE__LANGUAGE", "ja")
    assert _settings().locale.language == "ja"


def test_the_default_file_in_the_working_directory_is_read(isolated: Path) -> None:
    (isolated / "mqlbot.toml").write_text('[locale]\nlanguage = "ja"\n', encoding="utf-8")
    assert _settings().locale.language == "ja"


def test_language_option_wins_over_file_and_environment(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated / "mqlbot.toml").write_text('[locale]\nlanguage = "ja"\n', encoding="utf-8")
    monkeypatch.setenv("MQLBOT_LOCALE__LANGUAGE", "ja")
    assert _settings(language="en").locale.language == "en"


def test_user_settings_layer_over_the_demo_defaults_table_by_table(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated / "team.toml"
    path.write_text(REAL_WORKSPACE + '[sla]\nclaim_within = "30m"\n', encoding="utf-8")
    monkeypatch.setenv("MQLBOT_SCORING__MQL_THRESHOLD", "90")
    settings = _settings(config=path)
    assert settings.locale.language == "ja"
    assert settings.scoring.mql_threshold == 90  # the environment wins over the file
    assert settings.sla.claim_within.total_seconds() == 30 * 60  # the user's key ...
    assert settings.sla.business_hours == "00:00-24:00"  # ... beside the demo's own
    assert settings.crm.lead_url_template == "https://crm.example.com/leads/{external_id}"


def test_a_real_workspace_in_the_configuration_never_reaches_the_demo(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = isolated / "team.toml"
    path.write_text(REAL_WORKSPACE, encoding="utf-8")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real-token")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-real-token")
    monkeypatch.setenv("MQLBOT_SLACK_API_URL", "https://slack.com/api/")
    monkeypatch.setenv("MQLBOT_DATABASE_URL", "postgresql://prod@db.example.com/mqlbot")
    settings = _settings(config=path)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == STANDIN_TOKEN
    assert settings.slack_app_token is None
    assert settings.slack_api_url == "http://127.0.0.1:1/api/"
    assert settings.database_url == "sqlite:///demo.db"
    assert (settings.slack.sdr_channel, settings.slack.marketing_channel) == (
        SDR_CHANNEL,
        MARKETING_CHANNEL,
    )
    assert settings.slack.sdr_usergroup is None
    assert "U0REALBOSS" not in settings.slack.managers
    assert settings.crm.webhook_url is None


def test_the_demo_language_is_resolved_before_it_starts(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert demo_language(None) == "en"
    monkeypatch.setenv("MQLBOT_LOCALE__LANGUAGE", "ja")
    assert demo_language(None) == "ja"
    assert demo_language(None, "en") == "en"
    monkeypatch.delenv("MQLBOT_LOCALE__LANGUAGE")
    (isolated / "bad.toml").write_text('[locale]\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"locale\.language"):
        demo_language(isolated / "bad.toml")


async def test_the_demo_page_runs_the_bot_on_the_user_configuration(isolated: Path) -> None:
    path = isolated / "team.toml"
    path.write_text(REAL_WORKSPACE, encoding="utf-8")
    async with demo_page("ja", config=path) as page:
        config = page.bot.runtime.config
        assert (config.language, config.rules.threshold) == ("ja", 80)
        assert config.sdr_channel == SDR_CHANNEL
        assert config.crm_webhook_url is None
