"""Opportunities and their outcome events: the idempotent event log, refolding, attribution, reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, func, type_coerce, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.currency import Money, parse_money
from scoring.outcomes import (
    OpportunityFacts,
    OpportunityStatus,
    OutcomeFact,
    OutcomeType,
    attributed_mql,
)
from store.models import Mql, Opportunity, OutcomeEvent
from store.rawsql import CHUNK
from store.types import UTCDateTime
from store.upsert import insert_ignore, table_of

OUTCOME = table_of(OutcomeEvent)
OPPORTUNITY = table_of(Opportunity)
MQL = table_of(Mql)


class OutcomeRow(NamedTuple):
    """One outcome event to store."""

    dedupe_key: str
    opportunity_id: str
    lead_id: int
    type: str
    occurred_at: datetime
    name: str | None
    money: Money | None
    stage: str | None
    lost_reason: str | None
    created_at: datetime | None


async def insert_outcome_events(
    session: AsyncSession, *, rows: Sequence[OutcomeRow], received_at: datetime
) -> dict[str, int]:
    """Store the events whose dedupe key is new (ON CONFLICT DO NOTHING); their keys → row ids."""
    if not rows:
        return {}
    stmt = insert_ignore(session, OUTCOME, ["dedupe_key"]).returning(
        OUTCOME.c.dedupe_key, OUTCOME.c.id
    )
    params = [
        {
            "dedupe_key": r.dedupe_key,
            "opportunity_id": r.opportunity_id,
            "lead_id": r.lead_id,
            "type": r.type,
            "occurred_at": r.occurred_at,
            "received_at": received_at,
            "name": r.name,
            "amount": None if r.money is None else str(r.money.amount),
            "currency": None if r.money is None else r.money.currency,
            "stage": r.stage,
            "lost_reason": r.lost_reason,
            "created_at": r.created_at,
        }
        for r in rows
    ]
    inserted: dict[str, int] = {}
    for row in params:  # one statement each: RETURNING of an executemany is not portable
        result = await session.exec(stmt.values(**row))
        for key, row_id in result.all():
            inserted[str(key)] = int(row_id)
    return inserted


@dataclass(frozen=True)
class StoredOutcomes:
    """An opportunity's stored events as facts, and the lead of its latest event."""

    lead_id: int
    facts: tuple[OutcomeFact, ...]


async def stored_outcomes(
    session: AsyncSession, *, opportunity_ids: Collection[str]
) -> dict[str, StoredOutcomes]:
    """Every stored event of these opportunities (a handful each), as facts to fold."""
    ids = sorted(opportunity_ids)
    found: dict[str, list[tuple[OutcomeFact, int]]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(OutcomeEvent).where(
                col(OutcomeEvent.opportunity_id).in_(ids[start : start + CHUNK])
            )
        )
        for e in rows.all():
            assert e.id is not None
            money = (
                None
                if e.amount is None or e.currency is None
                else parse_money(e.amount, e.currency)
            )
            fact = OutcomeFact(
                type=OutcomeType(e.type),
                occurred_at=e.occurred_at,
                seq=e.id,
                name=e.name,
                amount=money,
                stage=e.stage,
                lost_reason=e.lost_reason,
                created_at=e.created_at,
            )
            found.setdefault(e.opportunity_id, []).append((fact, e.lead_id))
    out: dict[str, StoredOutcomes] = {}
    for opp_id, pairs in found.items():
        latest = max(pairs, key=lambda p: (p[0].occurred_at, p[0].seq))
        out[opp_id] = StoredOutcomes(latest[1], tuple(p[0] for p in pairs))
    return out


async def opportunities_by_external_id(
    session: AsyncSession, *, external_ids: Collection[str]
) -> dict[str, Opportunity]:
    """The stored opportunities among these CRM ids."""
    ids = sorted(external_ids)
    out: dict[str, Opportunity] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(Opportunity).where(col(Opportunity.external_id).in_(ids[start : start + CHUNK]))
        )
        out.update((o.external_id, o) for o in rows.all())
    return out


def facts_of(row: Opportunity) -> OpportunityFacts:
    """A stored opportunity as facts (to compare with its refolded state)."""
    money = None
    if row.amount is not None and row.currency is not None:
        money = parse_money(row.amount, row.currency)
    return OpportunityFacts(
        opened_at=row.opened_at,
        status=OpportunityStatus(row.status),
        stage=row.stage,
        amount=money,
        name=row.name,
        lost_reason=row.lost_reason,
        won_at=row.won_at,
        lost_at=row.lost_at,
        updated_at=row.last_event_at,
    )


