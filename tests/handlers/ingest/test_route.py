"""POST /webhooks/events through HTTP: every refusal with its status and message, and the 202."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlmodel import select

from bot.runtime import Runtime
from bot.web import create_web_app
from store.models import Lead
from tests.handlers.ingest.builders import (
    SECRET,
    SettableClock,
    counts,
    encode,
    event,
    signed_headers,
)
from tests.handlers.ingest.conftest import RuntimeFactory


async def post(
    client: httpx.AsyncClient, clock: SettableClock, body: bytes, **headers: str
) -> httpx.Response:
    all_headers = signed_headers(body, int(clock.now.timestamp()))
    all_headers.update(headers)
    return await client.post("/webhooks/events", content=body, headers=all_headers)


async def test_a_valid_event_is_accepted_after_commit(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    response = await post(client, clock, encode(event("e1")))
    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "mqls": []}
    assert (await counts(runtime.sessions))["event"] == 1


async def test_a_batch_is_accepted_and_counts_duplicates(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    body = encode({"events": [event("e1"), event("e2"), event("e1")]})
    response = await post(client, clock, body)
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 1, "mqls": []}
    again = await post(client, clock, body)
    assert again.json() == {"accepted": 0, "duplicates": 3, "mqls": []}


async def test_malformed_json_is_400(client: httpx.AsyncClient, clock: SettableClock) -> None:
    response = await post(client, clock, b'{"id": "e1",')
    assert response.status_code == 400
    assert response.json()["error"].startswith("malformed JSON: ")


async def test_a_body_over_one_mebibyte_is_413(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    body = encode(event("e1", properties={"blob": "x" * (1024 * 1024)}))
    response = await post(client, clock, body)
    assert response.status_code == 413
    assert response.json() == {"error": "body too large", "limit_bytes": 1048576}


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    body = encode(event("e1"))
    response = await post(client, clock, body, **{"Content-Length": str(2 * 1024 * 1024)})
    assert response.status_code == 413
    assert response.json()["error"] == "body too large"


async def test_more_than_1000_events_is_413(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    body = encode({"events": [event(f"e{i}") for i in range(1001)]})
    response = await post(client, clock, body)
    assert response.status_code == 413
    assert response.json() == {"error": "too many events: 1001 > 1000", "limit": 1000}
    assert (await counts(runtime.sessions))["event"] == 0


async def test_exactly_1000_events_are_accepted(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    body = encode({"events": [event(f"e{i}") for i in range(1000)]})
    response = await post(client, clock, body)
    assert response.status_code == 202
    assert response.json()["accepted"] == 1000


async def test_an_unknown_type_is_422_listing_the_known_ones(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    response = await post(client, clock, encode(event("e1", "webinar_joined")))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid event"
    (detail,) = body["details"]
    assert detail["field"] == "type"
    assert detail["error"].startswith("unknown event type 'webinar_joined'; known types: ")
    for known in ("content_downloaded", "email_opened", "score_changed", "unsubscribed"):
        assert known in detail["error"]


async def test_occurred_at_without_a_time_zone_is_422(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    response = await post(client, clock, encode(event("e1", at="2026-11-24T10:00:00")))
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"field": "occurred_at", "error": "Input should have timezone info"}
    ]


async def test_every_bad_field_of_a_batch_is_named(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    events = [
        event("ok-1"),
        event("bad-1", "nope"),
        event("bad-2", lead={"name": "Nobody"}),
        event("bad-3", score=10, score_delta=5),
    ]
    response = await post(client, clock, encode({"events": events}))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid events"
    fields = [d["field"] for d in body["details"]]
    assert fields == ["events[1].type", "events[2].lead", "events[3]"]
    assert body["details"][1]["error"] == "lead.id or lead.email is required"
    assert body["details"][2]["error"] == "give either score or score_delta, not both"
    assert await counts(runtime.sessions) == {
        "lead": 0,
        "event": 0,
        "mql": 0,
        "audit": 0,
        "outbox": 0,
    }


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-MQLBot-Signature header (or Authorization: Bearer <secret>)"),
        ({"X-MQLBot-Timestamp": "{ts}"}, "missing X-MQLBot-Signature header"),
        ({"X-MQLBot-Signature": "sha256=" + "0" * 64}, "missing X-MQLBot-Timestamp header"),
        (
            {"X-MQLBot-Timestamp": "yesterday", "X-MQLBot-Signature": "sha256=" + "0" * 64},
            "malformed X-MQLBot-Timestamp 'yesterday': expected unix seconds",
        ),
        (
            {"X-MQLBot-Timestamp": "{ts}", "X-MQLBot-Signature": "sha256=" + "0" * 64},
            "bad signature",
        ),
        ({"Authorization": "Bearer wrong"}, "bearer token does not match"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "Authorization header must be 'Bearer <secret>'"),
    ],
)
async def test_unauthenticated_requests_are_401_with_the_reason(
    client: httpx.AsyncClient,
    clock: SettableClock,
    runtime: Runtime,
    headers: dict[str, str],
    reason: str,
) -> None:
    ts = str(int(clock.now.timestamp()))
    sent = {"Content-Type": "application/json"}
    sent.update({k: v.replace("{ts}", ts) for k, v in headers.items()})
    response = await client.post("/webhooks/events", content=encode(event("e1")), headers=sent)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized", "reason": reason}
    assert (await counts(runtime.sessions))["event"] == 0


async def test_the_bearer_token_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/webhooks/events",
        content=encode(event("e1")),
        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
    )
    assert response.status_code == 202


async def test_a_signature_over_another_body_is_refused(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    headers = signed_headers(encode(event("e1")), int(clock.now.timestamp()))
    response = await client.post("/webhooks/events", content=encode(event("e2")), headers=headers)
    assert response.status_code == 401
    assert response.json()["reason"] == "bad signature"


@pytest.mark.parametrize(("offset", "status"), [(-300, 202), (300, 202), (-301, 401), (301, 401)])
async def test_the_replay_window_is_300_seconds_both_ways(
    client: httpx.AsyncClient, clock: SettableClock, offset: int, status: int
) -> None:
    body = encode(event("e1"))
    headers = signed_headers(body, int(clock.now.timestamp()) + offset)
    response = await client.post("/webhooks/events", content=body, headers=headers)
    assert response.status_code == status
    if status == 401:
        direction = "in the future" if offset > 0 else "old"
        assert response.json()["reason"] == (f"stale timestamp: 301 s {direction} (window 300 s)")


async def test_without_a_secret_every_request_is_refused(
    make_runtime: RuntimeFactory, sqlite_url: str, clock: SettableClock
) -> None:
    runtime = make_runtime(sqlite_url, secret=None)
    app = create_web_app(runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bot"
    ) as client:
        body = encode(event("e1"))
        signed = await client.post(
            "/webhooks/events",
            content=body,
            headers=signed_headers(body, int(clock.now.timestamp()), ""),
        )
        bearer = await client.post(
            "/webhooks/events", content=body, headers={"Authorization": "Bearer "}
        )
    reason = "webhook secret not configured (set MQLBOT_WEBHOOK_SECRET): refusing all"
    assert signed.status_code == bearer.status_code == 401
    assert signed.json() == bearer.json() == {"error": "unauthorized", "reason": reason}


async def test_metrics_count_requests_and_events(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    await post(client, clock, encode({"events": [event("e1"), event("e1")]}))
    await post(client, clock, b"not json")
    text = (await client.get("/metrics")).text
    assert 'mqlbot_webhook_requests_total{source="native",status="202"} 1.0' in text
    assert 'mqlbot_webhook_requests_total{source="native",status="400"} 1.0' in text
    assert 'mqlbot_events_received_total{outcome="accepted",source="native"} 1.0' in text
    assert 'mqlbot_events_received_total{outcome="duplicate",source="native"} 1.0' in text


@pytest.mark.parametrize(
    ("gap", "score"),
    [(timedelta(days=30), 15.0), (timedelta(days=30) - timedelta(microseconds=1), 30.0)],
    ids=["exactly-30-days-resets", "one-microsecond-less-keeps"],
)
async def test_the_inactivity_reset_boundary_through_the_webhook(
    client: httpx.AsyncClient,
    clock: SettableClock,
    runtime: Runtime,
    gap: timedelta,
    score: float,
) -> None:
    first = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    assert (await post(client, clock, encode(event("a", at=first)))).status_code == 202
    assert (await post(client, clock, encode(event("b", at=first + gap)))).status_code == 202
    async with runtime.sessions() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.score == score
