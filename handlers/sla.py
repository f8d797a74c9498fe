"""The SLA clock of one MQL: when its next reminder falls due, and what its card shows."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from handlers.context import HandlerConfig
from handlers.present.views import SlaStage, SlaView
from scoring.sla import SlaSnapshot, Stage, next_due_at, sla_status
from store.models import Mql, MqlState


def initial_nag_due(created_at: datetime, config: HandlerConfig) -> datetime | None:
    """``Mql.nag_due_at`` for a new MQL: its first unclaimed level, on the business clock."""
    snapshot = SlaSnapshot(Stage.UNCLAIMED, created_at, frozenset())
    return next_due_at(snapshot, config.levels, config.calendar)


def on_claimed(
    mql: Mql, config: HandlerConfig, *, sent_levels: Set[int] = frozenset()
) -> datetime | None:
    """``Mql.nag_due_at`` once ``mql`` is claimed (``claimed_at`` set): the unworked clock starts.

    ``sent_levels`` are unworked levels already sent for this MQL (a claim released and taken
    again keeps them: each level goes out at most once per MQL).
    """
    if mql.claimed_at is None:
        raise ValueError(f"MQL {mql.id}: on_claimed needs claimed_at to be set")
    snapshot = SlaSnapshot(Stage.UNWORKED, mql.claimed_at, frozenset(sent_levels))
    return next_due_at(snapshot, config.levels, config.calendar)


def snapshot_of(mql: Mql, sent_levels: Set[int]) -> SlaSnapshot | None:
    """The running SLA stage of ``mql``, or None once it is dispositioned."""
    if mql.state == MqlState.OPEN:
        return SlaSnapshot(Stage.UNCLAIMED, mql.created_at, frozenset(sent_levels))
    if mql.state == MqlState.CLAIMED:
        if mql.claimed_at is None:
            raise ValueError(f"MQL {mql.id} is claimed but has no claimed_at")
        return SlaSnapshot(Stage.UNWORKED, mql.claimed_at, frozenset(sent_levels))
    return None


def card_sla(mql: Mql, config: HandlerConfig, now: datetime) -> SlaView | None:
    """The card's SLA line ("unclaimed 22 min — over SLA"), or None once dispositioned."""
    snapshot = snapshot_of(mql, frozenset())
    if snapshot is None:
        return None
    status = sla_status(snapshot, config.levels, config.calendar, now)
    return SlaView(stage=SlaStage(status.stage.value), elapsed=status.elapsed, over_sla=status.over)
