"""POST /webhooks/{source}: the tool adapters feed the same ingest; 404, 401 and ignored types."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.runtime import Runtime
from bot.web import create_web_app
from tests.handlers.ingest.builders import counts
from tests.handlers.ingest.conftest import RuntimeFactory

SEGMENT_SECRET = "segment-test-secret"


def track(message_id: str, event: str = "Asset Downloaded") -> dict[str, object]:
    return {
        "type": "track",
        "event": event,
        "messageId": message_id,
        "timestamp": "2026-11-24T01:00:00Z",
        "userId": "crm-00042",
        "context": {"traits": {"email": "aiko@example.co.jp"}},
        "properties": {"asset": "MA guide"},
    }


def segment_headers(raw: bytes, secret: str = SEGMENT_SECRET) -> dict[str, str]:
    signature = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": signature}


@pytest.fixture
async def app_runtime(
    make_runtime: RuntimeFactory,
    sqlite_url: str,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    monkeypatch.setenv("MQLBOT_SEGMENT_SECRET", SEGMENT_SECRET)
    with config_file.open("a", encoding="utf-8") as fh:
        fh.write("\n[sources.mautic]\nenabled = false\n")
    runtime = make_runtime(sqlite_url)
    transport = httpx.ASGITransport(app=create_web_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client, runtime


async def test_a_signed_segment_batch_is_ingested_and_unmapped_events_ignored(
    app_runtime: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = app_runtime
    first = track("m1")
    raw = json.dumps([first, track("m2", "Cart Viewed"), {"type": "identify"}]).encode()
    # Segment signs only the first element of a batch.
    headers = segment_headers(json.dumps(first).encode())
    response = await client.post("/webhooks/segment", content=raw, headers=headers)
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "mqls": [], "ignored": 2}
    again = await client.post("/webhooks/segment", content=raw, headers=headers)
    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": 1, "mqls": [], "ignored": 2}
    assert (await counts(runtime.sessions))["event"] == 1


async def test_a_tool_batch_of_more_than_1000_items_is_413_and_stores_nothing(
    app_runtime: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = app_runtime
    # 1,001 items the tool sent, one of them of a type mqlbot does not map: still too many.
    items = [track(f"m{i}") for i in range(1000)] + [track("x", "Cart Viewed")]
    raw = json.dumps(items).encode()
    headers = segment_headers(json.dumps(items[0]).encode())
    response = await client.post("/webhooks/segment", content=raw, headers=headers)
    assert response.status_code == 413
    assert response.json() == {"error": "too many events: 1001 > 1000", "limit": 1000}
    assert (await counts(runtime.sessions))["event"] == 0
    exactly = json.dumps(items[:1000]).encode()
    response = await client.post("/webhooks/segment", content=exactly, headers=headers)
    assert (response.status_code, response.json()["accepted"]) == (202, 1000)


async def test_a_bad_tool_signature_is_401(app_runtime: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, runtime = app_runtime
    raw = json.dumps(track("m1")).encode()
    response = await client.post(
        "/webhooks/segment", content=raw, headers=segment_headers(raw, "wrong")
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "reason": "X-Signature does not match the body",
    }
    assert (await counts(runtime.sessions))["event"] == 0


async def test_a_tool_without_its_secret_in_the_environment_is_refused(
    app_runtime: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, _ = app_runtime
    response = await client.post("/webhooks/hubspot", content=b"[]")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


@pytest.mark.parametrize("source", ["pipedrive", "mautic"], ids=["unknown", "disabled"])
async def test_unknown_or_disabled_sources_are_404(
    app_runtime: tuple[httpx.AsyncClient, Runtime], source: str
) -> None:
    client, _ = app_runtime
    response = await client.post(f"/webhooks/{source}", content=b"{}")
    assert response.status_code == 404
    assert response.json() == {"error": f"unknown or disabled source {source!r}"}


async def test_a_tool_payload_error_is_a_4xx_naming_the_field(
    app_runtime: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, _ = app_runtime
    raw = b'{"type": "track", "event": "Asset Downloaded"'
    response = await client.post("/webhooks/segment", content=raw, headers=segment_headers(raw))
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON")
