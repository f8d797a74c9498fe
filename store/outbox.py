"""The outbox: queueing Slack writes in the caller's transaction, and the sender's draining queries."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from store.models import ChannelPace, Mql, OutboxKind, OutboxMessage, OutboxStatus
from store.upsert import insert_ignore, insert_returning_id, table_of


def card_target(mql_id: int) -> str:
    """The target key of an MQL's card: updates and thread replies refer to it."""
    return f"card:{mql_id}"


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    kind: OutboxKind,
    payload: dict[str, Any],
    now: datetime,
    channel: str | None = None,
    target_key: str | None = None,
    mql_id: int | None = None,
) -> int | None:
    """Queue one logical message; return its row id, or None if that message was already queued.

    An ``update`` supersedes every older unsent update of the same target, so Slack only ever
    receives the newest state of a card.
    """
    try:
        kind = OutboxKind(kind)
    except ValueError:
        known = ", ".join(OutboxKind)
        raise ValueError(f"unknown outbox kind {kind!r}; known: {known}") from None
    new_id = await insert_returning_id(
        session,
        table_of(OutboxMessage),
        ["dedupe_key"],
        {
            "dedupe_key": dedupe_key,
            "kind": kind,
            "channel": channel,
            "target_key": target_key,
            "mql_id": mql_id,
            "payload": payload,
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        },
    )
    if new_id is not None and kind == OutboxKind.UPDATE and target_key is not None:
        await session.exec(
            update(OutboxMessage)
            .where(
                col(OutboxMessage.target_key) == target_key,
                col(OutboxMessage.kind) == OutboxKind.UPDATE,
                col(OutboxMessage.status) == OutboxStatus.PENDING,
                col(OutboxMessage.id) < new_id,
            )
            .values(status=OutboxStatus.SUPERSEDED)
        )
    return new_id


# ----- draining (the sender's side) ----------------------------------------------------------

KNOWN_KINDS = frozenset(OutboxKind)
# Kinds that end in a chat.postMessage into a channel known before sending: paced per channel.
PACED_KINDS = (OutboxKind.POST, OutboxKind.REPLY, OutboxKind.UPLOAD)
# Kinds that need the Slack message of their target (the card) before they can be sent.
TARGETED_KINDS = (OutboxKind.UPDATE, OutboxKind.REPLY)


@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row leased to one sender for one attempt, with what it needs to be sent."""

    id: int
    kind: OutboxKind
    dedupe_key: str
    channel: str | None
    target_key: str | None
    mql_id: int | None
    payload: dict[str, Any]
    attempt: int  # 1 for the first attempt
    created_at: datetime
    # When a previous attempt was leased but never recorded (the sender died or lost its
    # database): that attempt may have reached Slack, so look before sending again.
    in_doubt_since: datetime | None = None
    # The target's message for updates and replies; None when it has none yet.
    target_channel: str | None = None
    target_ts: str | None = None
    # A paced post leased ahead of its slot: not to be sent before this instant.
    send_at: datetime | None = None

    @property
    def posts_into(self) -> str | None:
        """The channel the row's message goes into (a reply's is its target's)."""
        return self.target_channel if self.kind == OutboxKind.REPLY else self.channel


@dataclass(frozen=True)
class DeadRow:
    """A row given up while claiming (its target will never exist, or it crashed too often)."""

    id: int
    kind: str
    error: str


@dataclass
class ClaimBatch:
    """What one claim pass leased, gave up, and when the next paced post may go."""

    rows: list[ClaimedRow] = field(default_factory=list)
    dead: list[DeadRow] = field(default_factory=list)
    # The earliest instant a post held back by pacing can be claimed.
    paced_until: datetime | None = None


