"""Segment: hex HMAC-SHA1, batches where only the first element is signed, track/page mapping."""

from __future__ import annotations

import json

import pytest

from handlers.ingest.native import IngestError, parse_native_body
from handlers.ingest.sources.base import RawRequest, SignatureError
from handlers.ingest.sources.segment import SegmentAdapter
from tests.handlers.ingest.sources.builders import KNOWN, NOW, SECRET, hex_hmac_sha1, request

ADAPTER = SegmentAdapter()
CONFIG = ADAPTER.parse_config({})

# Compact, as JSON.stringify writes it; the "]" and escaped quote inside strings must not fool
# the scanner that slices the first element out of a batch.
OPENED = (
    b'{"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895","context":{"library":{"name":'
    b'"analytics-node","version":"2.1.0"},"traits":{"email":"Aiko@Example.co.jp","name":"Aiko Sato",'
    b'"company":{"name":"Example KK"},"title":"Marketing Manager"},"campaign":{"name":"2026-11 MA seminar",'
    b'"source":"newsletter","medium":"email"}},"event":"Email Opened","integrations":{},'
    b'"messageId":"api-2XyH8kq1]x","properties":{"email_id":"18vzF7u3z",'
    b'"email_subject":"Nov \\"MA\\" newsletter [JP]"},"receivedAt":"2026-11-24T01:15:01.470Z",'
    b'"sentAt":"2026-11-24T01:15:00.925Z","timestamp":"2026-11-24T01:15:00.545Z","type":"track",'
    b'"userId":"crm-00042","originalTimestamp":"2026-11-24T01:14:59.999Z"}'
)
PAGE = (
    b'{"anonymousId":"23adfd82-aa0f-45a7-a756-24f2a7a4c895","context":{"page":{"path":"/pricing",'
    b'"url":"https://example.co.jp/pricing","title":"Pricing"},"traits":{"email":"aiko@example.co.jp"}},'
    b'"messageId":"ajs-next-1d8f6a","name":"Pricing","properties":{"path":"/pricing",'
    b'"url":"https://example.co.jp/pricing","title":"Pricing"},"timestamp":"2026-11-24T01:16:00.000Z",'
    b'"type":"page","userId":"crm-00042"}'
)
IDENTIFY = (
    b'{"messageId":"ajs-id-1","type":"identify","userId":"crm-00042","traits":{"email":"aiko@example.co.jp"},'
    b'"timestamp":"2026-11-24T01:10:00.000Z"}'
)
ANONYMOUS = (
    b'{"anonymousId":"anon-9","messageId":"ajs-anon","type":"track","event":"Asset Downloaded",'
    b'"properties":{"asset":"MA guide"},"timestamp":"2026-11-24T01:17:00.000Z"}'
)
BATCH = b"[" + OPENED + b"," + PAGE + b"," + IDENTIFY + b"," + ANONYMOUS + b"]"


def signed(body: bytes, signed_part: bytes | None = None) -> RawRequest:
    return request(body, {"X-Signature": hex_hmac_sha1(SECRET, signed_part or body)})


