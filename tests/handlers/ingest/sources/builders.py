"""Test builders: raw requests, signatures computed independently of the adapters, a fixed now."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from handlers.ingest.native import BUILTIN_TYPES
from handlers.ingest.sources.base import RawRequest

NOW = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
KNOWN = (*BUILTIN_TYPES, "unsubscribed")
SECRET = "s3cr3t-for-tests-only"


def request(
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    url: str = "https://mqlbot.example.com/webhooks/test",
    content_type: str = "application/json",
    method: str = "POST",
) -> RawRequest:
    return RawRequest(
        method=method, public_url=url, headers=headers or {}, body=body, content_type=content_type
    )


def b64_hmac_sha256(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def hex_hmac_sha1(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha1).hexdigest()