def _due_rows(
    now: datetime, limit: int, *, skip_locked: bool, paced_after: datetime
) -> SelectOfScalar[OutboxMessage]:
    earlier = aliased(OutboxMessage)
    pace = aliased(ChannelPace)
    # Per target, only the oldest unfinished row may go, and only when no older row of the
    # target is in flight (a superseded update can still be on its way to Slack).
    blocked_by_earlier = (
        select(earlier.id)
        .where(
            col(earlier.target_key) == col(OutboxMessage.target_key),
            col(earlier.id) < col(OutboxMessage.id),
            or_(
                col(earlier.status) == OutboxStatus.PENDING,
                col(earlier.locked_until) > now,
            ),
        )
        .exists()
    )
    # Skip posts into a channel that is paced right now, so one busy channel cannot fill the
    # batch and starve the others.
    channel_paced = (
        select(pace.channel)
        .where(
            col(pace.channel) == col(OutboxMessage.channel), col(pace.next_post_at) > paced_after
        )
        .exists()
    )
    stmt = (
        select(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
            or_(col(OutboxMessage.locked_until).is_(None), col(OutboxMessage.locked_until) <= now),
            ~blocked_by_earlier,
            or_(
                col(OutboxMessage.kind).not_in(PACED_KINDS),
                col(OutboxMessage.channel).is_(None),
                ~channel_paced,
            ),
        )
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    if skip_locked:
        # Several processes drain at once: each takes rows the others have not locked.
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    return stmt


async def _target_of(
    session: AsyncSession, target_key: str
) -> tuple[str | None, str | None, str | None]:
    """(channel, ts, why-never) of a target's message: the sent post, else the card's stored ts."""
    post = (
        await session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.target_key) == target_key,
                col(OutboxMessage.kind) == OutboxKind.POST,
            )
            .order_by(col(OutboxMessage.id))
            .limit(1)
        )
    ).first()
    if post is not None and post.status == OutboxStatus.SENT and post.result_ts:
        return post.result_channel, post.result_ts, None
    if target_key.startswith("card:") and target_key[5:].isdigit():
        mql = await session.get(Mql, int(target_key[5:]))
        if mql is not None and mql.slack_ts:
            return mql.slack_channel, mql.slack_ts, None
    if post is not None and post.status == OutboxStatus.DEAD:
        return None, None, f"its target's post (outbox #{post.id}) is dead: {post.last_error}"
    return None, None, None


def _paced_channel(row: ClaimedRow) -> str | None:
    """The channel a row posts into, when that post is paced."""
    return row.posts_into if row.kind in PACED_KINDS else None


async def _take_pace_slot(
    session: AsyncSession,
    channel: str,
    *,
    now: datetime,
    interval: timedelta,
    lookahead: timedelta,
    known: dict[str, datetime],
) -> datetime | None:
    """Take the channel's next posting slot if it starts by now + lookahead; return its start."""
    if channel not in known:
        await session.exec(
            insert_ignore(session, table_of(ChannelPace), ["channel"]).values(
                channel=channel, next_post_at=now - interval
            )
        )
        pace = (
            await session.exec(select(ChannelPace).where(col(ChannelPace.channel) == channel))
        ).one()
        known[channel] = pace.next_post_at
    current = known[channel]
    if current > now + lookahead:
        return None
    # Slots are spaced by the interval from the previous slot, not from whenever the sender
    # woke up, so a steady burst keeps the full rate despite wake-up latency: up to a quarter
    # of an interval of lateness is caught up (Slack and the stand-in allow a short burst);
    # more (an idle channel) restarts the grid from now.
    following = max(current + interval, now + interval - interval / 4)
    result = await session.exec(
        update(ChannelPace)
        .where(col(ChannelPace.channel) == channel, col(ChannelPace.next_post_at) == current)
        .values(next_post_at=following)
    )
    known[channel] = following
    if result.rowcount != 1:  # another process took this slot first
        return None
    return max(current, now)


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease: timedelta,
    limit: int,
    per_channel_interval: timedelta,
    max_attempts: int,
    lookahead: timedelta = timedelta(0),
) -> ClaimBatch:
    """Lease up to `limit` due rows to `worker` until now + lease, in id order.

    Per target, rows go one at a time in id order, and updates and replies carry their target's
    Slack message. At most one post per channel is leased per `per_channel_interval` across all
    processes (ChannelPace); with a `lookahead`, a post whose slot starts within it is leased
    already, with `send_at` set, so the sender can wait for the slot without a database round
    trip in between (that keeps a burst at the full rate). On PostgreSQL the rows are locked with SKIP LOCKED so concurrent
    senders never lease the same row; SQLite serialises whole transactions (BEGIN IMMEDIATE).
    """
    if limit < 1:
        raise ValueError(f"claim limit must be >= 1, got {limit}")
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    batch = ClaimBatch()
    paced_after = now + lookahead
    candidates = (
        await session.exec(_due_rows(now, limit, skip_locked=postgres, paced_after=paced_after))
    ).all()
    ready: list[ClaimedRow] = []
    for row in candidates:
        claimed = await _ready(session, row, now=now, lease=lease, max_attempts=max_attempts)
        if isinstance(claimed, DeadRow):
            batch.dead.append(claimed)
        else:
            ready.append(claimed)
    granted = await _grant_pace_slots(
        session, ready, now=now, interval=per_channel_interval, lookahead=lookahead
    )
    for claimed in ready:
        if _paced_channel(claimed) is not None:
            if claimed.id not in granted:
                continue
            if granted[claimed.id] > now:
                claimed = replace(claimed, send_at=granted[claimed.id])
        await session.exec(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == claimed.id)
            .values(locked_by=worker, locked_until=now + lease, attempts=claimed.attempt)
        )
        batch.rows.append(claimed)
    opens_at = await _next_paced_slot(session, after=paced_after)
    if opens_at is not None:
        batch.paced_until = opens_at - lookahead
    return batch


