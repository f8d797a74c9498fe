"""The weekly outcome digest job: queue the past week's digest to the marketing channel, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.context import Deps
from handlers.digest import digest_keys, queue_digest
from scoring.digest import iso_week, weekly_period
from store.digest import already_queued
from store.engine import READ_ONLY


async def run_digest(deps: Deps, now: datetime) -> dict[str, Any]:
    """Queue the digest of the week that ended at the latest digest time <= ``now``.

    The message goes to the marketing channel with the chart as a file upload, both queued in
    one transaction and keyed by the ISO week of the period's end (in the SLA time zone), so a
    re-run for the same week queues nothing and says so.
    """
    config = deps.config
    period = weekly_period(
        now, weekday=config.digest_weekday, at=config.digest_time, tz=config.timezone
    )
    week = iso_week(period.end, config.timezone)
    post_key, chart_key = digest_keys(week)
    summary: dict[str, Any] = {
        "week": week,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
    }
    async with deps.sessions() as session:
        await session.connection(execution_options=READ_ONLY)
        done = await already_queued(session, dedupe_key=post_key)
        await session.rollback()
    if done:
        return {**summary, "queued": 0, "already_queued": True}
    queued = await queue_digest(deps, period, keys=(post_key, chart_key), chart_name=week, now=now)
    cur = queued.report.current
    return {
        **summary,
        "queued": queued.rows,
        "already_queued": False,
        "mqls": cur.created,
        "sql": cur.outcomes.sql,
        "chart_bytes": queued.chart_bytes,
    }
