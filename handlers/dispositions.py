"""The four dispositions described once: the card, modals, replies, ingest, jobs and digest read this table."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from handlers.context import HandlerConfig
from handlers.present.actions import ActionId
from store.models import LeadStage, MqlState


class ReasonList(StrEnum):
    """Which configured list a disposition asks its reason from (the value is its catalog prefix)."""

    RECYCLE = "recycle_reason"  # [recycle.reasons]: each reason with its return period
    DISQUALIFY = "disqualify_reason"  # [disqualify] reasons


@dataclass(frozen=True)
class DispositionSpec:
    """One disposition: how it is stored, shown, asked for, and what it does to the lead."""

    state: MqlState  # the id, stored as the MQL's state
    stage: LeadStage  # the funnel stage the lead moves to (and the digest counts)
    label_key: str  # catalog key of its name: buttons, replies, App Home, digest
    button: ActionId  # the card button that opens its modal
    modal: ActionId  # the modal's callback id
    reason: ReasonList | None  # the list its modal asks a reason from; None asks no reason
    returns: bool  # comes back to Lead on its chosen date (the recycle job)
    requalifies: bool  # the lead can qualify again (a new card) while in this stage
    locked: bool  # once set, only a manager changes it, and only a manager reopens it


DISPOSITIONS: Final[tuple[DispositionSpec, ...]] = (
    DispositionSpec(
        state=MqlState.SQL,
        stage=LeadStage.SQL,
        label_key="disposition.sql",
        button=ActionId.DISPOSITION_SQL,
        modal=ActionId.SQL_MODAL,
        reason=None,
        returns=False,
        requalifies=False,  # with field sales now: field sales hands it back
        locked=False,
    ),
    DispositionSpec(
        state=MqlState.LEAD,
        stage=LeadStage.LEAD,
        label_key="disposition.lead",
        button=ActionId.DISPOSITION_LEAD,
        modal=ActionId.LEAD_MODAL,
        reason=None,
        returns=False,
        requalifies=True,
        locked=False,
    ),
    DispositionSpec(
        state=MqlState.RECYCLED,
        stage=LeadStage.RECYCLED,
        label_key="disposition.recycled",
        button=ActionId.DISPOSITION_RECYCLED,
        modal=ActionId.RECYCLE_MODAL,
        reason=ReasonList.RECYCLE,
        returns=True,
        requalifies=True,
        locked=False,
    ),
    DispositionSpec(
        state=MqlState.DISQUALIFIED,
        stage=LeadStage.DISQUALIFIED,
        label_key="disposition.disqualified",
        button=ActionId.DISPOSITION_DISQUALIFIED,
        modal=ActionId.DISQUALIFY_MODAL,
        reason=ReasonList.DISQUALIFY,
        returns=False,
        requalifies=False,  # until a manager reopens it
        locked=True,
    ),
)
"""Every disposition, in the order the card shows its buttons."""

DISPOSITION_OF: Final[Mapping[str, DispositionSpec]] = MappingProxyType(
    {spec.state.value: spec for spec in DISPOSITIONS}
)
"""Stored state → its disposition; open and claimed MQLs have none."""

QUALIFYING_STAGES: Final = frozenset(
    {LeadStage.TARGET} | {spec.stage for spec in DISPOSITIONS if spec.requalifies}
)
"""Lead stages in which a lead may become an MQL (again)."""

RETURNING_STATES: Final = tuple(spec.state for spec in DISPOSITIONS if spec.returns)
"""States the recycle job brings back to Lead on their return date."""

LOCKED_STATES: Final = tuple(spec.state for spec in DISPOSITIONS if spec.locked)
"""States only a manager changes, and the ones a manager may reopen."""


def reason_keys(spec: DispositionSpec, config: HandlerConfig) -> Collection[str]:
    """The configured reasons a disposition's modal offers (none when it asks no reason)."""
    if spec.reason is ReasonList.RECYCLE:
        return config.recycle_reasons
    if spec.reason is ReasonList.DISQUALIFY:
        return config.disqualify_reasons
    return ()