async def qualification_times(
    session: AsyncSession, *, lead_ids: Collection[int]
) -> dict[int, list[tuple[int, datetime]]]:
    """Each lead's MQLs as (MQL id, when it qualified), for attribution."""
    ids = sorted(lead_ids)
    # Typed, so that SQLite's stored text comes back as an aware datetime.
    at = type_coerce(func.coalesce(MQL.c.qualified_at, MQL.c.created_at), UTCDateTime())
    out: dict[int, list[tuple[int, datetime]]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(MQL.c.lead_id, MQL.c.id, at).where(MQL.c.lead_id.in_(ids[start : start + CHUNK]))
        )
        for lead_id, mql_id, when in rows.all():
            out.setdefault(int(lead_id), []).append((int(mql_id), when))
    return out


async def save_opportunity(
    session: AsyncSession,
    *,
    external_id: str,
    lead_id: int,
    mql_id: int | None,
    facts: OpportunityFacts,
    existing: Opportunity | None,
    now: datetime,
) -> None:
    """Insert or update the opportunity with its refolded facts and attribution."""
    money = facts.amount
    values = {
        "lead_id": lead_id,
        "mql_id": mql_id,
        "name": facts.name,
        "status": facts.status.value,
        "stage": facts.stage,
        "amount": None if money is None else str(money.amount),
        "amount_minor": None if money is None else money.minor,
        "currency": None if money is None else money.currency,
        "lost_reason": facts.lost_reason,
        "opened_at": facts.opened_at,
        "won_at": facts.won_at,
        "lost_at": facts.lost_at,
        "last_event_at": facts.updated_at,
        "updated_at": now,
    }
    if existing is None:
        stmt = insert_ignore(session, OPPORTUNITY, ["external_id"]).values(
            external_id=external_id, **values
        )
        result = await session.exec(stmt)
        if result.rowcount == 1:
            return
    # Stored already (or meanwhile by another replica, whose events we now hold too).
    await session.exec(
        update(OPPORTUNITY).where(OPPORTUNITY.c.external_id == external_id).values(**values)
    )


async def attribute_to_new_mql(
    session: AsyncSession,
    *,
    lead_id: int,
    mql_id: int,
    qualified_at: datetime,
    window: timedelta,
    now: datetime,
) -> int:
    """Attribute the lead's opportunities not from an MQL that this (late) MQL precedes.

    A lead's history can arrive after its opportunity (imported from the MA tool later): the
    opportunity then belongs to the MQL after all. Returns how many were attributed.
    """
    rows = await session.exec(
        select(Opportunity).where(
            col(Opportunity.lead_id) == lead_id, col(Opportunity.mql_id).is_(None)
        )
    )
    mqls = (await qualification_times(session, lead_ids=[lead_id])).get(lead_id, [])
    mqls = [*[(i, a) for i, a in mqls if i != mql_id], (mql_id, qualified_at)]
    count = 0
    for opp in rows.all():
        if attributed_mql(mqls, opp.opened_at, window) == mql_id:
            await session.exec(
                update(OPPORTUNITY)
                .where(and_(OPPORTUNITY.c.id == opp.id, OPPORTUNITY.c.mql_id.is_(None)))
                .values(mql_id=mql_id, updated_at=now)
            )
            count += 1
    return count


async def mql_opportunities(session: AsyncSession, *, mql_id: int) -> list[Opportunity]:
    """The opportunities attributed to one MQL, oldest first."""
    rows = await session.exec(
        select(Opportunity)
        .where(col(Opportunity.mql_id) == mql_id)
        .order_by(col(Opportunity.opened_at), col(Opportunity.id))
    )
    return list(rows.all())


async def lead_opportunities(
    session: AsyncSession, *, lead_id: int, limit: int = 10
) -> tuple[list[Opportunity], int]:
    """A lead's opportunities, newest first (at most ``limit``), and how many it has."""
    total = (
        await session.exec(
            select(func.count()).select_from(OPPORTUNITY).where(OPPORTUNITY.c.lead_id == lead_id)
        )
    ).one()
    rows = await session.exec(
        select(Opportunity)
        .where(col(Opportunity.lead_id) == lead_id)
        .order_by(col(Opportunity.opened_at).desc(), col(Opportunity.id).desc())
        .limit(limit)
    )
    return list(rows.all()), int(total)
