"""Mautic: signature over the raw PHP-encoded body, batches keyed by type, test-payload quirks."""

from __future__ import annotations

import json

import pytest

from handlers.ingest.native import IngestError, parse_native_body
from handlers.ingest.sources.base import RawRequest, SignatureError
from handlers.ingest.sources.mautic import MauticAdapter
from tests.handlers.ingest.sources.builders import (
    KNOWN,
    NOW,
    SECRET,
    b64_hmac_sha256,
    request,
)

ADAPTER = MauticAdapter()
CONFIG = ADAPTER.parse_config({})
ORIGIN = "https://mautic.example.co.jp"

_CONTACT = (
    b'{"id":42,"points":75,"dateIdentified":"2026-11-20T09:00:00+09:00","fields":{"core":{'
    b'"firstname":{"alias":"firstname","value":"Aiko"},"lastname":{"alias":"lastname","value":"Sato"},'
    b'"email":{"alias":"email","value":"aiko@example.co.jp"},'
    b'"company":{"alias":"company","value":"Soci\\u00e9t\\u00e9 \\u4f8b KK"},'
    b'"position":{"alias":"position","value":"Marketing Manager"}},'
    b'"social":[],"personal":[],"professional":[]}}'
)
# Queue mode as PHP's json_encode writes it: "\/" for "/", "\uXXXX" for non-ASCII, no spaces.
QUEUED = (
    b'{"mautic.lead_points_change":[{"contact":' + _CONTACT + b',"points":{"old_points":50,'
    b'"new_points":75},"timestamp":"2026-11-24T10:15:00+09:00"}],'
    b'"mautic.form_on_submit":[{"submission":{"id":901,"ipAddress":{"ipAddress":"203.0.113.9"},'
    b'"form":{"id":3,"name":"MA guide","alias":"ma_guide"},"lead":' + _CONTACT + b","
    b'"trackingId":"abc123","dateSubmitted":"2026-11-24T10:14:30+09:00",'
    b'"referer":"https:\\/\\/example.co.jp\\/wp\\/ma-guide","results":{"email":"aiko@example.co.jp"},'
    b'"page":null},"timestamp":"2026-11-24T10:14:31+09:00"}]}'
)


def signed(body: bytes, origin: str = ORIGIN) -> RawRequest:
    headers = {"Webhook-Signature": b64_hmac_sha256(SECRET, body), "X-Origin-Base-URL": origin}
    return request(body, headers)


def test_signature_over_raw_body_with_php_escapes_is_accepted() -> None:
    ADAPTER.verify(signed(QUEUED), SECRET, CONFIG, NOW)


def test_signature_over_reserialised_json_is_refused() -> None:
    reencoded = json.dumps(json.loads(QUEUED), separators=(",", ":"), ensure_ascii=False).encode()
    assert reencoded != QUEUED
    req = request(QUEUED, {"Webhook-Signature": b64_hmac_sha256(SECRET, reencoded)})
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(req, SECRET, CONFIG, NOW)


