"""Shared pieces: case-insensitive headers, dedupe keys, scores, bearer tokens, times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from handlers.ingest.native import IngestError
from handlers.ingest.sources.base import (
    RawRequest,
    SignatureError,
    as_score,
    event_key,
    from_epoch_ms,
    load_json,
    parse_time,
    verify_bearer,
)


def test_headers_are_case_insensitive_and_media_type_drops_parameters() -> None:
    req = RawRequest(
        "POST", "https://x", {"Webhook-Signature": " abc ", "Content-Type": "A/B; x=1"}, b""
    )
    assert req.header("WEBHOOK-SIGNATURE") == "abc"
    assert req.headers["webhook-signature"] == " abc "
    assert req.media_type == "a/b"
    assert RawRequest("POST", "u", {}, b"", "application/cloudevents+json").media_type == (
        "application/cloudevents+json"
    )


def test_long_keys_are_hashed_stably_within_the_native_limit() -> None:
    assert event_key("mautic", "https://m.example", "form", 9) == "mautic:https://m.example:form:9"
    long = event_key("mautic", "https://m.example/" + "a" * 400, "form", 9)
    assert len(long) <= 300
    assert long.startswith("mautic:sha256:")
    assert long == event_key("mautic", "https://m.example/" + "a" * 400, "form", 9)
    assert long != event_key("mautic", "https://m.example/" + "a" * 400, "form", 10)


@pytest.mark.parametrize(
    ("raw", "score"),
    [("", None), (None, None), ("  ", None), ("72", 72.0), (" 1,085 ", 1085.0), (12.5, 12.5)],
)
def test_scores(raw: object, score: float | None) -> None:
    assert as_score(raw, "score") == score


@pytest.mark.parametrize("raw", ["high", True, [1], float("inf"), 10**400])
def test_bad_scores_name_the_field(raw: object) -> None:
    with pytest.raises(IngestError) as caught:
        as_score(raw, "lead.score")
    assert caught.value.details[0]["field"] == "lead.score"


def test_bearer_token() -> None:
    ok = RawRequest("POST", "u", {"Authorization": "Bearer tok"}, b"")
    verify_bearer(ok, "tok")
    with pytest.raises(SignatureError, match="does not match"):
        verify_bearer(ok, "tok2")


def test_times() -> None:
    assert from_epoch_ms("1795482900000", "t") == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
    assert parse_time("2026-11-24T10:15:00+09:00", "t") == datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
    with pytest.raises(IngestError, match="invalid payload") as caught:
        parse_time("2026-11-24T10:15:00", "item.timestamp")
    assert caught.value.details == [
        {"field": "item.timestamp", "error": "timestamp has no UTC offset: '2026-11-24T10:15:00'"}
    ]
    with pytest.raises(IngestError):
        from_epoch_ms("²", "t")


def test_json_errors_are_400_and_oversize_413() -> None:
    with pytest.raises(IngestError) as caught:
        load_json(b"{")
    assert caught.value.status == 400
    with pytest.raises(IngestError) as caught:
        load_json(b"1" * (1024 * 1024 + 1))
    assert caught.value.status == 413
