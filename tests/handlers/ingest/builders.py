"""Deterministic test data for ingest: native events, signed requests, a settable clock, row counts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.runtime import Runtime
from bot.settings import load_settings
from handlers.ingest.auth import sign
from store.engine import SessionFactory
from store.models import AuditEntry, Event, Lead, Mql, OutboxMessage

SECRET = "test-webhook-secret"


class SettableClock:
    """The bot's clock in tests: fixed, moved explicitly."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def build_runtime(
    config_file: Path, url: str, clock: SettableClock, *, secret: str | None = SECRET
) -> Runtime:
    """A runtime on `url` with the test clock, Slack pointed at a closed port, the webhook secret."""
    overrides: dict[str, object] = {
        "database_url": url,
        "slack_api_url": "http://127.0.0.1:9/api/",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "test-signing-secret",
    }
    if secret is not None:
        overrides["webhook_secret"] = secret
    return Runtime.build(load_settings(config_file, **overrides), clock=clock)


def event(
    id: str,
    type: str = "content_downloaded",
    *,
    at: datetime | str = "2026-11-24T10:00:00+09:00",
    lead: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One native event about crm-00042 unless told otherwise."""
    occurred = at if isinstance(at, str) else at.isoformat()
    body: dict[str, Any] = {
        "id": id,
        "type": type,
        "occurred_at": occurred,
        "lead": lead
        or {
            "id": "crm-00042",
            "email": "aiko@example.co.jp",
            "name": "Aiko Sato",
            "company": "Example KK",
            "title": "Marketing Manager",
            "source": "webinar",
            "campaign": "2026-11 MA seminar",
        },
    }
    body.update(extra)
    return body


def encode(body: Any) -> bytes:
    return json.dumps(body).encode()


def signed_headers(raw: bytes, timestamp: int, secret: str = SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-MQLBot-Timestamp": str(timestamp),
        "X-MQLBot-Signature": sign(secret, timestamp, raw),
    }


async def counts(sessions: SessionFactory) -> dict[str, int]:
    """How many rows each table the ingest writes holds."""
    out: dict[str, int] = {}
    async with sessions() as session:
        for name, model in (
            ("lead", Lead),
            ("event", Event),
            ("mql", Mql),
            ("audit", AuditEntry),
            ("outbox", OutboxMessage),
        ):
            rows = await session.exec(select(func.count()).select_from(model))
            out[name] = int(rows.one())
    return out
