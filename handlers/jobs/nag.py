"""The nag tick: send each due SLA reminder or escalation once, then move the MQL's next due time."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps, HandlerConfig
from handlers.jobs.batch import sweep
from handlers.present.blocks.replies import (
    auto_assign_notice,
    format_mentions,
    owner_reminder_dm,
    unclaimed_escalation,
    unclaimed_reminder,
    unworked_escalation,
)
from handlers.present.cards import enqueue_card_update, permalink
from handlers.present.catalog import Catalog
from handlers.present.changes import Change, publish
from handlers.sla import on_claimed, snapshot_of
from scoring.clock import business_elapsed
from scoring.sla import Action, ReminderLevel, SlaSnapshot, Stage, due_levels, next_due_at
from store import claims
from store.leads import get_lead
from store.models import Mql, MqlState, OutboxKind
from store.outbox import card_target, enqueue
from store.sdrs import pick_sdr
from store.sweeps import due_nags, lock_mql, record_reminder

log = logging.getLogger(__name__)

BATCH = 500
SYSTEM = "system"


async def run_nag(deps: Deps, now: datetime, *, batch: int = BATCH) -> dict[str, Any]:
    """Handle every MQL whose ``nag_due_at`` has come, as if at ``now``; return counts.

    One indexed range query per batch (keyset on ``(nag_due_at, id)``, so a row that fails or
    stays due is not read twice in a tick); each MQL in its own transaction, so one failing
    MQL is logged and the rest go on.
    """
    # The card and the outbox rows read the clock: make them see the tick's instant.
    now = now.astimezone(UTC)
    deps = deps.as_if_at(now)

    async def read(
        session: AsyncSession, after: tuple[datetime, int] | None, limit: int
    ) -> list[tuple[datetime, int]]:
        return await due_nags(session, now=now, after=after, limit=limit)

    async def apply(session: AsyncSession, key: tuple[datetime, int]) -> str:
        return await _nag_one(session, deps, key[1], now)

    def failed(key: tuple[datetime, int]) -> None:
        log.exception("nag: MQL %s failed; it will be retried on the next tick", key[1])

    return await sweep(deps.sessions, read=read, apply=apply, batch=batch, on_failure=failed)


async def _nag_one(session: AsyncSession, deps: Deps, mql_id: int, now: datetime) -> str:
    config = deps.config
    # A Claim click waits for this tick instead of being overwritten by it.
    mql = await lock_mql(session, mql_id=mql_id)
    if mql is None or mql.nag_due_at is None or mql.nag_due_at > now:
        return "moved"  # changed since the batch was read (claimed, dispositioned, replica)
    stage = Stage.UNCLAIMED if mql.state == MqlState.OPEN else Stage.UNWORKED
    sent_levels = await claims.sent_levels(session, mql_id=mql_id, stage=stage.value)
    snapshot = snapshot_of(mql, sent_levels)
    if snapshot is None:
        mql.nag_due_at = None  # dispositioned without clearing it: nothing is ever due
        session.add(mql)
        return "closed"
    due = due_levels(snapshot, config.levels, config.calendar, now)
    outcome = "waiting"
    if due:
        level = due[0]
        if await record_reminder(
            session, mql_id=mql_id, stage=level.stage.value, level=level.level, now=now
        ):
            outcome = await _send(session, deps, mql, snapshot, level, now)
        snapshot = dataclasses.replace(snapshot, sent_levels=snapshot.sent_levels | {level.level})
    if mql.state == MqlState.CLAIMED and snapshot.stage is Stage.UNCLAIMED:
        # Auto-assigned just now: the unworked clock has started.
        mql.nag_due_at = on_claimed(mql, config)
    else:
        mql.nag_due_at = _not_before(
            next_due_at(snapshot, config.levels, config.calendar), now, config
        )
    session.add(mql)
    if outcome != "waiting":
        await session.flush()
        await enqueue_card_update(session, deps, mql_id)
    return outcome


def _not_before(due: datetime | None, now: datetime, config: HandlerConfig) -> datetime | None:
    # Overdue while the calendar is closed (a weekend after a missed tick): look again at the
    # next opening instead of every minute until then.
    if due is None or due > now:
        return due
    return max(due, config.calendar.next_opening(now))


async def _send(
    session: AsyncSession,
    deps: Deps,
    mql: Mql,
    snapshot: SlaSnapshot,
    level: ReminderLevel,
    now: datetime,
) -> str:
    """Queue the level's messages; return the outcome name for the summary."""
    config = deps.config
    catalog = Catalog(config.language, config.timezone, names=config.names)
    elapsed = business_elapsed(config.calendar, snapshot.started_at, now)
    managers = sorted(config.managers)
    assert mql.id is not None
    key = f"nag:{mql.id}:{level.stage.value}:{level.level}"
    first = not snapshot.sent_levels
    mql.sla_breached = mql.sla_breached or first
    mql.version += 1
    mql.updated_at = now
    queued = deps.queued_at(now)
    if level.stage is Stage.UNCLAIMED:
        if level.action is Action.REMIND:
            await _reply(
                session,
                mql,
                key,
                unclaimed_reminder(_sdr_mentions(config), elapsed, catalog),
                queued,
            )
            return "unclaimed_reminded"
        await _reply(session, mql, key, unclaimed_escalation(managers, elapsed, catalog), queued)
        if level.auto_assign:
            return await _auto_assign(session, deps, mql, level, now, catalog)
        return "unclaimed_escalated"
    owner = mql.owner_id
    if owner is None:
        raise ValueError(f"MQL {mql.id} is claimed but has no owner")
    if level.action is Action.REMIND:
        lead = await get_lead(session, lead_id=mql.lead_id)
        name = (lead.name or lead.email or "") if lead is not None else ""
        link = permalink(mql.slack_channel, mql.slack_ts)
        text = owner_reminder_dm(name, link, elapsed, catalog)
        await enqueue(
            session,
            dedupe_key=key,
            kind=OutboxKind.DM,
            payload={"user": owner, "text": text},
            now=queued,
            channel=owner,
            mql_id=mql.id,
        )
        return "owner_reminded"
    await _reply(session, mql, key, unworked_escalation(managers, owner, elapsed, catalog), queued)
    return "unworked_escalated"


