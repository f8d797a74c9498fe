"""Who may call the native webhook: an HMAC-SHA256 signature with a replay window, or a bearer token."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

SIGNATURE_HEADER = "x-mqlbot-signature"
TIMESTAMP_HEADER = "x-mqlbot-timestamp"
AUTHORIZATION_HEADER = "authorization"
REPLAY_WINDOW_SECONDS = 300
_PREFIX = "sha256="
_HEX_LENGTH = 64


class AuthError(Exception):
    """The request is refused with 401; `reason` says precisely why (never the secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-MQLBot-Signature`` value for a body sent at ``timestamp`` (for senders and tests)."""
    message = str(timestamp).encode("ascii") + b"." + body
    return _PREFIX + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        # Plain dicts from tests may carry any case; ASGI headers are lower-case already.
        for key, candidate in headers.items():
            if key.lower() == name:
                value = candidate
                break
    return None if value is None else value.strip()


def _check_bearer(authorization: str, secret: str) -> None:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <secret>'")
    if not hmac.compare_digest(token.strip().encode("utf-8"), secret.encode("utf-8")):
        raise AuthError("bearer token does not match")


def _parse_timestamp(raw: str | None) -> int:
    if not raw:
        raise AuthError("missing X-MQLBot-Timestamp header")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise AuthError(f"malformed X-MQLBot-Timestamp {raw[:40]!r}: expected unix seconds")
    return int(raw)


def verify(headers: Mapping[str, str], body: bytes, secret: str | None, *, now: datetime) -> str:
    """Accept the request or raise AuthError; returns how it was authenticated.

    A signed request needs ``X-MQLBot-Timestamp`` (unix seconds, at most 300 s off `now` either
    way, the edges included) and ``X-MQLBot-Signature: sha256=<hex HMAC-SHA256 of
    "<timestamp>.<raw body>">``. Otherwise ``Authorization: Bearer <secret>``. Comparisons are
    constant-time. Without a configured secret every request is refused.
    """
    if not secret:
        raise AuthError("webhook secret not configured (set MQLBOT_WEBHOOK_SECRET): refusing all")
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    authorization = _header(headers, AUTHORIZATION_HEADER)
    if signature is None and timestamp is None and authorization:
        _check_bearer(authorization, secret)
        return "bearer"
    if not signature:
        if timestamp is None:
            raise AuthError("missing X-MQLBot-Signature header (or Authorization: Bearer <secret>)")
        raise AuthError("missing X-MQLBot-Signature header")
    sent_at = _parse_timestamp(timestamp)
    skew = now.timestamp() - sent_at
    if abs(skew) > REPLAY_WINDOW_SECONDS:
        direction = "old" if skew > 0 else "in the future"
        raise AuthError(
            f"stale timestamp: {abs(int(skew))} s {direction} (window {REPLAY_WINDOW_SECONDS} s)"
        )
    if not signature.startswith(_PREFIX):
        raise AuthError("malformed X-MQLBot-Signature: expected 'sha256=<hex>'")
    given = signature[len(_PREFIX) :].lower()
    if len(given) != _HEX_LENGTH or any(c not in "0123456789abcdef" for c in given):
        raise AuthError("malformed X-MQLBot-Signature: expected 64 hex digits after 'sha256='")
    assert timestamp is not None  # _parse_timestamp refused a missing one
    expected = sign(secret, timestamp, body)[len(_PREFIX) :]
    if not hmac.compare_digest(expected.encode("ascii"), given.encode("ascii")):
        raise AuthError("bad signature")
    return "signature"
