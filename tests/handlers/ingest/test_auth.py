"""The native webhook's authentication, as a pure function of headers, body, secret and now."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from handlers.ingest.auth import AuthError, sign, verify

NOW = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = b'{"id": "e1"}'
SECRET = "s3cret"


def signed(ts: int | str = TS, body: bytes = BODY, secret: str = SECRET) -> dict[str, str]:
    return {"X-MQLBot-Timestamp": str(ts), "X-MQLBot-Signature": sign(secret, ts, body)}


def refusal(headers: dict[str, str], secret: str | None = SECRET, now: datetime = NOW) -> str:
    with pytest.raises(AuthError) as caught:
        verify(headers, BODY, secret, now=now)
    return caught.value.reason


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"key", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign("key", 1700000000, b"{}") == f"sha256={expected}"


def test_a_signed_request_is_accepted() -> None:
    assert verify(signed(), BODY, SECRET, now=NOW) == "signature"


def test_an_upper_case_hex_signature_is_accepted() -> None:
    headers = signed()
    headers["X-MQLBot-Signature"] = "sha256=" + headers["X-MQLBot-Signature"][7:].upper()
    assert verify(headers, BODY, SECRET, now=NOW) == "signature"


def test_the_bearer_token_is_accepted() -> None:
    assert verify({"Authorization": f"Bearer {SECRET}"}, BODY, SECRET, now=NOW) == "bearer"


@pytest.mark.parametrize("offset", [-300, 0, 300])
def test_timestamps_within_300_seconds_either_way_are_accepted(offset: int) -> None:
    assert verify(signed(TS + offset), BODY, SECRET, now=NOW) == "signature"


@pytest.mark.parametrize(
    ("offset", "reason"),
    [
        (-301, "stale timestamp: 301 s old (window 300 s)"),
        (301, "stale timestamp: 301 s in the future (window 300 s)"),
        (-86400, "stale timestamp: 86400 s old (window 300 s)"),
    ],
)
def test_timestamps_outside_the_window_are_refused(offset: int, reason: str) -> None:
    assert refusal(signed(TS + offset)) == reason


def test_the_window_edge_counts_fractions_of_a_second() -> None:
    assert refusal(signed(TS - 300), now=NOW + timedelta(milliseconds=1)) == (
        "stale timestamp: 300 s old (window 300 s)"
    )


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing X-MQLBot-Signature header (or Authorization: Bearer <secret>)"),
        ({"X-MQLBot-Timestamp": str(TS)}, "missing X-MQLBot-Signature header"),
        ({"X-MQLBot-Signature": "sha256=" + "a" * 64}, "missing X-MQLBot-Timestamp header"),
        (
            {"X-MQLBot-Timestamp": "1.5e9", "X-MQLBot-Signature": "sha256=" + "a" * 64},
            "malformed X-MQLBot-Timestamp '1.5e9': expected unix seconds",
        ),
        (
            {"X-MQLBot-Timestamp": "-5", "X-MQLBot-Signature": "sha256=" + "a" * 64},
            "malformed X-MQLBot-Timestamp '-5': expected unix seconds",
        ),
        (
            {"X-MQLBot-Timestamp": str(TS), "X-MQLBot-Signature": "a" * 64},
            "malformed X-MQLBot-Signature: expected 'sha256=<hex>'",
        ),
        (
            {"X-MQLBot-Timestamp": str(TS), "X-MQLBot-Signature": "sha256=xyz"},
            "malformed X-MQLBot-Signature: expected 64 hex digits after 'sha256='",
        ),
        (
            {"X-MQLBot-Timestamp": str(TS), "X-MQLBot-Signature": "sha256=" + "a" * 64},
            "bad signature",
        ),
        ({"Authorization": "Bearer nope"}, "bearer token does not match"),
        ({"Authorization": "Token s3cret"}, "Authorization header must be 'Bearer <secret>'"),
    ],
)
def test_each_refusal_names_its_reason(headers: dict[str, str], reason: str) -> None:
    assert refusal(headers) == reason


def test_a_signature_with_another_secret_is_refused() -> None:
    assert refusal(signed(secret="other")) == "bad signature"


def test_a_signature_with_another_timestamp_is_refused() -> None:
    headers = signed()
    headers["X-MQLBot-Timestamp"] = str(TS + 1)
    assert refusal(headers) == "bad signature"


@pytest.mark.parametrize("secret", [None, ""])
def test_without_a_secret_everything_is_refused(secret: str | None) -> None:
    reason = "webhook secret not configured (set MQLBOT_WEBHOOK_SECRET): refusing all"
    assert refusal(signed(secret=""), secret=secret) == reason
    assert refusal({"Authorization": "Bearer "}, secret=secret) == reason