async def _ready(
    session: AsyncSession,
    row: OutboxMessage,
    *,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> ClaimedRow | DeadRow:
    """A due row with what sending it needs, or dead-lettered (here and now) when it never can be."""
    assert row.id is not None
    # A lease that expired without an outcome recorded: that attempt may have reached Slack.
    expired = (row.locked_until - lease) if row.locked_by and row.locked_until else None
    in_doubt_since = min((t for t in (expired, row.in_doubt_since) if t is not None), default=None)
    error: str | None = None
    target_channel = target_ts = None
    if row.attempts >= max_attempts:
        # Only a lease that expired unrecorded gets here: the sender keeps crashing on it.
        error = f"gave up after {row.attempts} attempts (the last one never reported back)"
    elif row.kind not in KNOWN_KINDS:
        error = f"unknown outbox kind {row.kind!r}"
    elif row.kind in TARGETED_KINDS:
        if row.target_key is None:
            error = f"a {row.kind} needs a target_key naming the message it belongs to"
        else:
            target_channel, target_ts, error = await _target_of(session, row.target_key)
    if error is not None:
        await _finish(session, row.id, status=OutboxStatus.DEAD, now=now, error=error)
        return DeadRow(row.id, row.kind, error)
    return ClaimedRow(
        id=row.id,
        kind=OutboxKind(row.kind),
        dedupe_key=row.dedupe_key,
        channel=row.channel,
        target_key=row.target_key,
        mql_id=row.mql_id,
        payload=dict(row.payload),
        attempt=row.attempts + 1,
        created_at=row.created_at,
        in_doubt_since=in_doubt_since,
        target_channel=target_channel,
        target_ts=target_ts,
    )


async def _grant_pace_slots(
    session: AsyncSession,
    ready: list[ClaimedRow],
    *,
    now: datetime,
    interval: timedelta,
    lookahead: timedelta,
) -> dict[int, datetime]:
    """Row id → the start of the posting slot it got: at most one paced row per channel."""
    # One post per channel per pass: the oldest. Slots are taken in channel order so that
    # concurrent claimers lock ChannelPace rows in the same order and cannot deadlock.
    first_post: dict[str, int] = {}
    for claimed in ready:
        channel = _paced_channel(claimed)
        if channel is not None:
            first_post.setdefault(channel, claimed.id)
    granted: dict[int, datetime] = {}
    paces: dict[str, datetime] = {}
    for channel in sorted(first_post):
        slot = await _take_pace_slot(
            session, channel, now=now, interval=interval, lookahead=lookahead, known=paces
        )
        if slot is not None:
            granted[first_post[channel]] = slot
    return granted


async def _next_paced_slot(session: AsyncSession, *, after: datetime) -> datetime | None:
    """When the earliest channel with posts waiting opens again after ``after``, if any does."""
    waiting = (
        select(OutboxMessage.id)
        .where(
            col(OutboxMessage.channel) == col(ChannelPace.channel),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.kind).in_(PACED_KINDS),
        )
        .exists()
    )
    # Posts held back by pacing were filtered out of the claim; tell the caller when they open up.
    return (
        await session.exec(
            select(func.min(ChannelPace.next_post_at)).where(
                col(ChannelPace.next_post_at) > after, waiting
            )
        )
    ).one()


