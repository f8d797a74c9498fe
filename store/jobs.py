"""Job slots: a scheduled job claims its (job, slot) row first, so each slot runs once across replicas."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import JobRun
from store.upsert import insert_returning_id, table_of

RUNNING = "running"
DONE = "done"
FAILED = "failed"
_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class SlotClaim:
    """A won slot: finish or fail it with this, so a run that lost its lease cannot overwrite."""

    job: str
    slot: str
    owner: str
    attempt: int


def minute_slot(at: datetime) -> str:
    """The nag slot: the UTC minute, ``2026-11-24T01:15``."""
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def hour_slot(at: datetime) -> str:
    """The recycle slot: the UTC hour, ``2026-11-24T01``."""
    return _aware(at).astimezone(UTC).strftime("%Y-%m-%dT%H")


def day_slot(at: datetime, timezone: ZoneInfo) -> str:
    """The decay slot: the date in the SLA time zone, ``2026-11-24``."""
    return _aware(at).astimezone(timezone).date().isoformat()


async def claim_slot(
    session: AsyncSession,
    *,
    job: str,
    slot: str,
    owner: str,
    now: datetime,
    lease: timedelta,
) -> SlotClaim | None:
    """Take the slot, or None when it is done or another process holds a live lease.

    A new slot is an INSERT … ON CONFLICT DO NOTHING; a failed slot, or a running one whose
    lease has expired (its process crashed), is taken over by one conditional UPDATE. Both
    are decided by the database, so exactly one concurrent caller wins. Commit before running
    the job so that other processes see the claim.
    """
    if lease <= timedelta():
        raise ValueError(f"lease {lease}: must be positive")
    _aware(now)
    new_id = await insert_returning_id(
        session,
        table_of(JobRun),
        ["job", "slot"],
        {
            "job": job,
            "slot": slot,
            "status": RUNNING,
            "owner": owner,
            "attempts": 1,
            "started_at": now,
            "lease_until": now + lease,
            "result": {},
        },
    )
    if new_id is not None:
        return SlotClaim(job, slot, owner, 1)
    taken = await session.exec(
        update(JobRun)
        .where(
            col(JobRun.job) == job,
            col(JobRun.slot) == slot,
            or_(
                col(JobRun.status) == FAILED,
                (col(JobRun.status) == RUNNING) & (col(JobRun.lease_until) < now),
            ),
        )
        .values(
            status=RUNNING,
            owner=owner,
            attempts=col(JobRun.attempts) + 1,
            started_at=now,
            lease_until=now + lease,
            finished_at=None,
            error=None,
        )
        .returning(col(JobRun.attempts))
    )
    row = taken.first()
    return None if row is None else SlotClaim(job, slot, owner, int(row[0]))


async def finish_slot(
    session: AsyncSession, *, claim: SlotClaim, now: datetime, result: dict[str, Any]
) -> bool:
    """Mark the slot done; False when the claim was lost (another process took the slot over)."""
    return await _close(session, claim, now, status=DONE, result=result, error=None)


async def fail_slot(session: AsyncSession, *, claim: SlotClaim, now: datetime, error: str) -> bool:
    """Mark the slot failed so the next run may retry it; False when the claim was lost."""
    return await _close(session, claim, now, status=FAILED, result=None, error=error[:_ERROR_LIMIT])


async def get_run(session: AsyncSession, *, job: str, slot: str) -> JobRun | None:
    """The slot's row, if it was ever claimed."""
    rows = await session.exec(
        select(JobRun).where(col(JobRun.job) == job, col(JobRun.slot) == slot)
    )
    return rows.first()


async def _close(
    session: AsyncSession,
    claim: SlotClaim,
    now: datetime,
    *,
    status: str,
    result: dict[str, Any] | None,
    error: str | None,
) -> bool:
    values: dict[str, Any] = {"status": status, "finished_at": now, "error": error}
    if result is not None:
        values["result"] = result
    closed = await session.exec(
        update(JobRun)
        .where(
            col(JobRun.job) == claim.job,
            col(JobRun.slot) == claim.slot,
            col(JobRun.owner) == claim.owner,
            col(JobRun.attempts) == claim.attempt,
            col(JobRun.status) == RUNNING,
        )
        .values(**values)
        .returning(col(JobRun.id))
    )
    return closed.first() is not None


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()}: a time zone is required (naive datetime)")
    return at
