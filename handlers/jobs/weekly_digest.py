"""The weekly outcome digest job: queue the past week's digest to the marketing channel, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers.context import Deps, HandlerConfig
from handlers.digest import digest_keys, queue_digest
from scoring.digest import Period, digest_period, digest_week_name
from store.digest import already_queued
from store.engine import READ_ONLY


def digest_week(now: datetime, config: HandlerConfig) -> tuple[Period, str]:
    """The period the digest due at ``now`` reports on, and its week's name (the job's slot)."""
    period = digest_period(
        now,
        weekday=config.digest_weekday,
        at=config.digest_time,
        tz=config.timezone,
        week=config.digest_week,
    )
    return period, digest_week_name(period, config.timezone)


def digest_slot(now: datetime, config: HandlerConfig) -> str:
    """The digest job's slot for a run at ``now``: the ISO week it reports on."""
    return digest_week(now, config)[1]


async def run_digest(deps: Deps, now: datetime) -> dict[str, Any]:
    """Queue the digest of the week that ended before the latest digest time <= ``now``.

    The message goes to the marketing channel with the chart as a file upload, both queued in
    one transaction and keyed by the ISO week reported on (in the SLA time zone), so a re-run
    for the same week queues nothing and says so. The summary's times are local.
    """
    config = deps.config
    period, week = digest_week(now, config)
    post_key, chart_key = digest_keys(week)
    summary: dict[str, Any] = {
        "week": week,
        "start": period.start.astimezone(config.timezone).isoformat(),
        "end": period.end.astimezone(config.timezone).isoformat(),
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
