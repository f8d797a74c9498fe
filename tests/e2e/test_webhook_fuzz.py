"""Fuzzing every webhook endpoint through the real app and database: no 5xx, no partial writes.

Bodies are arbitrary bytes, arbitrary JSON and event-shaped JSON with arbitrary field values; each
request is signed the way its endpoint expects (so the fuzzing reaches parsing, translation and
the ingest transaction), and some are sent unsigned or with random headers. After every answer the
tables must hold exactly what a 2xx accepted, and nothing after a refusal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.runtime import Runtime
from bot.web import create_web_app
from tests.conftest import NOW
from tests.handlers.ingest.builders import SECRET, SettableClock, build_runtime, counts

TOOL_SECRET = "fuzz-tool-secret"
TOOLS = ("mautic", "segment", "hubspot", "marketo", "cloudevents")
TYPES = ["email_opened", "page_visited", "content_downloaded", "score_changed", "nope", ""]

text = st.text(max_size=30)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=False), text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)
times = st.one_of(
    st.sampled_from(["2026-11-24T10:00:00+09:00", "2026-11-24T10:00:00", "yesterday", ""]),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    json_values,
)
leads = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "id": st.one_of(text, json_values),
            "email": st.one_of(st.sampled_from(["a@example.com", "bad", ""]), text),
            "name": st.one_of(text, json_values),
            "company": text,
        },
    ),
    json_values,
)
native_events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(text, json_values),
        "type": st.one_of(st.sampled_from(TYPES), json_values),
        "occurred_at": times,
        "lead": leads,
        "score": st.one_of(st.none(), st.floats(), json_values),
        "score_delta": st.one_of(st.none(), st.integers(-500, 500)),
        "properties": json_values,
    },
)
# Mostly valid events (small id pools, so repeats and shared leads happen): batches mixing them
# with arbitrary ones exercise the all-or-nothing rule.
plausible_events = st.fixed_dictionaries(
    {
        "id": st.sampled_from([f"evt-{n}" for n in range(8)]),
        "type": st.sampled_from(TYPES[:4]),
        "occurred_at": st.datetimes(
            min_value=datetime(2026, 9, 1), max_value=datetime(2026, 11, 24), timezones=st.just(UTC)
        ).map(lambda d: d.isoformat()),
        "lead": st.fixed_dictionaries(
            {"id": st.sampled_from(["crm-1", "crm-2", "crm-3"])},
            optional={"name": text, "company": text, "email": st.just("x@example.co.jp")},
        ),
    },
    optional={
        "properties": st.dictionaries(text, scalars, max_size=3),
        "score": st.integers(0, 300),
    },
)
bodies = st.one_of(
    st.lists(plausible_events, min_size=1, max_size=6).map(
        lambda es: json.dumps({"events": es}).encode()
    ),
    st.lists(st.one_of(plausible_events, native_events), min_size=2, max_size=6).map(
        lambda es: json.dumps({"events": es}).encode()
    ),
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    native_events.map(lambda e: json.dumps(e).encode()),
    st.lists(native_events, max_size=5).map(lambda es: json.dumps({"events": es}).encode()),
    st.lists(json_values, max_size=4).map(lambda vs: json.dumps(vs).encode()),
)
headers = st.dictionaries(
    st.sampled_from(
        [
            "X-MQLBot-Signature",
            "X-MQLBot-Timestamp",
            "Authorization",
            "Content-Type",
            "X-Signature",
            "Webhook-Signature",
            "X-HubSpot-Signature-v3",
            "X-HubSpot-Request-Timestamp",
            "ce-id",
            "ce-type",
            "ce-source",
            "ce-specversion",
        ]
    ),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=4,
)


def signed(path: str, body: bytes) -> dict[str, str]:
    """The headers that make `body` authentic for the endpoint at `path` (at the tests' `NOW`)."""
    base = {"Content-Type": "application/json"}
    if path == "/webhooks/events":
        stamp = str(int(NOW.timestamp()))
        mac = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        return base | {"X-MQLBot-Timestamp": stamp, "X-MQLBot-Signature": f"sha256={mac}"}
    tool = path.rsplit("/", 1)[1]
    key = TOOL_SECRET.encode()
    if tool == "mautic":
        mac_b64 = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()
        return base | {"Webhook-Signature": mac_b64, "X-Origin-Base-URL": "https://m.example"}
    if tool == "segment":
        return base | {"X-Signature": hmac.new(key, body, hashlib.sha1).hexdigest()}
    if tool == "hubspot":
        digest = hashlib.sha256(key + body).hexdigest()
        return base | {"X-HubSpot-Signature": digest, "X-HubSpot-Signature-Version": "v1"}
    return base | {"Authorization": f"Bearer {TOOL_SECRET}"}


@pytest.fixture
async def app(
    config_file: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    for tool in TOOLS:
        monkeypatch.setenv(f"MQLBOT_{tool.upper()}_SECRET", TOOL_SECRET)
    runtime = build_runtime(config_file, sqlite_url, SettableClock(NOW))
    transport = httpx.ASGITransport(app=create_web_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client, runtime
    await runtime.close()


PATHS = ["/webhooks/events", *(f"/webhooks/{tool}" for tool in TOOLS)]


@pytest.mark.parametrize("path", PATHS)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, sign=st.booleans(), extra=headers)
async def test_whatever_arrives_gets_no_5xx_and_leaves_no_partial_write(
    app: tuple[httpx.AsyncClient, Runtime],
    path: str,
    body: bytes,
    sign: bool,
    extra: dict[str, str],
) -> None:
    client, runtime = app
    before = await counts(runtime.sessions)
    response = await client.post(path, content=body, headers=signed(path, body) if sign else extra)
    after = await counts(runtime.sessions)
    event(f"status {response.status_code}")
    assert response.status_code < 500, response.text
    assert response.status_code != 410
    assert response.headers["content-type"].startswith("application/json")
    if response.status_code >= 300:
        assert after == before, f"{response.status_code} {response.text} but rows changed"
    else:
        assert after["event"] - before["event"] == response.json()["accepted"]
