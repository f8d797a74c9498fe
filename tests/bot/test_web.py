"""The HTTP app: health, metrics, and Slack's signature check on /slack/events."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.runtime import Runtime
from bot.settings import load_settings
from bot.slack_app import build_bolt_app
from bot.web import create_web_app

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
async def web(config_file: Path, sqlite_url: str) -> AsyncIterator[FastAPI]:
    settings = load_settings(
        config_file,
        database_url=sqlite_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        slack_api_url="http://127.0.0.1:9/api/",
    )
    runtime = Runtime.build(settings)
    yield create_web_app(runtime)
    await runtime.close()


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot")


def _signed(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> dict[str, str]:
    base = f"v0:{timestamp}:{body}".encode()
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
        "Content-Type": "application/json",
    }


CHALLENGE = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"})


async def test_healthz_reports_the_database(web: FastAPI) -> None:
    async with _client(web) as client:
        response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_metrics_are_prometheus_text(web: FastAPI) -> None:
    async with _client(web) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert "# TYPE mqlbot_events_received_total counter" in response.text
    assert response.headers["content-type"].startswith("text/plain")


async def test_correctly_signed_slack_request_is_accepted(web: FastAPI) -> None:
    async with _client(web) as client:
        response = await client.post(
            "/slack/events", content=CHALLENGE, headers=_signed(CHALLENGE, int(time.time()))
        )
    assert response.status_code == 200
    assert response.json() == {"challenge": "c-123"}


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda: {"Content-Type": "application/json"}, id="unsigned"),
        pytest.param(lambda: _signed(CHALLENGE, int(time.time()), "forged-secret"), id="forged"),
        pytest.param(lambda: _signed(CHALLENGE, int(time.time()) - 6 * 60), id="six-minutes-old"),
    ],
)
async def test_bad_slack_signatures_get_401(web: FastAPI, headers: object) -> None:
    async with _client(web) as client:
        response = await client.post("/slack/events", content=CHALLENGE, headers=headers())  # type: ignore[operator]
    assert response.status_code == 401


async def test_building_the_slack_app_logs_no_warning_about_the_token(
    config_file: Path,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Bolt reads SLACK_BOT_TOKEN from the environment even though it is given the bot's client.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-web-test")
    settings = load_settings(
        config_file,
        database_url=sqlite_url,
        SLACK_BOT_TOKEN="xoxb-web-test",
        SLACK_SIGNING_SECRET="web-test-secret",
    )
    runtime = Runtime.build(settings)
    try:
        with caplog.at_level(logging.DEBUG):
            build_bolt_app(runtime)
    finally:
        await runtime.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
