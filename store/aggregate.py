"""SQL pieces the digest and the Home queries share: counts, percentiles, the SLA overdue test."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from store.models import Mql, MqlState
from store.upsert import table_of

MQL = table_of(Mql)


async def count_rows(session: AsyncSession, table: Table, where: ColumnElement[bool]) -> int:
    """How many rows of ``table`` match ``where``."""
    rows = await session.exec(select(func.count()).select_from(table).where(where))
    return int(rows.one())


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """A column counting the grouped rows for which ``condition`` holds (0, never NULL)."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def percentile(
    session: AsyncSession,
    value: ColumnElement[Any],
    where: ColumnElement[bool],
    *,
    count: int,
    fraction: float,
) -> float:
    """``percentile_cont(fraction)`` of ``value`` over the ``count`` (> 0) rows ``where`` selects.

    Interpolates between the two values around position ``fraction * (count - 1)``, fetching
    only those two: the sort runs over the selected rows (an index range), never the table.
    """
    position = fraction * (count - 1)
    low = math.floor(position)
    pair = (
        await session.exec(select(value).where(where).order_by(value).limit(2).offset(low))
    ).all()
    first = float(pair[0])
    second = float(pair[1]) if len(pair) > 1 else first
    return first + (second - first) * (position - low)


def past_sla(
    claim_cutoff: datetime | None, work_cutoff: datetime | None
) -> ColumnElement[bool] | None:
    """MQLs past their SLA: unclaimed since ``claim_cutoff`` or claimed since ``work_cutoff``.

    A None cutoff means that stage has no SLA; None when neither has one (nothing is overdue).
    """
    branches: list[ColumnElement[bool]] = []
    if claim_cutoff is not None:
        branches.append(and_(MQL.c.state == MqlState.OPEN.value, MQL.c.created_at <= claim_cutoff))
    if work_cutoff is not None:
        branches.append(
            and_(MQL.c.state == MqlState.CLAIMED.value, MQL.c.claimed_at <= work_cutoff)
        )
    return or_(*branches) if branches else None
