"""Leads: find-or-create by key across replicas, adopt e-mail leads by CRM id, lock and save in bulk."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Lead, LeadStage
from store.rawsql import pg_executemany, pg_rows, rows_in
from store.types import from_sqlite_datetime, sqlite_datetime
from store.upsert import dialect_of, table_of

LEAD = table_of(Lead)
# The lead fields an event may set ("later occurred_at wins", see handlers.ingest.webhook).
PROFILE_FIELDS: tuple[str, ...] = ("email", "name", "company", "title", "source", "campaign")


def lead_key(*, external_id: str | None, email: str | None) -> str:
    """The unique key of a lead: ``id:<crm id>`` when the sender names it, else ``email:<addr>``."""
    if external_id:
        return f"id:{external_id}"
    if email:
        return f"email:{email.lower()}"
    raise ValueError("a lead needs an id or an e-mail address")


class LeadIdentity(NamedTuple):
    """Who an event is about, as the sender named them (a NamedTuple: one is built per event)."""

    external_id: str | None
    email: str | None

    @property
    def key(self) -> str:
        return lead_key(external_id=self.external_id, email=self.email)


@dataclass(slots=True)
class LeadRow:
    """A lead as the ingest hot path reads and writes it (plain values, no ORM bookkeeping)."""

    id: int
    key: str
    external_id: str | None
    stage: str
    score: float
    score_state: str  # the scoring state's JSON text, exactly as stored
    last_activity_at: datetime | None
    profile: dict[str, str | None] = field(default_factory=dict)
    # The profile as read, in PROFILE_FIELDS order: saving leaves unchanged fields alone.
    read_profile: tuple[str | None, ...] = field(default=(), compare=False, repr=False)

    def profile_values(self) -> tuple[str | None, ...]:
        """The profile in PROFILE_FIELDS order (the columns' order)."""
        return tuple(map(self.profile.get, PROFILE_FIELDS))

    @property
    def display_id(self) -> str:
        """How the sender knows this lead (the CRM id, else the e-mail address)."""
        return self.external_id or self.profile.get("email") or self.key


async def _existing_keys(session: AsyncSession, keys: Iterable[str]) -> set[str]:
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    if dialect_of(session) == "sqlite":
        rows = await rows_in(session, "SELECT key FROM lead WHERE key IN ({marks})", wanted)
        return {str(key) for (key,) in rows}
    rows = await pg_rows(session, "SELECT key FROM lead WHERE key = ANY(%s)", [wanted])
    return {str(key) for (key,) in rows}


async def _adopt(
    session: AsyncSession, adoptions: Sequence[tuple[str, str, str]], now: datetime
) -> None:
    """Re-key e-mail leads that now arrive with a CRM id (sorted, so replicas lock in one order)."""
    for email_key, new_key, external_id in sorted(adoptions):
        # The WHERE re-checks the row: a replica that adopted it first leaves nothing to update.
        await session.exec(
            update(LEAD)
            .where(LEAD.c.key == email_key, LEAD.c.external_id.is_(None))
            .values(key=new_key, external_id=external_id, updated_at=now)
        )


async def find_or_create_leads(
    session: AsyncSession,
    *,
    identities: Iterable[LeadIdentity],
    now: datetime,
    lock: bool = True,
) -> dict[str, LeadRow]:
    """The leads for these identities by key, created when new; safe across replicas.

    A lead first seen by e-mail is adopted (re-keyed to ``id:<crm id>``) when an event names
    both its CRM id and that e-mail. New leads are inserted with ON CONFLICT DO NOTHING (a
    replica creating the same lead at the same moment is harmless), then read back; on
    PostgreSQL with ``lock`` the rows are locked ``FOR UPDATE`` in id order so two transactions
    applying events to one lead run one after the other (SQLite's BEGIN IMMEDIATE already does).
    Returns ``{identity.key: LeadRow}``; an adopted lead is returned under both keys.
    """
    by_key: dict[str, LeadIdentity] = {}
    for identity in identities:
        by_key.setdefault(identity.key, identity)
    if not by_key:
        return {}
    # The common case, one statement: every lead already exists under the key it is sent with.
    found = await _select(session, by_key, lock=lock)
    if len(found) == len(by_key):
        return found
    email_keys = {
        k: lead_key(external_id=None, email=i.email)
        for k, i in by_key.items()
        if i.external_id and i.email
    }
    existing = await _existing_keys(session, [*by_key, *email_keys.values()])
    adoptions = [
        (email_key, key, by_key[key].external_id or "")
        for key, email_key in email_keys.items()
        if key not in existing and email_key in existing
    ]
    if adoptions:
        await _adopt(session, adoptions, now)
        existing = await _existing_keys(session, [*by_key, *email_keys.values()])
    aliases = await _by_email(
        session, [i for k, i in by_key.items() if k not in existing and not i.external_id]
    )
    missing = sorted(k for k in by_key if k not in existing and k not in aliases)
    if missing and dialect_of(session) == "sqlite":
        await _insert_sqlite(session, [by_key[k] for k in missing], now)
    elif missing:
        await pg_rows(
            session,
            _PG_INSERT,
            [
                LeadStage.TARGET.value,
                now,
                now,
                missing,
                [by_key[k].external_id for k in missing],
                [by_key[k].email for k in missing],
            ],
        )
    wanted = {k: aliases.get(k, k) for k in by_key}
    # Read back only the leads the first read did not return (created, adopted or aliased now).
    found.update(await _select(session, {t for t in wanted.values() if t not in found}, lock=lock))
    missing_after = sorted(k for k, target in wanted.items() if target not in found)
    if missing_after:
        # Only possible when an adoption raced with another replica's; the caller retries.
        raise LeadRaceError(f"lead changed key while being created: {', '.join(missing_after)}")
    return {k: found[target] for k, target in wanted.items()}


async def _select(session: AsyncSession, keys: Iterable[str], *, lock: bool) -> dict[str, LeadRow]:
    if dialect_of(session) == "sqlite":
        return await _select_sqlite(session, sorted(set(keys)))
    # In id order, so transactions locking several leads never wait on each other in a cycle.
    sql = _PG_SELECT + (" FOR UPDATE" if lock else "")
    found: dict[str, LeadRow] = {}
    for row in await pg_rows(session, sql, [sorted(set(keys))]):
        lead = _raw_row(row, None if row[6] is None else row[6].astimezone(UTC))
        found[lead.key] = lead
    return found


_SQLITE_INSERT = (
    "INSERT INTO lead (key, external_id, email, stage, score, score_state, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, 0.0, '{}', ?, ?) ON CONFLICT (key) DO NOTHING"
)


_PG_INSERT = (
    "INSERT INTO lead (key, external_id, email, stage, score, score_state, created_at, updated_at)"
    " SELECT k, x, e, %s, 0.0, '{}', %s, %s FROM unnest(%s::text[], %s::text[], %s::text[])"
    " AS u(k, x, e) ON CONFLICT (key) DO NOTHING"
)


async def _insert_sqlite(
    session: AsyncSession, identities: Sequence[LeadIdentity], now: datetime
) -> None:
    """New leads in one raw executemany (SQLAlchemy's per-row processing cost more than SQLite)."""
    conn = await session.connection()
    at = sqlite_datetime(now)
    stage = LeadStage.TARGET.value
    await conn.exec_driver_sql(
        _SQLITE_INSERT,
        [(i.key, i.external_id, i.email, stage, at, at) for i in identities],
    )


# Built from constant column names only (no input reaches the SQL text).
_SQLITE_SELECT = (
    "SELECT id, key, external_id, stage, score, score_state, last_activity_at, "  # noqa: S608
    + ", ".join(PROFILE_FIELDS)
    + " FROM lead WHERE key IN ({marks})"
)


_PG_SELECT = (
    "SELECT id, key, external_id, stage, score, score_state::text, last_activity_at, "  # noqa: S608
    + ", ".join(PROFILE_FIELDS)
    + " FROM lead WHERE key = ANY(%s) ORDER BY id"
)


def _raw_row(row: Sequence[Any], last_activity_at: datetime | None) -> LeadRow:
    """A LeadRow from a raw row in _SQLITE_SELECT / _PG_SELECT column order."""
    id_, key, external_id, stage, score, state, _, *profile = row
    return LeadRow(
        id=id_,
        key=key,
        external_id=external_id,
        stage=stage,
        score=score,
        score_state=state or "{}",
        last_activity_at=last_activity_at,
        profile=dict(zip(PROFILE_FIELDS, profile, strict=True)),
        read_profile=tuple(profile),
    )


async def _select_sqlite(session: AsyncSession, keys: Sequence[str]) -> dict[str, LeadRow]:
    """A raw read: SQLAlchemy's IN rendering and per-row result processing cost more than SQLite.

    SQLite's BEGIN IMMEDIATE already serialises writers, so no row lock is needed.
    """
    found: dict[str, LeadRow] = {}
    for row in await rows_in(session, _SQLITE_SELECT, keys):
        found[row[1]] = _raw_row(row, from_sqlite_datetime(row[6]))
    return found


class LeadRaceError(Exception):
    """Another transaction re-keyed a lead this one was creating; retrying the transaction fixes it."""


async def _by_email(session: AsyncSession, identities: Sequence[LeadIdentity]) -> dict[str, str]:
    """E-mail-only identities of leads already known by CRM id: identity key -> that lead's key.

    Without this, the same person arriving by e-mail after being adopted by CRM id would get a
    second lead. The oldest CRM-keyed lead with that address wins.
    """
    emails = sorted({i.email.lower() for i in identities if i.email})
    if not emails:
        return {}
    rows: Sequence[Any]
    if dialect_of(session) == "sqlite":
        # Chunked by address, so all of one address's leads are in one chunk, in id order.
        sql = (
            "SELECT key, email FROM lead WHERE email IN ({marks})"
            " AND external_id IS NOT NULL ORDER BY id"
        )
        rows = await rows_in(session, sql, emails)
    else:
        sql = (
            "SELECT key, email FROM lead WHERE email = ANY(%s)"
            " AND external_id IS NOT NULL ORDER BY id"
        )
        rows = await pg_rows(session, sql, [emails])
    aliases: dict[str, str] = {}
    for key, email in rows:
        aliases.setdefault(lead_key(external_id=None, email=email), str(key))
    return aliases


async def save_leads(session: AsyncSession, *, leads: Sequence[LeadRow], now: datetime) -> None:
    """Write back the score, scoring state, stage, activity and profile of these leads (one statement)."""
    if not leads:
        return
    if dialect_of(session) == "sqlite":
        await _save_sqlite(session, leads, now)
        return
    await pg_executemany(
        session,
        _PG_SAVE,
        [
            (
                lead.stage,
                lead.score,
                lead.score_state,
                lead.last_activity_at,
                now,
                *lead.profile_values(),
                lead.id,
            )
            for lead in leads
        ],
    )


# One row per lead, pipelined. (An UPDATE … FROM unnest(…) cost PostgreSQL more: a batch of
# scoring states as one text array is escaped, parsed and copied before any row is written.)
# Built from constant column names only (no input reaches the SQL text).
_PG_SAVE = (
    "UPDATE lead SET stage = %s, score = %s, score_state = %s::json, last_activity_at = %s,"  # noqa: S608
    " updated_at = %s, " + ", ".join(f"{name} = %s" for name in PROFILE_FIELDS) + " WHERE id = %s"
)


# Built from constant column names only (no input reaches the SQL text).
_SQLITE_SAVE = (
    "UPDATE lead SET stage = ?, score = ?, score_state = ?, last_activity_at = ?,"
    " updated_at = ?{profile} WHERE id = ?"
)
_SQLITE_SAVE_SCORE = _SQLITE_SAVE.format(profile="")
_SQLITE_SAVE_ALL = _SQLITE_SAVE.format(profile="".join(f", {name} = ?" for name in PROFILE_FIELDS))


async def _save_sqlite(session: AsyncSession, leads: Sequence[LeadRow], now: datetime) -> None:
    """Raw executemany: SQLAlchemy's per-row processing of 12 parameters cost more than SQLite.

    Leads whose profile is as read skip its columns: SQLite rewrites an index entry for every
    indexed column an UPDATE names, changed or not (half of the statement's cost for e-mail).
    Values are serialised exactly as the column types would (JSON text, SQLite DATETIME text).
    """
    conn = await session.connection()
    updated = sqlite_datetime(now)
    scores: list[tuple[Any, ...]] = []
    everything: list[tuple[Any, ...]] = []
    for lead in leads:
        row = (
            lead.stage,
            lead.score,
            lead.score_state,
            None if lead.last_activity_at is None else sqlite_datetime(lead.last_activity_at),
            updated,
        )
        profile = lead.profile_values()
        if profile == lead.read_profile:
            scores.append((*row, lead.id))
        else:
            everything.append((*row, *profile, lead.id))
    if scores:
        await conn.exec_driver_sql(_SQLITE_SAVE_SCORE, scores)
    if everything:
        await conn.exec_driver_sql(_SQLITE_SAVE_ALL, everything)


async def set_stage(
    session: AsyncSession, *, lead_id: int, stage: LeadStage, now: datetime
) -> None:
    """Move a lead to another funnel stage (dispositions, a manager's reopen, a recycled return)."""
    await session.exec(
        update(LEAD).where(LEAD.c.id == lead_id).values(stage=stage.value, updated_at=now)
    )


async def get_lead(session: AsyncSession, *, lead_id: int) -> Lead | None:
    """One lead by id."""
    rows = await session.exec(select(Lead).where(col(Lead.id) == lead_id))
    return rows.first()


async def find_lead(session: AsyncSession, *, key: str) -> Lead | None:
    """One lead by its key (``id:<crm id>`` or ``email:<addr>``)."""
    rows = await session.exec(select(Lead).where(col(Lead.key) == key))
    return rows.first()
