"""Marketo: bearer token, the README template with quoted strings, empty scores, local dates."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from handlers.ingest.native import IngestError, parse_native_body
from handlers.ingest.sources.base import SignatureError
from handlers.ingest.sources.marketo import MarketoAdapter, parse_marketo_time
from tests.handlers.ingest.sources.builders import KNOWN, NOW, SECRET, request

ADAPTER = MarketoAdapter()
CONFIG = ADAPTER.parse_config({"timezone": "Asia/Tokyo"})
AUTH = {"Authorization": f"Bearer {SECRET}"}

# What Marketo renders from the template in the README (Request Token Encoding = JSON):
# string tokens arrive quoted and escaped by Marketo, numbers bare, the score token empty.
FORM = (
    b'{"source": "marketo", "event": "Fills Out Form", "asset": "MA guide \\"2026\\" LP.Form", '
    b'"lead": {"id": 1234, "email": "aiko@example.co.jp", "firstName": "Aiko", '
    b'"company": "Example \\"Global\\" KK", "title": "Marketing Manager", "score": ""}, '
    b'"campaign": {"id": 5678, "name": "Whitepaper follow-up"}, "sentAt": "2026-11-24 10:15:02"}'
)


def test_bearer_token_is_required_and_compared() -> None:
    ADAPTER.verify(request(FORM, AUTH), SECRET, CONFIG, NOW)
    ADAPTER.verify(request(FORM, {"authorization": f"bearer {SECRET}"}), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="missing Authorization"):
        ADAPTER.verify(request(FORM), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="does not match"):
        ADAPTER.verify(request(FORM, {"Authorization": "Bearer guess"}), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="must be 'Bearer <token>'"):
        ADAPTER.verify(request(FORM, {"Authorization": f"Basic {SECRET}"}), SECRET, CONFIG, NOW)
    with pytest.raises(SignatureError, match="no secret is configured"):
        ADAPTER.verify(request(FORM, {"Authorization": "Bearer x"}), "", CONFIG, NOW)


def test_template_body_becomes_the_equivalent_native_event() -> None:
    result = ADAPTER.translate(request(FORM, AUTH), CONFIG, KNOWN)
    native = {
        "id": "marketo:1234:5678:Fills Out Form:2026-11-24 10:15:02",
        "type": "form_submitted",
        "occurred_at": "2026-11-24T10:15:02+09:00",
        "lead": {
            "id": "marketo:1234",
            "email": "aiko@example.co.jp",
            "name": "Aiko",
            "company": 'Example "Global" KK',
            "title": "Marketing Manager",
        },
        "properties": {
            "trigger": "Fills Out Form",
            "asset": 'MA guide "2026" LP.Form',
            "campaign": "Whitepaper follow-up",
            "campaign_id": "5678",
        },
    }
    assert result.events == parse_native_body(json.dumps(native).encode(), KNOWN)
    assert result.events[0].occurred_at == datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)


def test_score_is_changed_carries_the_absolute_score() -> None:
    body = FORM.replace(b"Fills Out Form", b"Score is Changed").replace(
        b'"score": ""', b'"score": 85'
    )
    [event] = ADAPTER.translate(request(body, AUTH), CONFIG, KNOWN).events
    assert (event.type, event.score) == ("score_changed", 85.0)
    quoted = body.replace(b'"score": 85', b'"score": "1,085"')
    [event] = ADAPTER.translate(request(quoted, AUTH), CONFIG, KNOWN).events
    assert event.score == 1085.0


def test_empty_score_on_score_is_changed_is_ignored_not_refused() -> None:
    body = FORM.replace(b"Fills Out Form", b"Score is Changed")
    result = ADAPTER.translate(request(body, AUTH), CONFIG, KNOWN)
    assert (result.events, result.ignored) == ([], 1)


def test_unmapped_trigger_is_ignored() -> None:
    body = FORM.replace(b"Fills Out Form", b"Data Value Changes")
    result = ADAPTER.translate(request(body, AUTH), CONFIG, KNOWN)
    assert (result.events, result.ignored) == ([], 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24 10:15:02", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("2026-11-24T10:15:02", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("2026-11-24T01:15:02Z", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("2026-11-24 10:15:02+09:00", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("2026/11/24 10:15:02", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("11/24/2026 10:15:02 AM", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("Nov 24, 2026 10:15:02 AM", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
        ("2026-11-24 10:15:02 JST", datetime(2026, 11, 24, 1, 15, 2, tzinfo=UTC)),
    ],
)
def test_sent_at_is_parsed_leniently_in_the_configured_zone(text: str, expected: datetime) -> None:
    assert parse_marketo_time(text, "sentAt", CONFIG.zone) == expected


def test_unreadable_or_missing_dates_and_leads_are_refused_naming_the_field() -> None:
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(
            request(FORM.replace(b"2026-11-24 10:15:02", b"soon"), AUTH), CONFIG, KNOWN
        )
    assert caught.value.details == [
        {"field": "sentAt", "error": "unreadable date 'soon'; use ISO 8601"}
    ]
    no_lead = json.dumps({"event": "Fills Out Form", "sentAt": "2026-11-24 10:00:00"}).encode()
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(request(no_lead, AUTH), CONFIG, KNOWN)
    assert caught.value.details[0]["field"] == "lead.id"
    with pytest.raises(IngestError) as caught:
        ADAPTER.translate(request(b'{"lead": {}}', AUTH), CONFIG, KNOWN)
    assert caught.value.details[0]["field"] == "event"


def test_config_defaults_and_errors() -> None:
    default = ADAPTER.parse_config({})
    assert (default.timezone, default.secret_env) == ("UTC", "MQLBOT_MARKETO_SECRET")
    assert default.event_types["Clicks Link in Email"] == "email_clicked"
    with pytest.raises(ValueError, match=r"^sources\.marketo\.timezone: unknown time zone"):
        ADAPTER.parse_config({"timezone": "Mars/Olympus"})
    with pytest.raises(ValueError, match=r"^sources\.marketo\.event_types\.Opens Email: must be"):
        ADAPTER.parse_config({"event_types": {"Opens Email": 3}})
