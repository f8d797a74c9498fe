"""CRM outcomes: an opportunity's state folded from its events by their own time, and attribution."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from scoring.currency import Money


class OutcomeType(StrEnum):
    """The native outcome event types."""

    CREATED = "opportunity_created"
    STAGE_CHANGED = "opportunity_stage_changed"
    WON = "opportunity_won"
    LOST = "opportunity_lost"


OUTCOME_TYPES: Final = frozenset(t.value for t in OutcomeType)


class OpportunityStatus(StrEnum):
    """Where an opportunity stands: still open, won or lost."""

    OPEN = "open"
    WON = "won"
    LOST = "lost"


DEFAULT_ATTRIBUTION_WINDOW: Final = timedelta(days=180)


@dataclass(frozen=True)
class OutcomeFact:
    """One received outcome event; ``seq`` (arrival order) breaks ties of equal times."""

    type: OutcomeType
    occurred_at: datetime
    seq: int
    name: str | None = None
    amount: Money | None = None
    stage: str | None = None
    lost_reason: str | None = None
    created_at: datetime | None = None  # the opportunity's own creation time, when the CRM says


@dataclass(frozen=True)
class OpportunityFacts:
    """An opportunity as its events, applied in time order, make it."""

    opened_at: datetime
    status: OpportunityStatus
    stage: str | None
    amount: Money | None
    name: str | None
    lost_reason: str | None
    won_at: datetime | None
    lost_at: datetime | None
    updated_at: datetime


def fold(events: Iterable[OutcomeFact]) -> OpportunityFacts:
    """Apply an opportunity's events by ``occurred_at``, whatever order they arrived in.

    A later event's name, amount and stage replace earlier ones; won and lost close it, a later
    stage change reopens it; a created event never undoes a close that happened after it.
    The opportunity opened at its created event (or the creation time the CRM gave), else at
    its earliest event.
    """
    ordered = sorted(events, key=lambda e: (e.occurred_at, e.seq))
    if not ordered:
        raise ValueError("an opportunity needs at least one event")
    opened = [e.occurred_at for e in ordered if e.type == OutcomeType.CREATED]
    opened += [e.created_at for e in ordered if e.created_at is not None]
    status: OpportunityStatus | None = None
    name = stage = lost_reason = None
    amount: Money | None = None
    won_at = lost_at = None
    for event in ordered:
        name = event.name or name
        amount = event.amount or amount
        stage = event.stage or stage
        if event.type == OutcomeType.WON:
            status, won_at, lost_at, lost_reason = (
                OpportunityStatus.WON,
                event.occurred_at,
                None,
                None,
            )
        elif event.type == OutcomeType.LOST:
            status, lost_at, won_at = OpportunityStatus.LOST, event.occurred_at, None
            lost_reason = event.lost_reason or lost_reason
        elif event.type == OutcomeType.STAGE_CHANGED or status is None:
            status, won_at, lost_at, lost_reason = OpportunityStatus.OPEN, None, None, None
    assert status is not None
    return OpportunityFacts(
        opened_at=min(opened) if opened else ordered[0].occurred_at,
        status=status,
        stage=stage,
        amount=amount,
        name=name,
        lost_reason=lost_reason,
        won_at=won_at,
        lost_at=lost_at,
        updated_at=ordered[-1].occurred_at,
    )


class LineKind(StrEnum):
    """What a thread line on the MQL card says happened."""

    OPENED = "opened"
    STAGE = "stage"
    WON = "won"
    LOST = "lost"


def changes(before: OpportunityFacts | None, after: OpportunityFacts) -> tuple[LineKind, ...]:
    """The thread lines a change of an opportunity is worth: opened, a new stage, won, lost."""
    lines: list[LineKind] = []
    if before is None:
        lines.append(LineKind.OPENED)
    if after.status != (None if before is None else before.status):
        if after.status == OpportunityStatus.WON:
            lines.append(LineKind.WON)
        elif after.status == OpportunityStatus.LOST:
            lines.append(LineKind.LOST)
        elif before is not None:
            lines.append(LineKind.STAGE)  # reopened
    elif (
        before is not None
        and after.stage != before.stage
        and after.status == OpportunityStatus.OPEN
    ):
        lines.append(LineKind.STAGE)
    return tuple(lines)


_RANK: Final = {OpportunityStatus.WON: 3, OpportunityStatus.OPEN: 2, OpportunityStatus.LOST: 1}


def furthest(opportunities: Iterable[OpportunityFacts]) -> OpportunityFacts | None:
    """The opportunity that got furthest (won, else open, else lost; the latest of a kind)."""
    return max(opportunities, key=lambda o: (_RANK[o.status], o.opened_at), default=None)


def attributed_mql(
    mqls: Sequence[tuple[int, datetime]], opened_at: datetime, window: timedelta
) -> int | None:
    """The lead's latest MQL qualified at or before ``opened_at`` and within ``window`` of it.

    ``mqls`` are (MQL id, qualified at); None means the opportunity is not from an MQL.
    """
    candidates = [(at, mql_id) for mql_id, at in mqls if at <= opened_at <= at + window]
    return max(candidates)[1] if candidates else None