async def _finish(
    session: AsyncSession, row_id: int, *, status: str, now: datetime, error: str | None
) -> None:
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(status=status, last_error=_clip(error), locked_by=None, locked_until=None)
    )


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:2000]


async def mark_sent(
    session: AsyncSession,
    *,
    row_id: int,
    now: datetime,
    channel: str | None,
    ts: str | None,
) -> bool:
    """Record that Slack accepted the row (with the message it produced); False if it was not
    in flight any more. A card's post also stores its channel and ts on the MQL."""
    result = await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == row_id,
            # A row superseded while on its way to Slack was still delivered.
            col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SUPERSEDED)),
        )
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            result_channel=channel,
            result_ts=ts,
            last_error=None,
            locked_by=None,
            locked_until=None,
        )
    )
    if result.rowcount != 1:
        return False
    row = await session.get(OutboxMessage, row_id)
    if (
        row is not None
        and row.kind == OutboxKind.POST
        and row.mql_id is not None
        and row.target_key == card_target(row.mql_id)
        and ts is not None
    ):
        await session.exec(
            update(Mql).where(col(Mql.id) == row.mql_id).values(slack_channel=channel, slack_ts=ts)
        )
    return True


async def schedule_retry(
    session: AsyncSession,
    *,
    row_id: int,
    retry_at: datetime,
    error: str,
    count_attempt: bool = True,
    in_doubt_since: datetime | None = None,
) -> None:
    """Release the lease and make the row due again at `retry_at`.

    A rate limit is not a failure: with `count_attempt=False` it does not use up an attempt.
    `in_doubt_since`: the attempt got no answer and may have reached Slack, so the next one
    looks for it first (the earliest such instant is kept).
    """
    values: dict[str, Any] = {
        "next_attempt_at": retry_at,
        "last_error": _clip(error),
        "locked_by": None,
        "locked_until": None,
    }
    if in_doubt_since is not None:
        values["in_doubt_since"] = func.coalesce(col(OutboxMessage.in_doubt_since), in_doubt_since)
    if not count_attempt:
        values["attempts"] = col(OutboxMessage.attempts) - 1
    await session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(**values)
    )


async def mark_dead(session: AsyncSession, *, row_id: int, now: datetime, error: str) -> None:
    """Give the row up: it stays in the table with its last error for an operator to see."""
    await _finish(session, row_id, status=OutboxStatus.DEAD, now=now, error=error)


async def hold_channel(session: AsyncSession, *, channel: str, until: datetime) -> None:
    """After a 429 on a post, no process posts into the channel before `until`."""
    await session.exec(
        insert_ignore(session, table_of(ChannelPace), ["channel"]).values(
            channel=channel, next_post_at=until
        )
    )
    await session.exec(
        update(ChannelPace)
        .where(col(ChannelPace.channel) == channel, col(ChannelPace.next_post_at) < until)
        .values(next_post_at=until)
    )


async def dead_counts(session: AsyncSession) -> dict[str, int]:
    """How many rows are dead-lettered, by kind (for the metrics, whichever replica gave up)."""
    rows = await session.exec(
        select(OutboxMessage.kind, func.count())
        .where(col(OutboxMessage.status) == OutboxStatus.DEAD)
        .group_by(col(OutboxMessage.kind))
    )
    return {str(kind): int(count) for kind, count in rows.all()}


async def pending_count(session: AsyncSession, *, due_by: datetime | None = None) -> int:
    """How many rows wait to be sent (the outbox depth); with `due_by`, only those due by then."""
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
    )
    if due_by is not None:
        query = query.where(col(OutboxMessage.next_attempt_at) <= due_by)
    result = await session.exec(query)
    return int(result.one())