def test_missing_or_wrong_signature_is_refused() -> None:
    with pytest.raises(SignatureError, match="missing Webhook-Signature"):
        ADAPTER.verify(request(QUEUED), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(signed(QUEUED), "another-secret", CONFIG, NOW)


def test_queued_batch_becomes_the_equivalent_native_events() -> None:
    result = ADAPTER.translate(signed(QUEUED), CONFIG, KNOWN)
    lead = {
        "id": "mautic:42",
        "email": "aiko@example.co.jp",
        "name": "Aiko Sato",
        "company": "Société 例 KK",
        "title": "Marketing Manager",
    }
    native = {
        "events": [
            {
                "id": f"mautic:{ORIGIN}:points:42:50->75:2026-11-24T10:15:00+09:00",
                "type": "score_changed",
                "occurred_at": "2026-11-24T10:15:00+09:00",
                "lead": lead,
                "score": 75,
                "properties": {"old_points": 50},
            },
            {
                "id": f"mautic:{ORIGIN}:form:901",
                "type": "form_submitted",
                "occurred_at": "2026-11-24T10:14:30+09:00",
                "lead": lead,
                "properties": {
                    "form": "ma_guide",
                    "form_name": "MA guide",
                    "url": "https://example.co.jp/wp/ma-guide",
                },
            },
        ]
    }
    assert result.events == parse_native_body(json.dumps(native).encode(), KNOWN)
    assert result.ignored == 0


def test_send_test_payload_quirks_lone_object_and_timestamp_string() -> None:
    body = (
        b'{"mautic.lead_points_change":{"contact":' + _CONTACT + b',"points":{"old_points":0,'
        b'"new_points":10},"timestamp":"2026-11-24T01:00:00+00:00"},'
        b'"timestamp":"2026-11-24T01:00:01+00:00"}'
    )
    result = ADAPTER.translate(signed(body), CONFIG, KNOWN)
    assert [(e.type, e.score, e.lead.id) for e in result.events] == [
        ("score_changed", 10.0, "mautic:42")
    ]
    assert result.ignored == 0


def test_unmapped_types_and_anonymous_visitors_are_counted_as_ignored() -> None:
    anonymous = b'{"id":77,"points":5,"dateIdentified":null,"fields":{"core":[]}}'
    body = (
        b'{"mautic.email_on_send":[{"email":{"id":1}},{"email":{"id":2}}],'
        b'"mautic.lead_points_change":[{"contact":' + anonymous + b',"points":{"old_points":0,'
        b'"new_points":5},"timestamp":"2026-11-24T01:00:00+00:00"}]}'
    )
    result = ADAPTER.translate(signed(body), CONFIG, KNOWN)
    assert result.events == []
    assert result.ignored == 3


def test_email_opens_page_hits_and_unsubscribes() -> None:
    body = (
        b'{"mautic.email_on_open":[{"stat":{"id":5,"openCount":1,"dateRead":"2026-11-24T09:00:00+09:00",'
        b'"email":{"id":8,"name":"Nov newsletter"},"lead":' + _CONTACT + b"}},"
        b'{"stat":{"id":5,"openCount":2,"dateRead":"2026-11-24T09:30:00+09:00","lead":'
        + _CONTACT
        + b"}}],"
        b'"mautic.page_on_hit":[{"hit":{"id":1001,"dateHit":"2026-11-24T09:31:00+09:00",'
        b'"url":"https:\\/\\/example.co.jp\\/pricing","source":"email","sourceId":8,"lead":'
        + _CONTACT
        + b'}},{"hit":{"id":1002,"dateHit":"2026-11-24T09:32:00+09:00",'
        b'"url":"https:\\/\\/example.co.jp\\/demo","lead":' + _CONTACT + b"}}],"
        b'"mautic.lead_channel_subscription_changed":[{"contact":'
        + _CONTACT
        + b',"channel":"email",'
        b'"old_status":"contactable","new_status":"unsubscribed","timestamp":"2026-11-24T09:40:00+09:00"},'
        b'{"contact":' + _CONTACT + b',"channel":"email","old_status":"unsubscribed",'
        b'"new_status":"contactable","timestamp":"2026-11-24T09:41:00+09:00"}]}'
    )
    result = ADAPTER.translate(signed(body), CONFIG, KNOWN)
    assert [(e.id.removeprefix(f"mautic:{ORIGIN}:"), e.type) for e in result.events] == [
        ("open:5:1", "email_opened"),
        ("open:5:2", "email_opened"),
        ("hit:1001", "email_clicked"),
        ("hit:1002", "page_visited"),
        ("unsubscribed:42:email:2026-11-24T09:40:00+09:00", "unsubscribed"),
    ]
    assert result.events[0].properties == {"email": "Nov newsletter"}
    assert result.ignored == 1  # re-subscribing is not an activity

    without_unsubscribed = tuple(t for t in KNOWN if t != "unsubscribed")
    again = ADAPTER.translate(signed(body), CONFIG, without_unsubscribed)
    assert len(again.events) == 4
    assert again.ignored == 2


def test_dedupe_keys_are_namespaced_by_mautic_instance() -> None:
    one = ADAPTER.translate(signed(QUEUED, "https://a.example"), CONFIG, KNOWN)
    two = ADAPTER.translate(signed(QUEUED, "https://b.example/"), CONFIG, KNOWN)
    assert one.events[1].id == "mautic:https://a.example:form:901"
    assert two.events[1].id == "mautic:https://b.example:form:901"


def test_missing_dates_are_refused_naming_the_field() -> None:
    body = b'{"mautic.form_on_submit":[{"submission":{"id":1,"lead":' + _CONTACT + b"}}]}"
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(body), CONFIG, KNOWN)
    assert caught.value.status == 422
    assert caught.value.details == [
        {"field": "mautic.form_on_submit[0].submission.dateSubmitted", "error": "missing timestamp"}
    ]


def test_a_non_object_item_is_refused_and_a_non_object_body_too() -> None:
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(b'{"mautic.form_on_submit":[7]}'), CONFIG, KNOWN)
    assert caught.value.details == [
        {"field": "mautic.form_on_submit[0]", "error": "expected an object"}
    ]
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(b"[]"), CONFIG, KNOWN)
    assert caught.value.status == 422


def test_config_defaults_and_errors() -> None:
    assert CONFIG.enabled is True
    assert CONFIG.secret_env == "MQLBOT_MAUTIC_SECRET"
    custom = ADAPTER.parse_config(
        {"secret_env": "MAUTIC_HOOK", "event_types": {"mautic.page_on_hit.email": "page_visited"}}
    )
    assert custom.event_types["mautic.page_on_hit.email"] == "page_visited"
    assert custom.event_types["mautic.form_on_submit"] == "form_submitted"
    with pytest.raises(ValueError, match=r"^sources\.mautic\.secret: unknown key"):
        ADAPTER.parse_config({"secret": "oops"})
    with pytest.raises(ValueError, match=r"^sources\.mautic\.event_types\.mautic\.email_on_send: "):
        ADAPTER.parse_config({"event_types": {"mautic.email_on_send": "email_opened"}})
    with pytest.raises(ValueError, match=r"^sources\.mautic\.secret_env: must be the NAME"):
        ADAPTER.parse_config({"secret_env": "my secret value!"})
    with pytest.raises(ValueError, match=r"^sources\.mautic\.enabled: must be true or false"):
        ADAPTER.parse_config({"enabled": "yes"})
