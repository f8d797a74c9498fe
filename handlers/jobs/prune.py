"""The daily prune job: delete events older than the scoring retention, which no score needs any more.

Scores never read stored events: each lead's scoring state carries what the engine needs, and
an event older than `[scoring] retention` no longer changes a score. The event rows only feed
the card's and `/mql lead`'s activity lists, so once past retention they are dead weight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.context import Deps
from store.events import delete_events_before

BATCH = 5000  # events per transaction: short write locks, ingest goes on in between


async def run_prune(deps: Deps, now: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Delete every event that occurred more than `retention` before ``now``, in batches."""
    before = now - deps.config.rules.retention
    deleted = 0
    while True:
        async with deps.sessions() as session, session.begin():
            count = await delete_events_before(session, before=before, limit=batch)
        deleted += count
        if count < batch:
            return {"deleted": deleted, "before": before.isoformat()}
