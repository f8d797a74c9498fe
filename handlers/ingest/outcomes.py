"""The outcome part of an ingest: store CRM outcome events, refold their opportunities, tell the card.

Runs inside the ingest's transaction, so a batch mixing lead activity and outcomes is stored
whole or not at all. Each opportunity is refolded from all its stored events (a handful), which
makes the order of arrival irrelevant: a "won" that arrives before its "created" is applied by
its own time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.ingest.native import NativeEvent
from handlers.present.blocks._text import escape
from handlers.present.cards import enqueue_card_update
from handlers.present.catalog import Catalog
from scoring.currency import format_money
from scoring.outcomes import LineKind, OpportunityFacts, attributed_mql, changes, fold
from store.models import OutboxKind
from store.mqls import get_mql
from store.opportunities import (
    OpportunityChange,
    OutcomeRow,
    attribute_to_new_mql,
    facts_of,
    insert_outcome_events,
    opportunities_by_external_id,
    qualification_times,
    save_opportunities,
    stored_outcomes,
)
from store.outbox import card_target, enqueue


@dataclass(frozen=True)
class OutcomeItem:
    """One validated outcome event, its dedupe key and its (found or created) lead."""

    key: str
    event: NativeEvent
    lead_id: int


async def apply_outcomes(
    session: AsyncSession, deps: Deps, items: Sequence[OutcomeItem], now: datetime
) -> set[str]:
    """Store the new outcome events and update their opportunities; returns the keys stored.

    A key already stored (a repeat, or a concurrent copy on another replica) changes nothing.
    """
    rows = []
    for item in items:
        opp = item.event.opportunity
        assert opp is not None  # NativeEvent guarantees it for outcome types
        rows.append(
            OutcomeRow(
                dedupe_key=item.key,
                opportunity_id=opp.id,
                lead_id=item.lead_id,
                type=item.event.type,
                occurred_at=item.event.occurred_at,
                name=opp.name,
                money=opp.money,
                stage=opp.stage,
                lost_reason=opp.lost_reason,
                created_at=opp.created_at,
            )
        )
    inserted = await insert_outcome_events(session, rows=rows, received_at=now)
    # The newest stored event id per opportunity names this change in the outbox keys.
    touched: dict[str, int] = {}
    for row in rows:
        if row.dedupe_key in inserted:
            touched[row.opportunity_id] = max(
                touched.get(row.opportunity_id, 0), inserted[row.dedupe_key]
            )
    if not touched:
        return set(inserted)
    stored = await stored_outcomes(session, opportunity_ids=touched)
    existing = await opportunities_by_external_id(session, external_ids=touched)
    mqls = await qualification_times(session, lead_ids={s.lead_id for s in stored.values()})
    window = deps.config.attribution_window
    saved: list[OpportunityChange] = []
    for opp_id in sorted(touched):
        outcomes = stored[opp_id]
        after = fold(outcomes.facts)
        mql_id = attributed_mql(mqls.get(outcomes.lead_id, []), after.opened_at, window)
        saved.append(OpportunityChange(opp_id, outcomes.lead_id, mql_id, after))
    await save_opportunities(session, changes=saved, existing=existing, now=now)
    for change in saved:
        if change.mql_id is None:
            continue
        known = existing.get(change.external_id)
        same = known is not None and known.mql_id == change.mql_id
        before = facts_of(known) if known is not None and same else None
        lines = changes(before, change.facts)
        await _tell_card(
            session, deps, change.mql_id, change.facts, lines, touched[change.external_id]
        )
    return set(inserted)


async def attribute_late_history(
    session: AsyncSession, deps: Deps, *, lead_id: int, mql_id: int, qualified_at: datetime
) -> None:
    """A new MQL takes the lead's unattributed opportunities it precedes (history arrived late)."""
    await attribute_to_new_mql(
        session,
        lead_id=lead_id,
        mql_id=mql_id,
        qualified_at=qualified_at,
        window=deps.config.attribution_window,
        now=deps.clock(),
    )


def outcome_line(kind: LineKind, facts: OpportunityFacts, catalog: Catalog) -> str:
    """The thread line for one change: "Opportunity opened: ¥3,200,000", "Won", "Lost: budget"."""
    amount = None if facts.amount is None else format_money(facts.amount, catalog.language)
    if kind == LineKind.OPENED:
        what = amount or escape(facts.name or facts.stage or "")
        return catalog.t("outcome.opened", what=what) if what else catalog.t("outcome.opened_bare")
    if kind == LineKind.WON:
        return catalog.t("outcome.won", amount=amount) if amount else catalog.t("outcome.won_bare")
    if kind == LineKind.LOST:
        if facts.lost_reason:
            return catalog.t("outcome.lost", reason=escape(facts.lost_reason))
        return catalog.t("outcome.lost_bare")
    return catalog.t("outcome.stage", stage=escape(facts.stage or "—"))


async def _tell_card(
    session: AsyncSession,
    deps: Deps,
    mql_id: int,
    facts: OpportunityFacts,
    kinds: Sequence[LineKind],
    change_id: int,
) -> None:
    """One thread line per change and the card redrawn with the furthest stage (via the outbox)."""
    mql = await get_mql(session, mql_id=mql_id)
    if mql is None:
        return
    catalog = Catalog(deps.config.language, deps.config.timezone)
    now = deps.queued_at()
    await enqueue_card_update(session, deps, mql_id, revision=f"o{change_id}")
    channel = mql.slack_channel
    for kind in kinds:
        text = outcome_line(kind, facts, catalog)
        await enqueue(
            session,
            dedupe_key=f"outcome:{mql_id}:{change_id}:{kind.value}",
            kind=OutboxKind.REPLY,
            payload={"text": text} | ({"channel": channel} if channel else {}),
            now=now,
            channel=channel,
            target_key=card_target(mql_id),
            mql_id=mql_id,
        )
