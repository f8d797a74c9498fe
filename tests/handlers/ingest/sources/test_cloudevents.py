"""CloudEvents: structured, batch and binary modes; Marketo's Lead Activity Data Stream."""

from __future__ import annotations

import json

import pytest

from handlers.ingest.native import IngestError, parse_native_body
from handlers.ingest.sources.base import SignatureError
from handlers.ingest.sources.cloudevents import BATCH_TYPE, STRUCTURED_TYPE, CloudEventsAdapter
from tests.handlers.ingest.sources.builders import KNOWN, NOW, SECRET, request

ADAPTER = CloudEventsAdapter()
CONFIG = ADAPTER.parse_config({})
AUTH = {"Authorization": f"Bearer {SECRET}"}

# Shaped like Adobe's Marketo Lead Activity Data Stream examples.
OPEN_EMAIL = {
    "eventid": "ec2c6092-1e94-45e9-b2dd-0b6bad0baa6f",
    "specversion": "1.0",
    "type": "com.adobe.platform.marketo.activity.standard.openemail",
    "source": "urn:marketo_activity_stream",
    "id": "a1764870-4f4b-4f8c-82d6-59b0fff2d39c",
    "time": "2026-11-24T01:10:33Z",
    "datacontenttype": "application/json",
    "data": {
        "munchkinId": "123-ABC-456",
        "leadId": "1234",
        "activityDate": "2026-11-24T01:10:30Z",
        "activityTypeId": 10,
        "activityType": "Open Email",
        "activityLogItemId": 1234567890,
        "primaryAttributeValueId": 1234,
        "primaryAttributeValue": "Nov newsletter",
        "attributes": [
            {"name": "Campaign Run ID", "dataType": "integer", "value": 1234},
            {"name": "Is Mobile Device", "dataType": "boolean", "value": False},
        ],
    },
    "recipientclientid": "c5a34355b7f5491f8277b8dd63f0bfa3",
}
VISIT = {
    **OPEN_EMAIL,
    "type": "com.adobe.platform.marketo.activity.standard.visitwebpage",
    "id": "a434d7ee-fe91-4b96-aaf2-61f1c6f4c46e",
    "data": {
        "munchkinId": "123-ABC-456",
        "leadId": "1234",
        "activityDate": "2026-11-24T01:12:49Z",
        "activityType": "Visit Webpage",
        "primaryAttributeValue": "MyLandingPage",
        "attributes": [
            {"name": "Webpage URL", "dataType": "string", "value": "/lp/123-ABC-456/Pricing.html"}
        ],
    },
}
SCORE = {
    **OPEN_EMAIL,
    "type": "com.adobe.platform.marketo.activity.standard.changescore",
    "id": "b2c1",
    "data": {
        "leadId": "1234",
        "activityDate": "2026-11-24T01:13:00Z",
        "activityType": "Change Score",
        "attributes": [
            {"name": "Change Value", "dataType": "string", "value": "+10"},
            {"name": "New Value", "dataType": "integer", "value": 95},
            {"name": "Old Value", "dataType": "integer", "value": 85},
        ],
    },
}
SEGMENT_CHANGE = {
    **OPEN_EMAIL,
    "type": "com.adobe.platform.marketo.activity.standard.changesegment",
    "id": "c3",
}


def test_bearer_token_is_the_proof() -> None:
    ADAPTER.verify(request(b"{}", AUTH), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="missing Authorization"):
        ADAPTER.verify(request(b"{}"), SECRET, CONFIG, NOW)