def _sdr_mentions(config: HandlerConfig) -> str:
    if config.mention == "here":
        return "<!here>"
    if config.mention == "channel" or not (config.sdr_users or config.sdr_usergroup):
        return format_mentions(channel=True)
    groups = (config.sdr_usergroup,) if config.sdr_usergroup else ()
    return format_mentions(user_ids=config.sdr_users, usergroup_ids=groups)


async def _reply(session: AsyncSession, mql: Mql, key: str, text: str, now: datetime) -> None:
    """A reply in the card's thread: the sender takes the thread ts from the card's post."""
    assert mql.id is not None
    channel = mql.slack_channel
    await enqueue(
        session,
        dedupe_key=key,
        kind=OutboxKind.REPLY,
        payload={"channel": channel, "text": text} if channel else {"text": text},
        now=now,
        channel=channel,
        target_key=card_target(mql.id),
        mql_id=mql.id,
    )


async def _auto_assign(
    session: AsyncSession,
    deps: Deps,
    mql: Mql,
    level: ReminderLevel,
    now: datetime,
    catalog: Catalog,
) -> str:
    config = deps.config
    assert mql.id is not None
    user = await pick_sdr(session, user_ids=config.sdr_users, now=now)
    if user is None:
        log.warning(
            "nag: MQL %s not auto-assigned: no SDR listed in sdr_users is available", mql.id
        )
        return "unclaimed_escalated"
    mql.state = MqlState.CLAIMED
    mql.owner_id = user
    mql.claimed_at = now
    mql.claim_business_seconds = int(
        business_elapsed(config.calendar, mql.created_at, now) // timedelta(seconds=1)
    )
    await session.flush()
    change = Change(
        mql=mql,
        action="auto_assign",
        actor=SYSTEM,
        from_state=MqlState.OPEN.value,
        reply=auto_assign_notice(user, catalog),
        detail={"level": level.level, "rule": "round_robin"},
    )
    await publish(session, deps, change, now=now)
    return "auto_assigned"
