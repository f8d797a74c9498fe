"""Opportunities and their outcome events: the idempotent event log, refolding, attribution, reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, func, type_coerce, update
from sqlalchemy import select as core_select
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
    # An executemany: SQLAlchemy batches it into multi-row INSERT … RETURNING ("insertmanyvalues")
    # from one compiled statement.
    result = await session.exec(stmt, params=params)
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
    c = OUTCOME.c
    columns = (c.opportunity_id, c.lead_id, c.type, c.occurred_at, c.id, c.name, c.amount,
               c.currency, c.stage, c.lost_reason, c.created_at)  # fmt: skip
    for start in range(0, len(ids), CHUNK):
        query = core_select(*columns).where(c.opportunity_id.in_(ids[start : start + CHUNK]))
        rows = await session.exec(query)  # type: ignore[call-overload]
        for opp_id, lead_id, kind, at, seq, name, amount, currency, stage, reason, made in rows:
            money = None if amount is None or currency is None else parse_money(amount, currency)
            fact = OutcomeFact(OutcomeType(kind), at, seq, name, money, stage, reason, made)
            found.setdefault(opp_id, []).append((fact, lead_id))
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


class OpportunityChange(NamedTuple):
    """An opportunity's refolded facts and attribution, to store."""

    external_id: str
    lead_id: int
    mql_id: int | None
    facts: OpportunityFacts


def _values(change: OpportunityChange, now: datetime) -> dict[str, Any]:
    facts, money = change.facts, change.facts.amount
    return {
        "external_id": change.external_id,
        "lead_id": change.lead_id,
        "mql_id": change.mql_id,
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


async def save_opportunities(
    session: AsyncSession,
    *,
    changes: Sequence[OpportunityChange],
    existing: Collection[str],
    now: datetime,
) -> None:
    """Insert the new opportunities (one statement per chunk) and update the ``existing`` ones.

    A new one stored meanwhile by another replica (whose events we now hold too) is updated.
    """
    rows = [_values(change, now) for change in changes]
    fresh = [r for r in rows if r["external_id"] not in existing]
    stored: set[str] = set()
    if fresh:
        stmt = insert_ignore(session, OPPORTUNITY, ["external_id"]).returning(
            OPPORTUNITY.c.external_id
        )
        result = await session.exec(stmt, params=fresh)
        stored.update(str(key) for (key,) in result.all())
    later = [{**r, "key": r["external_id"]} for r in rows if r["external_id"] not in stored]
    if later:
        columns = [name for name in rows[0] if name != "external_id"]
        await session.exec(
            update(OPPORTUNITY)
            .where(OPPORTUNITY.c.external_id == bindparam("key"))
            .values({name: bindparam(name) for name in columns}),
            params=later,
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
