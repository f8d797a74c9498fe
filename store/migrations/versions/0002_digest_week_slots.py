"""digest slots named after the week reported on

The weekly digest used to be keyed by the ISO week it was sent in (the digest of Monday 30 Nov -
Sunday 6 Dec, sent on Monday 7 Dec, was "2026-W50"); it is now keyed by the week it reports on
("2026-W49"). Renaming the digests already run, one week back, keeps the next run from posting
a week twice or skipping one. Data only: the schema does not change.

Revision ID: 0002_digest_week_slots
Revises: 0001
Create Date: 2026-12-03 06:45:00
"""

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from alembic import op
from sqlalchemy import Connection, text

revision: str = "0002_digest_week_slots"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The logic lives here, not in the store package: a migration must keep doing what it did when
# it was written, whatever the code becomes.
_WEEK: Final = re.compile(r"(\d{4})-W(\d{2})")
_KEY: Final = re.compile(r"digest:(\d{4}-W\d{2})(:chart)?")


def shifted_week(week: str, weeks: int) -> str:
    """``2026-W50`` moved by ``weeks`` ISO weeks (``-1`` gives ``2026-W49``; years roll over)."""
    match = _WEEK.fullmatch(week)
    if match is None:
        raise ValueError(f"{week!r} is not an ISO week like 2026-W49")
    monday = date.fromisocalendar(int(match[1]), int(match[2]), 1) + timedelta(weeks=weeks)
    year, number, _ = monday.isocalendar()
    return f"{year}-W{number:02d}"


def _shifted_key(key: str | None, weeks: int) -> str | None:
    match = _KEY.fullmatch(key or "")
    if match is None:
        return key
    return f"digest:{shifted_week(match[1], weeks)}{match[2] or ''}"


def shift_digest_weeks(conn: Connection, *, weeks: int) -> int:
    """Move every weekly digest's job slot and outbox keys by ``weeks``; return the rows changed.

    Rows are renamed one by one, nearest the direction of the move first, so that a week never
    takes a name its neighbour still holds (the slot and the dedupe key are unique). Digests
    queued by `/mql digest` (``digest:now:…``) are not weekly and keep their keys.
    """
    descending = weeks > 0
    order = "DESC" if descending else "ASC"
    changed = 0
    slots = conn.execute(
        text(f"SELECT id, slot FROM job_run WHERE job = 'digest' ORDER BY slot {order}")  # noqa: S608
    ).all()
    for row_id, slot in slots:
        if _WEEK.fullmatch(slot):
            conn.execute(
                text("UPDATE job_run SET slot = :slot WHERE id = :id"),
                {"slot": shifted_week(slot, weeks), "id": row_id},
            )
            changed += 1
    rows = conn.execute(
        text(
            "SELECT id, dedupe_key, target_key FROM outbox "  # noqa: S608
            f"WHERE dedupe_key LIKE 'digest:%' ORDER BY dedupe_key {order}"
        )
    ).all()
    for row_id, dedupe_key, target_key in rows:
        new_key = _shifted_key(dedupe_key, weeks)
        if new_key == dedupe_key:
            continue
        conn.execute(
            text("UPDATE outbox SET dedupe_key = :key, target_key = :target WHERE id = :id"),
            {"key": new_key, "target": _shifted_key(target_key, weeks), "id": row_id},
        )
        changed += 1
    return changed


def upgrade() -> None:
    shift_digest_weeks(op.get_bind(), weeks=-1)


def downgrade() -> None:
    shift_digest_weeks(op.get_bind(), weeks=1)
