"""The Claim button: the first click wins (one conditional UPDATE), everyone else is told who did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from handlers.context import Deps
from handlers.present.actions import ActionId
from handlers.present.blocks import (
    already_claimed,
    claim_reply,
    mql_not_found,
    not_allowed_to_claim,
)
from handlers.present.catalog import catalog_of
from handlers.present.changes import Change, publish
from handlers.sla import on_claimed
from handlers.slack.ack_first import ListenerApp
from handlers.slack.interaction import (
    Ack,
    Body,
    channel_of,
    ephemeral,
    first_action,
    parse_mql_id,
    user_of,
)
from handlers.slack.membership import Membership
from scoring.clock import business_elapsed
from scoring.sla import Stage
from store import claims
from store.engine import READ_ONLY
from store.models import MqlState
from store.mqls import get_mql
from store.transient import retry_transient


@dataclass(frozen=True)
class ClaimOutcome:
    """``won``; else ``owner`` is who holds it (None when the MQL does not exist)."""

    won: bool
    owner: str | None = None
    found: bool = True


class ClaimGate:
    """One claim attempt per MQL at a time in this process; the rest then read who won.

    Only an optimisation: the conditional UPDATE decides the winner across processes. Without
    it, twenty simultaneous clicks queue twenty write transactions on one row (on SQLite, on the
    database's single write lock), which slows every request the process is serving.
    """

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def claim(self, deps: Deps, *, mql_id: int, user_id: str) -> ClaimOutcome:
        lock = self._locks.setdefault(mql_id, asyncio.Lock())
        self._waiting[mql_id] = self._waiting.get(mql_id, 0) + 1
        try:
            async with lock:
                return await claim_mql(deps, mql_id=mql_id, user_id=user_id)
        finally:
            self._waiting[mql_id] -= 1
            if not self._waiting[mql_id]:
                del self._waiting[mql_id], self._locks[mql_id]


async def _current(deps: Deps, mql_id: int) -> ClaimOutcome | None:
    """Who holds the MQL, read without the write lock; None while it is open."""
    async with deps.sessions() as session:
        await session.connection(execution_options=READ_ONLY)
        mql = await get_mql(session, mql_id=mql_id)
    if mql is None:
        return ClaimOutcome(won=False, found=False)
    if mql.state != MqlState.OPEN or mql.owner_id is not None:
        return ClaimOutcome(won=False, owner=mql.owner_id)
    return None


async def claim_mql(deps: Deps, *, mql_id: int, user_id: str) -> ClaimOutcome:
    """Try to claim the MQL for ``user_id``; on a win, queue the card update, reply and audit.

    The click was acknowledged already: a transaction the database drops (a restart) is run
    again rather than lost. A repeat is harmless: a claim that did commit reads as ours.
    """
    return await retry_transient(
        lambda: _claim_once(deps, mql_id=mql_id, user_id=user_id), what=f"claim of MQL {mql_id}"
    )


async def _claim_once(deps: Deps, *, mql_id: int, user_id: str) -> ClaimOutcome:
    # Clicks on a card that is already taken (most of them) never wait for the write lock.
    taken = await _current(deps, mql_id)
    if taken is not None:
        return taken
    now = deps.clock()
    config = deps.config
    async with deps.sessions() as session, session.begin():
        mql = await get_mql(session, mql_id=mql_id)
        if mql is None:
            return ClaimOutcome(won=False, found=False)
        if mql.state != MqlState.OPEN or mql.owner_id is not None:
            return ClaimOutcome(won=False, owner=mql.owner_id)
        # The SLA figures are computed from a copy with claimed_at set; the UPDATE below is
        # what decides the winner, whatever this transaction read.
        elapsed = business_elapsed(config.calendar, mql.created_at, now)
        sent = await claims.sent_levels(session, mql_id=mql_id, stage=Stage.UNWORKED.value)
        nag_due_at = on_claimed(
            mql.model_copy(update={"claimed_at": now}), config, sent_levels=sent
        )
        won = await claims.claim(
            session,
            mql_id=mql_id,
            user_id=user_id,
            now=now,
            claim_business_seconds=int(elapsed.total_seconds()),
            nag_due_at=nag_due_at,
        )
        await session.refresh(mql)
        if not won:
            return ClaimOutcome(won=False, owner=mql.owner_id)
        reply = claim_reply(user_id, now - mql.created_at, catalog_of(deps))
        change = Change(mql, "claim", user_id, MqlState.OPEN.value, reply)
        await publish(session, deps, change, now=now)
    return ClaimOutcome(won=True, owner=user_id)


async def handle_claim(
    *,
    ack: Ack,
    body: Body,
    client: AsyncWebClient,
    deps: Deps,
    membership: Membership,
    gate: ClaimGate | None = None,
) -> None:
    """``block_actions`` for ``ActionId.CLAIM``: ack, check who clicks, claim, answer the losers."""
    await ack()
    await _claim_clicked(body=body, client=client, deps=deps, membership=membership, gate=gate)


async def _claim_clicked(
    *,
    body: Body,
    client: AsyncWebClient,
    deps: Deps,
    membership: Membership,
    gate: ClaimGate | None = None,
) -> None:
    """The work after the ack: check who clicks, claim, answer the losers."""
    user = user_of(body)
    channel = channel_of(body) or deps.config.sdr_channel
    catalog = catalog_of(deps)
    mql_id = parse_mql_id(first_action(body).get("value"))
    if mql_id is None:
        await ephemeral(client, channel=channel, user=user, text=mql_not_found(catalog))
        return
    if not await membership.may_claim(client, user):
        await ephemeral(client, channel=channel, user=user, text=not_allowed_to_claim(catalog))
        return
    if gate is None:
        outcome = await claim_mql(deps, mql_id=mql_id, user_id=user)
    else:
        outcome = await gate.claim(deps, mql_id=mql_id, user_id=user)
    if not outcome.found:
        await ephemeral(client, channel=channel, user=user, text=mql_not_found(catalog))
    elif not outcome.won and outcome.owner is not None and outcome.owner != user:
        text = already_claimed(outcome.owner, catalog)
        await ephemeral(client, channel=channel, user=user, text=text)
    # A second click by the owner (double click) changes nothing and needs no answer.


def register(app: ListenerApp, deps: Deps) -> None:
    """Attach the Claim listener; the member cache lives as long as the app."""
    membership = Membership(deps.config)
    gate = ClaimGate()

    async def claim_listener(ack: Ack, body: dict[str, Any], client: AsyncWebClient) -> None:
        # Registered through AckFirst: Slack gets its answer at the ack, the claim runs after.
        await handle_claim(
            ack=ack, body=body, client=client, deps=deps, membership=membership, gate=gate
        )

    app.action(ActionId.CLAIM.value)(claim_listener)
