"""The daily decay job: store each lead's decayed score, so lists and digests read current figures."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from handlers.context import Deps
from scoring.engine import score_at
from scoring.state import LeadScoreState
from store.sweeps import scored_leads

log = logging.getLogger(__name__)

BATCH = 1000
# Below this a change is noise; skipping it keeps a daily run from rewriting every row.
EPSILON = 1e-6


async def run_decay(deps: Deps, now: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Recompute ``Lead.score`` at ``now`` for every lead with a non-zero score.

    Only when ``decay_half_life`` is configured: the inactivity reset needs no job, the engine
    applies it whenever a score is read. Leads are walked by id in batches, one transaction per
    batch; a lead whose state cannot be read is logged and skipped.
    """
    rules = deps.config.rules
    if rules.decay_half_life is None:
        return {"skipped": "no [scoring] decay_half_life configured"}
    checked = updated = failed = 0
    last_id = 0
    while True:
        async with deps.sessions() as session, session.begin():
            leads = await scored_leads(session, after_id=last_id, limit=batch)
            for lead in leads:
                assert lead.id is not None
                last_id = lead.id
                checked += 1
                try:
                    score = score_at(LeadScoreState.from_json(lead.score_state), rules, now)
                except (ValueError, TypeError):  # one bad row never stops the batch
                    log.exception("decay: lead %s has an unreadable score state", lead.id)
                    failed += 1
                    continue
                if abs(score - lead.score) > EPSILON:
                    lead.score = score
                    session.add(lead)
                    updated += 1
        if len(leads) < batch:
            break
    return {"checked": checked, "updated": updated, "failed": failed}