def test_data_stream_batch_becomes_the_equivalent_native_events() -> None:
    body = json.dumps([OPEN_EMAIL, VISIT, SCORE, SEGMENT_CHANGE]).encode()
    result = ADAPTER.translate(request(body, AUTH, content_type="application/json"), CONFIG, KNOWN)
    lead = {"id": "marketo:1234"}
    native = {
        "events": [
            {
                "id": "ce:urn:marketo_activity_stream:a1764870-4f4b-4f8c-82d6-59b0fff2d39c",
                "type": "email_opened",
                "occurred_at": "2026-11-24T01:10:30Z",
                "lead": lead,
                "properties": {"activity": "Open Email", "primary": "Nov newsletter"},
            },
            {
                "id": "ce:urn:marketo_activity_stream:a434d7ee-fe91-4b96-aaf2-61f1c6f4c46e",
                "type": "page_visited",
                "occurred_at": "2026-11-24T01:12:49Z",
                "lead": lead,
                "properties": {
                    "activity": "Visit Webpage",
                    "primary": "MyLandingPage",
                    "url": "/lp/123-ABC-456/Pricing.html",
                },
            },
            {
                "id": "ce:urn:marketo_activity_stream:b2c1",
                "type": "score_changed",
                "occurred_at": "2026-11-24T01:13:00Z",
                "lead": lead,
                "score": 95,
                "properties": {"activity": "Change Score"},
            },
        ]
    }
    assert result.events == parse_native_body(json.dumps(native).encode(), KNOWN)
    assert result.ignored == 1  # changesegment is not mapped


def test_batch_content_type_requires_an_array() -> None:
    body = json.dumps([OPEN_EMAIL]).encode()
    assert len(ADAPTER.translate(request(body, content_type=BATCH_TYPE), CONFIG, KNOWN).events) == 1
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(
            request(json.dumps(OPEN_EMAIL).encode(), content_type=BATCH_TYPE), CONFIG, KNOWN
        )
    assert caught.value.details == [
        {"field": "body", "error": f"{BATCH_TYPE} must be a JSON array of events"}
    ]


def test_structured_mode_with_native_shaped_data() -> None:
    event = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "https://crm.example.co.jp",
        "type": "content_downloaded",
        "time": "2026-11-24T10:15:00+09:00",
        "data": {
            "lead": {"id": "crm-00042", "email": "aiko@example.co.jp"},
            "properties": {"asset": "MA guide"},
        },
    }
    body = json.dumps(event).encode()
    [out] = ADAPTER.translate(request(body, content_type=STRUCTURED_TYPE), CONFIG, KNOWN).events
    assert (out.id, out.type, out.lead.id, out.properties) == (
        "ce:https://crm.example.co.jp:evt-1",
        "content_downloaded",
        "crm-00042",
        {"asset": "MA guide"},
    )


def test_binary_mode_reads_attributes_from_headers() -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "a1764870",
        "ce-source": "urn:marketo_activity_stream",
        "ce-type": "com.adobe.platform.marketo.activity.standard.filloutform",
        "ce-time": "2026-11-24T01:10:33Z",
    }
    data = {
        "leadId": 1234,
        "lead": {"email": "aiko@example.co.jp"},
        "activityType": "Fill Out Form",
    }
    [out] = ADAPTER.translate(
        request(json.dumps(data).encode(), headers, content_type="application/json"), CONFIG, KNOWN
    ).events
    assert (out.id, out.type, out.lead.id, out.lead.email) == (
        "ce:urn:marketo_activity_stream:a1764870",
        "form_submitted",
        "marketo:1234",
        "aiko@example.co.jp",
    )
    assert out.occurred_at.isoformat() == "2026-11-24T01:10:33+00:00"


def test_same_source_and_id_twice_in_a_batch_is_one_event() -> None:
    body = json.dumps([OPEN_EMAIL, OPEN_EMAIL]).encode()
    result = ADAPTER.translate(request(body), CONFIG, KNOWN)
    assert (len(result.events), result.duplicates) == (1, 1)


def test_missing_attributes_are_refused_naming_them() -> None:
    broken = {k: v for k, v in OPEN_EMAIL.items() if k != "source"}
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(request(json.dumps([OPEN_EMAIL, broken]).encode()), CONFIG, KNOWN)
    assert caught.value.details == [
        {"field": "body[1].source", "error": "missing required CloudEvents attribute"}
    ]
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(
            request(json.dumps({**OPEN_EMAIL, "specversion": "0.3"}).encode()), CONFIG, KNOWN
        )
    assert caught.value.details == [{"field": "body.specversion", "error": 'must be "1.0"'}]