def test_unbatched_signature_over_the_body() -> None:
    ADAPTER.verify(signed(OPENED), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(
            signed(OPENED.replace(b"crm-00042", b"crm-00043"), OPENED), SECRET, CONFIG, NOW
        )


def test_no_signature_header_means_no_secret_in_segment_and_is_refused() -> None:
    with pytest.raises(SignatureError, match="set a shared secret in Segment"):
        ADAPTER.verify(request(OPENED), SECRET, CONFIG, NOW)


def test_batch_is_verified_over_the_first_elements_raw_bytes_only() -> None:
    ADAPTER.verify(signed(BATCH, OPENED), SECRET, CONFIG, NOW)
    # Only the first element is covered by the MAC; the rest rides on the shared secret.
    tampered_rest = BATCH.replace(b"/pricing", b"/careers")
    ADAPTER.verify(signed(tampered_rest, OPENED), SECRET, CONFIG, NOW)
    tampered_first = BATCH.replace(b"crm-00042", b"crm-99999", 1)
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(signed(tampered_first, OPENED), SECRET, CONFIG, NOW)


def test_batch_signed_over_the_whole_body_or_reserialised_json_is_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(signed(BATCH), SECRET, CONFIG, NOW)
    reencoded = json.dumps(json.loads(OPENED)).encode()  # Python's spacing differs from JS
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(signed(OPENED, reencoded), SECRET, CONFIG, NOW)


def test_pretty_printed_batch_still_slices_the_first_element() -> None:
    body = b"[\n  " + OPENED + b" ,\n  " + PAGE + b"\n]\n"
    ADAPTER.verify(signed(body, OPENED), SECRET, CONFIG, NOW)


def test_batch_becomes_the_equivalent_native_events() -> None:
    result = ADAPTER.translate(signed(BATCH, OPENED), CONFIG, KNOWN)
    native = {
        "events": [
            {
                "id": "segment:api-2XyH8kq1]x",
                "type": "email_opened",
                "occurred_at": "2026-11-24T01:15:00.545Z",
                "lead": {
                    "id": "crm-00042",
                    "email": "aiko@example.co.jp",
                    "name": "Aiko Sato",
                    "company": "Example KK",
                    "title": "Marketing Manager",
                },
                "properties": {
                    "email_id": "18vzF7u3z",
                    "email_subject": 'Nov "MA" newsletter [JP]',
                    "event": "Email Opened",
                },
            },
            {
                "id": "segment:ajs-next-1d8f6a",
                "type": "page_visited",
                "occurred_at": "2026-11-24T01:16:00Z",
                "lead": {"id": "crm-00042", "email": "aiko@example.co.jp"},
                "properties": {
                    "path": "/pricing",
                    "url": "https://example.co.jp/pricing",
                    "title": "Pricing",
                    "event": "page",
                },
            },
        ]
    }
    assert result.events == parse_native_body(json.dumps(native).encode(), KNOWN)
    assert result.ignored == 2  # the identify call and the anonymous download


def test_event_names_map_through_the_configured_table() -> None:
    config = ADAPTER.parse_config(
        {"event_types": {"Demo Video Watched": "video_watched", "Email Opened": ""}}
    )
    body = OPENED.replace(b'"api-2XyH8kq1]x"', b'"m2"')
    video = OPENED.replace(b'"Email Opened"', b'"Demo Video Watched"')
    result = ADAPTER.translate(signed(b"[" + video + b"," + body + b"]"), config, KNOWN)
    assert [e.type for e in result.events] == ["video_watched"]
    assert result.ignored == 1
    assert config.event_types["Webinar Attended"] == "event_attended"


def test_duplicate_message_ids_in_one_batch_are_dropped() -> None:
    result = ADAPTER.translate(signed(b"[" + OPENED + b"," + OPENED + b"]"), CONFIG, KNOWN)
    assert [e.id for e in result.events] == ["segment:api-2XyH8kq1]x"]
    assert result.duplicates == 1


def test_malformed_messages_name_the_field() -> None:
    no_id = PAGE.replace(b'"messageId":"ajs-next-1d8f6a",', b"")
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(b"[" + OPENED + b"," + no_id + b"]"), CONFIG, KNOWN)
    assert caught.value.status == 422
    assert caught.value.details == [{"field": "body[1].messageId", "error": "missing or not an id"}]
    bad_time = OPENED.replace(b'"2026-11-24T01:15:00.545Z"', b'"yesterday"')
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(bad_time), CONFIG, KNOWN)
    assert caught.value.details == [
        {"field": "body.timestamp", "error": "not an ISO 8601 timestamp: 'yesterday'"}
    ]
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(signed(b"[1]"), CONFIG, KNOWN)
    assert caught.value.details == [
        {"field": "body[0]", "error": "expected a Segment message object"}
    ]


def test_config_errors_name_the_key() -> None:
    with pytest.raises(ValueError, match=r"^sources\.segment\.page_calls: must be a string"):
        ADAPTER.parse_config({"page_calls": 3})
    with pytest.raises(ValueError, match=r"^sources\.segment\.event_types: must be a table"):
        ADAPTER.parse_config({"event_types": ["Email Opened"]})
