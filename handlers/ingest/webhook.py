"""The ingest use case: store a batch of lead events, score them, and open MQLs, in one transaction.

The MQL decision, when the engine reports a qualification, by the lead's stage:
- target, lead, recycled → a new MQL (linked to the lead's previous MQL, if any) and its card;
- mql (an open MQL exists) → nothing: no second card;
- disqualified → nothing, until a manager reopens the lead (the card listener sets its stage
  back to lead);
- sql → nothing: the lead is with field sales, and a card asking inside sales to claim it again
  would only be noise. Field sales hands it back by changing the disposition.
The unique ``open_lead_id`` guards the one-open-MQL rule even if the stage were out of step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy.exc import DBAPIError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.dispositions import QUALIFYING_STAGES
from handlers.ingest.native import NativeEvent
from handlers.ingest.outcomes import OutcomeItem, apply_outcomes, attribute_late_history
from handlers.present.cards import enqueue_card_post, event_label
from handlers.sla import initial_nag_due
from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.qualification import Qualification
from scoring.rules import ScoringRules
from scoring.statecache import StateCache
from store.audit import record
from store.engine import SessionFactory
from store.events import EventData, NewEvent, insert_events, known_keys
from store.leads import (
    PROFILE_FIELDS,
    LeadIdentity,
    LeadRaceError,
    LeadRow,
    find_or_create_leads,
    save_leads,
)
from store.models import LeadStage, MqlState
from store.mqls import create_mql
from store.types import json_text
from store.writer import Writer

MAX_ATTEMPTS = 4
# PostgreSQL deadlock and serialization failures: the whole transaction is safe to run again.
_RETRY_SQLSTATES = frozenset({"40P01", "40001"})


@dataclass(frozen=True)
class IngestResult:
    """What a batch did, known only once it is committed.

    - `accepted`: events stored now (including those the engine ignored as too old);
    - `duplicates`: events already received before (or twice in this batch): nothing changed;
    - `mqls`: the leads that became MQLs, as the sender knows them (CRM id, else e-mail);
    - `ignored`: accepted events that changed no score (older than retention or a reset);
    - `mql_ids` / `mql_kinds`: the new MQLs' ids and kinds (threshold, trigger, external).
    """

    accepted: int
    duplicates: int
    mqls: list[str]
    ignored: int = 0
    mql_ids: list[int] = field(default_factory=list)
    mql_kinds: list[str] = field(default_factory=list)


# A step run inside a batch's transaction, after its events, given the requests' results (the
# backfill advances its checkpoint here, so a batch and its checkpoint commit together).
AlsoInTransaction = Callable[[AsyncSession, Sequence[IngestResult]], Awaitable[None]]


class _KeyRace(Exception):
    """A dedupe key not seen before the scoring was stored meanwhile by another transaction."""


class PreparedEvent(NamedTuple):
    """One event with everything about it that needs no database, built in the request's task.

    So the single writer's transaction does only what depends on the stored state.
    (A NamedTuple: one is built per received event, and cheaply.)
    """

    key: str  # the dedupe key, <namespace>:<event id>
    identity: LeadIdentity
    event: NativeEvent
    scored: ScoredEvent
    data: EventData
    profile: tuple[tuple[str, str], ...]  # the lead fields the event gives, by name


def prepare(events: Sequence[NativeEvent], namespace: str) -> list[PreparedEvent]:
    """Everything about these events that needs no database (see PreparedEvent)."""
    items: list[PreparedEvent] = []
    for event in events:
        key = f"{namespace}:{event.id}"
        identity = LeadIdentity(external_id=event.lead.id, email=event.lead.email)
        scored = ScoredEvent(
            key=key,
            type=event.type,
            occurred_at=event.occurred_at,
            properties=event.properties,
            score=event.score,
            score_delta=event.score_delta,
            label=event_label(event.properties),
        )
        data = EventData.of(
            dedupe_key=key,
            type=event.type,
            occurred_at=event.occurred_at,
            properties=event.properties,
            score=event.score,
            score_delta=event.score_delta,
        )
        given = event.lead
        profile = tuple(
            (name, value) for name in PROFILE_FIELDS if (value := getattr(given, name)) is not None
        )
        items.append(PreparedEvent(key, identity, event, scored, data, profile))
    return items


@dataclass
class _Request:
    """One webhook request's events and what happened to them."""

    items: Sequence[PreparedEvent]
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    mqls: list[str] = field(default_factory=list)
    mql_ids: list[int] = field(default_factory=list)
    mql_kinds: list[str] = field(default_factory=list)

    def result(self) -> IngestResult:
        return IngestResult(
            self.accepted, self.duplicates, self.mqls, self.ignored, self.mql_ids, self.mql_kinds
        )


