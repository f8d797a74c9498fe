"""HubSpot: the documented v1/v2/v3 vectors, the 5-minute window, arrays, workflow objects."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from handlers.ingest.native import IngestError, parse_native_body
from handlers.ingest.sources.base import RawRequest, SignatureError
from handlers.ingest.sources.hubspot import HubSpotAdapter
from tests.handlers.ingest.sources.builders import KNOWN, NOW, SECRET, request

ADAPTER = HubSpotAdapter()
CONFIG = ADAPTER.parse_config({"score_properties": ["hubspot_score"]})
VECTOR_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
VECTOR_URI = "https://www.example.com/webhook_uri"
NOW_MS = 1795482900000  # NOW in epoch milliseconds


def test_v3_documented_vector_with_an_injected_clock() -> None:
    body = b"{'example_field':'example_value'}"  # single quotes, literally, as in HubSpot's docs
    headers = {
        "X-HubSpot-Signature-v3": "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
        "X-HubSpot-Request-Timestamp": "15000000",
    }
    req = request(body, headers, url=VECTOR_URI)
    at_stamp = datetime.fromtimestamp(15000, tz=UTC)
    ADAPTER.verify(req, VECTOR_SECRET, CONFIG, at_stamp)
    ADAPTER.verify(req, VECTOR_SECRET, CONFIG, at_stamp + timedelta(minutes=5))
    ADAPTER.verify(req, VECTOR_SECRET, CONFIG, at_stamp - timedelta(minutes=5))
    for off in (timedelta(minutes=5, milliseconds=1), -timedelta(minutes=5, milliseconds=1)):
        with pytest.raises(SignatureError, match="more than 5 minutes off"):
            ADAPTER.verify(req, VECTOR_SECRET, CONFIG, at_stamp + off)
    with pytest.raises(SignatureError, match="v3 does not match"):
        ADAPTER.verify(req, "zzzz", CONFIG, at_stamp)


def test_v2_documented_vectors() -> None:
    headers = {
        "X-HubSpot-Signature": "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
        "X-HubSpot-Signature-Version": "v2",
    }
    body = b'{"example_field":"example_value"}'
    ADAPTER.verify(request(body, headers, url=VECTOR_URI), VECTOR_SECRET, CONFIG, NOW)
    get = {
        "X-HubSpot-Signature": "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
        "X-HubSpot-Signature-Version": "v2",
    }
    ADAPTER.verify(request(b"", get, url=VECTOR_URI, method="GET"), VECTOR_SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match=r"\(v2\) does not match"):
        ADAPTER.verify(request(body + b" ", headers, url=VECTOR_URI), VECTOR_SECRET, CONFIG, NOW)


def test_v1_documented_vector() -> None:
    body = (
        b'[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,'
        b'"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,'
        b'"changeSource":"CRM","changeFlag":"NEW","appId":54321}]'
    )
    headers = {
        "X-HubSpot-Signature": "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de",
        "X-HubSpot-Signature-Version": "v1",
    }
    ADAPTER.verify(request(body, headers), VECTOR_SECRET, CONFIG, NOW)


def test_behind_a_proxy_the_configured_public_base_url_is_signed() -> None:
    headers = {
        "X-HubSpot-Signature": "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900",
        "X-HubSpot-Signature-Version": "v2",
    }
    req = request(
        b'{"example_field":"example_value"}', headers, url="http://10.0.0.5:8000/webhook_uri"
    )
    with pytest.raises(SignatureError):
        ADAPTER.verify(req, VECTOR_SECRET, CONFIG, NOW)
    proxied = ADAPTER.parse_config({"public_base_url": "https://www.example.com/"})
    ADAPTER.verify(req, VECTOR_SECRET, proxied, NOW)


def test_missing_or_unknown_signatures_are_refused() -> None:
    with pytest.raises(SignatureError, match="missing X-HubSpot-Signature-v3 header"):
        ADAPTER.verify(request(b"[]"), SECRET, CONFIG, NOW)
    headers = {"X-HubSpot-Signature": "00", "X-HubSpot-Signature-Version": "v9"}
    with pytest.raises(SignatureError, match="unsupported X-HubSpot-Signature-Version 'v9'"):
        ADAPTER.verify(request(b"[]", headers), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="malformed X-HubSpot-Request-Timestamp"):
        ADAPTER.verify(request(b"[]", {"X-HubSpot-Signature-v3": "x"}), SECRET, CONFIG, NOW)


def v3_signed(body: bytes, url: str = "https://mqlbot.example.com/webhooks/hubspot") -> RawRequest:
    stamp = str(NOW_MS - 2000)
    mac = hmac.new(SECRET.encode(), b"POST" + url.encode() + body + stamp.encode(), hashlib.sha256)
    headers = {
        "X-HubSpot-Signature-v3": base64.b64encode(mac.digest()).decode(),
        "X-HubSpot-Request-Timestamp": stamp,
    }
    return request(body, headers, url=url)


def change(
    event_id: int, occurred: int, value: str, prop: str = "hubspot_score", attempt: int = 0
) -> dict[str, object]:
    return {
        "eventId": event_id,
        "subscriptionId": 2361931,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": occurred,
        "subscriptionType": "contact.propertyChange",
        "attemptNumber": attempt,
        "objectId": 501,
        "propertyName": prop,
        "propertyValue": value,
        "changeSource": "CRM",
    }


def test_v3_signed_array_verifies_over_raw_bytes() -> None:
    body = json.dumps([change(1, NOW_MS - 60_000, "45")]).encode()
    ADAPTER.verify(v3_signed(body), SECRET, CONFIG, NOW)


def test_array_with_duplicates_and_disorder_becomes_ordered_native_events() -> None:
    body = json.dumps(
        [
            change(3, NOW_MS - 10_000, "80"),
            change(1, NOW_MS - 30_000, "45"),
            change(1, NOW_MS - 30_000, "45", attempt=1),  # HubSpot's retry of the same change
            change(1, NOW_MS - 20_000, "60"),  # eventId reused for another change: kept
            change(4, NOW_MS - 5_000, "Jane", prop="firstname"),
            {**change(5, NOW_MS, "1"), "subscriptionType": "contact.creation"},
        ]
    ).encode()
    result = ADAPTER.translate(v3_signed(body), CONFIG, KNOWN)
    assert [(e.score, e.occurred_at) for e in result.events] == [
        (45.0, datetime(2026, 11, 24, 1, 14, 30, tzinfo=UTC)),
        (60.0, datetime(2026, 11, 24, 1, 14, 40, tzinfo=UTC)),
        (80.0, datetime(2026, 11, 24, 1, 14, 50, tzinfo=UTC)),
    ]
    assert result.duplicates == 1
    assert result.ignored == 2

    native = {
        "id": f"hubspot:62515:501:hubspot_score:45:{NOW_MS - 30_000}",
        "type": "score_changed",
        "occurred_at": "2026-11-24T01:14:30Z",
        "lead": {"id": "hubspot:501"},
        "score": 45,
        "properties": {"property": "hubspot_score", "event_id": "1", "portal": "62515"},
    }
    assert result.events[0] == parse_native_body(json.dumps(native).encode(), KNOWN)[0]


def test_event_type_is_accepted_as_an_alias_of_subscription_type() -> None:
    item = change(9, NOW_MS, "12")
    item["eventType"] = item.pop("subscriptionType")
    result = ADAPTER.translate(v3_signed(json.dumps([item]).encode()), CONFIG, KNOWN)
    assert [e.score for e in result.events] == [12.0]


def test_lifecycle_stage_mql_qualifies_only_when_configured() -> None:
    body = json.dumps([change(7, NOW_MS, "marketingqualifiedlead", prop="lifecyclestage")]).encode()
    assert ADAPTER.translate(v3_signed(body), CONFIG, KNOWN).ignored == 1
    config = ADAPTER.parse_config({"qualify_on_lifecycle_mql": True})
    [event] = ADAPTER.translate(v3_signed(body), config, KNOWN).events
    assert (event.type, event.score) == ("score_changed", None)
    assert event.properties["lifecyclestage"] == "marketingqualifiedlead"


def test_non_numeric_score_is_refused_naming_the_field() -> None:
    body = json.dumps([change(1, NOW_MS, "high")]).encode()
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(v3_signed(body), CONFIG, KNOWN)
    assert caught.value.details == [
        {"field": "body[0].propertyValue", "error": "score must be a number, got 'high'"}
    ]


def test_cleared_score_is_ignored() -> None:
    body = json.dumps([change(1, NOW_MS, "")]).encode()
    result = ADAPTER.translate(v3_signed(body), CONFIG, KNOWN)
    assert (result.events, result.ignored) == ([], 1)


def test_workflow_flat_custom_body() -> None:
    body = (
        b'{"hs_object_id":"501","email":"aiko@example.co.jp","hubspot_score":"72",'
        b'"hs_lastmodifieddate":"1795482840000"}'
    )
    [event] = ADAPTER.translate(request(body), CONFIG, KNOWN).events
    assert event.id == "hubspot:workflow:501:" + hashlib.sha256(body).hexdigest()[:32]
    assert (event.type, event.score, event.lead.id, event.lead.email) == (
        "score_changed",
        72.0,
        "hubspot:501",
        "aiko@example.co.jp",
    )
    assert event.occurred_at == datetime(2026, 11, 24, 1, 14, tzinfo=UTC)


def test_workflow_record_body_with_nested_property_values() -> None:
    body = json.dumps(
        {
            "vid": 501,
            "portal-id": 62515,
            "properties": {
                "hubspotscore": {"value": "33"},
                "email": {"value": "aiko@example.co.jp"},
                "lastmodifieddate": {"value": "2026-11-24T01:00:00Z"},
            },
        }
    ).encode()
    [event] = ADAPTER.translate(request(body), ADAPTER.parse_config({}), KNOWN).events
    assert (event.score, event.lead.id, event.occurred_at) == (
        33.0,
        "hubspot:501",
        datetime(2026, 11, 24, 1, 0, tzinfo=UTC),
    )


def test_workflow_without_any_time_is_refused_unless_v3_gives_one() -> None:
    body = b'{"hs_object_id":"501","hubspot_score":"72"}'
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(request(body), CONFIG, KNOWN)
    assert caught.value.details[0]["field"] == "body.hs_lastmodifieddate"
    [event] = ADAPTER.translate(v3_signed(body), CONFIG, KNOWN).events
    assert event.occurred_at == datetime(2026, 11, 24, 1, 14, 58, tzinfo=UTC)


def test_workflow_without_score_is_ignored() -> None:
    result = ADAPTER.translate(request(b'{"hs_object_id":"501","firstname":"Aiko"}'), CONFIG, KNOWN)
    assert (result.events, result.ignored) == ([], 1)


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"^sources\.hubspot\.public_base_url: must be an http"):
        ADAPTER.parse_config({"public_base_url": "mqlbot.example.com"})
    with pytest.raises(ValueError, match=r"^sources\.hubspot\.score_properties: must be a list"):
        ADAPTER.parse_config({"score_properties": [1]})
    assert ADAPTER.parse_config({"score_properties": "lead_score"}).score_properties == (
        "lead_score",
    )
