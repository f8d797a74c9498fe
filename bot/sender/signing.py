"""The outbound CRM webhook's signature: the same HMAC scheme the inbound webhooks check."""

from __future__ import annotations

import hashlib
import hmac


def sign_webhook(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The signature headers of our outbound webhook, the same scheme as the inbound one."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {
        "X-MQLBot-Timestamp": str(timestamp),
        "X-MQLBot-Signature": f"sha256={mac.hexdigest()}",
    }