@dataclass
class _Pending:
    lead: LeadRow
    qualification: Qualification
    request: _Request
    qualified_at: datetime


@dataclass
class _Batch:
    """The work of one attempt, gathered before anything is written."""

    new_events: list[NewEvent] = field(default_factory=list)
    owners: list[_Request] = field(default_factory=list)  # the request of each new event
    pending: list[_Pending] = field(default_factory=list)
    # (lead id, stored text, state) for the state cache, once the transaction has committed
    states: list[tuple[int, str, LeadScoreState]] = field(default_factory=list)


async def ingest(
    deps: Deps, events: Sequence[NativeEvent], *, namespace: str = "native"
) -> IngestResult:
    """Apply validated events in one transaction: all of them are stored, or none.

    Returns only after the commit. Each event's dedupe key is ``<namespace>:<event id>``; an
    event whose key is already stored (sequentially, or by a concurrent request on another
    replica) is a duplicate and changes nothing. Events of one lead are applied in
    ``occurred_at`` order, each scored by its own time against the lead's stored state.
    """
    (result,) = await run_transaction(deps, [prepare(events, namespace)], StateCache(0))
    return result


async def run_transaction(
    deps: Deps,
    requests: Sequence[Sequence[PreparedEvent]],
    states: StateCache,
    also: AlsoInTransaction | None = None,
) -> list[IngestResult]:
    """Several requests in one transaction (retried on races); one result per request."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        batch = [_Request(items) for items in requests]
        try:
            async with deps.sessions() as session, session.begin():
                scored = await _ingest(session, deps, batch, states)
                if also is not None:
                    await also(session, [r.result() for r in batch])
            for lead_id, text, state in scored:
                states.put(lead_id, text, state)
            return [r.result() for r in batch]
        except (_KeyRace, LeadRaceError):
            if attempt == MAX_ATTEMPTS:
                raise
        except DBAPIError as exc:
            if attempt == MAX_ATTEMPTS or _sqlstate(exc) not in _RETRY_SQLSTATES:
                raise
    raise AssertionError("unreachable")  # the loop returns or raises


class Ingester:
    """Group commit: requests arriving while a transaction runs share the next one.

    Each request still gets its own result, and stays all-or-nothing: when a shared
    transaction fails, its requests are run again one by one, so one bad request fails alone.
    A single writer per process also keeps SQLite's write lock uncontended in the process.
    The decoded scoring states it stored stay in a cache for the next batches (see
    scoring.statecache); only its transactions touch the cache, one at a time.
    """

    def __init__(self, deps: Deps, *, writer: Writer | None = None, max_events: int = 5000) -> None:
        self._deps = deps
        self._store_writer = writer
        self._max_events = max_events
        self._states = StateCache()
        self._queue: list[tuple[list[PreparedEvent], asyncio.Future[IngestResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def _transaction(self, requests: Sequence[Sequence[PreparedEvent]]) -> list[IngestResult]:
        """One transaction, through the store's writer when there is one (SQLite: off the loop)."""
        if self._store_writer is None:
            return await run_transaction(self._deps, requests, self._states)

        async def work(sessions: SessionFactory) -> list[IngestResult]:
            deps = replace(self._deps, sessions=sessions)
            return await run_transaction(deps, requests, self._states)

        return await self._store_writer.run(work)

    async def submit(
        self, events: Sequence[NativeEvent], *, namespace: str = "native"
    ) -> IngestResult:
        """Ingest one request's events; returns after the transaction holding them committed."""
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.append((prepare(events, namespace), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    def _take(self) -> list[tuple[list[PreparedEvent], asyncio.Future[IngestResult]]]:
        taken, size = 0, 0
        for items, _ in self._queue:
            if taken and size + len(items) > self._max_events:
                break
            taken, size = taken + 1, size + len(items)
        group, self._queue = self._queue[:taken], self._queue[taken:]
        return group

    async def _drain(self) -> None:
        while self._queue:
            group = self._take()
            try:
                results = await self._transaction([items for items, _ in group])
            except Exception as exc:  # each request is retried alone and fails alone
                if len(group) == 1:
                    _settle(group[0][1], exc)
                    continue
                for items, future in group:
                    try:
                        (alone,) = await self._transaction([items])
                        _settle(future, alone)
                    except Exception as single:  # handed to that request's caller
                        _settle(future, single)
                continue
            for (_, future), result in zip(group, results, strict=True):
                _settle(future, result)


def _settle(future: asyncio.Future[IngestResult], outcome: IngestResult | BaseException) -> None:
    if future.done():  # the caller went away (client disconnected)
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


def _sqlstate(exc: DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None)
    return code if isinstance(code, str) else None


async def _ingest(
    session: AsyncSession, deps: Deps, requests: Sequence[_Request], states: StateCache
) -> list[tuple[int, str, LeadScoreState]]:
    """Store and score one transaction's requests; returns the states stored, for the cache."""
    now = deps.clock()
    rules: ScoringRules = deps.config.rules
    batch = _Batch()

    # The first copy of an id counts (in request order); later copies are duplicates.
    unique: dict[str, tuple[PreparedEvent, _Request]] = {}
    for request in requests:
        for item in request.items:
            if item.key in unique:
                request.duplicates += 1
            else:
                unique[item.key] = (item, request)
    leads = await find_or_create_leads(
        session, identities=[item.identity for item, _ in unique.values()], now=now
    )
    # Read after the leads are locked: a concurrent copy of this batch has committed by now.
    stored = await known_keys(session, dedupe_keys=unique)

    per_lead: dict[int, list[tuple[PreparedEvent, _Request]]] = {}
    rows: dict[int, LeadRow] = {}
    outcomes: list[tuple[OutcomeItem, _Request]] = []
    for key, (item, request) in unique.items():
        if key in stored:
            request.duplicates += 1
            continue
        lead = leads[item.identity.key]
        if item.event.outcome is not None:  # a CRM outcome: not scored (handlers.ingest.outcomes)
            outcomes.append((OutcomeItem(key, item.event, lead.id), request))
            continue
        rows[lead.id] = lead
        per_lead.setdefault(lead.id, []).append((item, request))
    for lead_id, items in per_lead.items():
        items.sort(key=_by_time)
        _score_lead(rows[lead_id], items, rules, batch, states)

    inserted = await insert_events(session, events=batch.new_events, received_at=now)
    if len(inserted) != len(batch.new_events):
        raise _KeyRace(f"{len(batch.new_events) - len(inserted)} event keys stored meanwhile")
    for owner in batch.owners:
        owner.accepted += 1

    mql_ids = await _open_mqls(session, deps, batch.pending, now)
    await save_leads(session, leads=list(rows.values()), now=now)
    for mql_id in mql_ids:
        await enqueue_card_post(session, deps, mql_id)
    if outcomes:
        # After the MQLs: an outcome in the same batch as its lead's MQL is attributed to it.
        kept = await apply_outcomes(session, deps, [o for o, _ in outcomes], now)
        for outcome, request in outcomes:
            if outcome.key in kept:
                request.accepted += 1
            else:
                request.duplicates += 1
    return batch.states


def _score_lead(
    lead: LeadRow,
    items: list[tuple[PreparedEvent, _Request]],
    rules: ScoringRules,
    batch: _Batch,
    states: StateCache,
) -> None:
    """Apply one lead's new events in time order to its stored state (pure, in memory)."""
    state = states.get(lead.id, lead.score_state)
    if state is None:
        state = _decode_state(lead.score_state)
    fields_at = lead.last_activity_at
    for item, request in items:
        applied = apply_event(state, item.scored, rules)
        if applied.duplicate:
            request.duplicates += 1
            continue
        state = applied.state
        if applied.ignored:
            request.ignored += 1
        batch.new_events.append(NewEvent(item.data, lead.id, applied.points))
        batch.owners.append(request)
        fields_at = _update_profile(lead, item, fields_at)
        if applied.qualification is not None and lead.stage in QUALIFYING_STAGES:
            at = item.event.occurred_at
            batch.pending.append(_Pending(lead, applied.qualification, request, at))
            lead.stage = LeadStage.MQL.value
    lead.score_state = json_text(state.to_json())
    batch.states.append((lead.id, lead.score_state, state))
    lead.score = state.score
    lead.last_activity_at = state.last_activity_at or fields_at


def _by_time(pair: tuple[PreparedEvent, _Request]) -> tuple[int, str]:
    """A lead's events are applied in occurred_at order (µs, exact), ties by dedupe key."""
    return pair[0].scored.at_us, pair[0].key


def _decode_state(text: str) -> LeadScoreState:
    """A lead's stored state; ``{}`` (a lead not scored yet) is the empty state."""
    data = orjson.loads(text)  # only the engine's own small numbers (see store.types.json_text)
    return LeadScoreState.from_json(data) if data else LeadScoreState.empty()


def _update_profile(lead: LeadRow, item: PreparedEvent, fields_at: datetime | None) -> datetime:
    """Later ``occurred_at`` wins for the lead's fields; an older event only fills blanks."""
    at = item.event.occurred_at
    newer = fields_at is None or at >= fields_at
    profile = lead.profile
    for name, value in item.profile:
        if newer or not profile.get(name):
            profile[name] = value
    return at if newer or fields_at is None else fields_at


def _reasons(q: Qualification) -> list[dict[str, Any]]:
    return [{**q.to_json(), "summary": q.summary_en()}]


async def _open_mqls(
    session: AsyncSession, deps: Deps, pending: Sequence[_Pending], now: datetime
) -> list[int]:
    """Create the MQLs the batch qualified, each with its audit entry; return their ids."""
    config = deps.config
    ids: list[int] = []
    if not pending:
        return ids
    nag_due = initial_nag_due(now, config)
    for item in pending:
        q, lead = item.qualification, item.lead
        mql_id = await create_mql(
            session,
            lead_id=lead.id,
            kind=q.kind,
            reasons=_reasons(q),
            score=q.score,
            source=lead.profile.get("source"),
            campaign=lead.profile.get("campaign"),
            now=now,
            nag_due_at=nag_due,
            qualified_at=item.qualified_at,
        )
        if mql_id is None:
            continue  # the lead already has an open MQL: no second card
        await attribute_late_history(
            session, deps, lead_id=lead.id, mql_id=mql_id, qualified_at=item.qualified_at
        )
        await record(
            session,
            mql_id=mql_id,
            actor="system",
            action="mql_created",
            at=now,
            to_state=MqlState.OPEN.value,
            detail={"kind": q.kind, "score": q.score, "summary": q.summary_en()},
        )
        ids.append(mql_id)
        item.request.mql_ids.append(mql_id)
        item.request.mql_kinds.append(q.kind)
        item.request.mqls.append(lead.display_id)
    return ids
