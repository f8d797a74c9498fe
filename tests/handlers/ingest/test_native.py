"""The native body parser: every class of bad input gets its status and a message naming the field."""

from __future__ import annotations

import json

import pytest

from handlers.ingest.native import (
    BUILTIN_TYPES,
    MAX_BODY_BYTES,
    IngestError,
    parse_native_body,
)

EVENT = {
    "id": "evt-1",
    "type": "content_downloaded",
    "occurred_at": "2026-11-24T10:15:00+09:00",
    "lead": {"id": "crm-00042", "email": "Aiko@Example.co.jp", "name": "佐藤 愛子"},
    "properties": {"asset": "MA guide"},
}


def _refused(body: bytes) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_native_body(body, BUILTIN_TYPES)
    return caught.value


def test_single_event_and_batch_are_accepted() -> None:
    (single,) = parse_native_body(json.dumps(EVENT).encode(), BUILTIN_TYPES)
    assert single.lead.email == "aiko@example.co.jp"
    assert single.occurred_at.utcoffset() is not None
    batch = parse_native_body(json.dumps({"events": [EVENT, EVENT]}).encode(), BUILTIN_TYPES)
    assert len(batch) == 2


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe", b"[" * 100_000, b"1" * 5000],
    ids=["syntax", "not-utf8", "too-deep", "huge-integer"],
)
def test_malformed_json_is_400(raw: bytes) -> None:
    error = _refused(raw)
    assert error.status == 400
    assert error.error.startswith("malformed JSON")


def test_oversize_body_is_413() -> None:
    error = _refused(b" " * (MAX_BODY_BYTES + 1))
    assert (error.status, error.body()["limit_bytes"]) == (413, MAX_BODY_BYTES)


def test_more_than_1000_events_is_413() -> None:
    error = _refused(json.dumps({"events": [EVENT] * 1001}).encode())
    assert error.status == 413
    assert error.error == "too many events: 1001 > 1000"


def test_every_bad_field_is_named() -> None:
    bad = dict(EVENT, type="coffee", occurred_at="2026-11-24T10:15:00", lead={"name": "x"})
    error = _refused(json.dumps({"events": [EVENT, bad]}).encode())
    assert error.status == 422
    fields = {d["field"]: d["error"] for d in error.body()["details"]}
    assert set(fields) == {"events[1].type", "events[1].occurred_at", "events[1].lead"}
    assert fields["events[1].type"].startswith("unknown event type 'coffee'; known types: ")
    assert "email_opened" in fields["events[1].type"]
    assert fields["events[1].occurred_at"] == "Input should have timezone info"
    assert fields["events[1].lead"] == "lead.id or lead.email is required"


def test_score_and_score_delta_together_are_refused() -> None:
    error = _refused(json.dumps(dict(EVENT, score=10, score_delta=5)).encode())
    assert error.body()["details"] == [
        {"field": "body", "error": "give either score or score_delta, not both"}
    ]


def test_a_bare_list_is_refused_with_the_expected_shape() -> None:
    error = _refused(b"[1, 2]")
    assert error.status == 422
    assert error.error == 'body must be an event object or {"events": [...]}'
