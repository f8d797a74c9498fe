"""Queueing Slack writes in the outbox, in the caller's transaction (draining lives with the sender)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import OutboxMessage, OutboxStatus
from store.upsert import insert_returning_id, table_of

KINDS = ("post", "update", "reply", "dm", "home", "upload", "webhook")


def card_target(mql_id: int) -> str:
    """The target key of an MQL's card: updates and thread replies refer to it."""
    return f"card:{mql_id}"


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    kind: str,
    payload: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    target_key: str | None = None,
    mql_id: int | None = None,
) -> int | None:
    """Queue one logical message; return its row id, or None if that message was already queued.

    An ``update`` supersedes every older unsent update of the same target, so Slack only ever
    receives the newest state of a card.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}; known: {', '.join(KINDS)}")
    new_id = await insert_returning_id(
        session,
        table_of(OutboxMessage),
        ["dedupe_key"],
        {
            "dedupe_key": dedupe_key,
            "kind": kind,
            "channel": channel,
            "target_key": target_key,
            "mql_id": mql_id,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    if new_id is not None and kind == "update" and target_key is not None:
        await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.target_key) == target_key,
                col(OutboxMessage.kind) == "update",
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.id) < new_id,
            )
            .values(status=OutboxStatus.SUPERSEDED)
        )
    return new_id
