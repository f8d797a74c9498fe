"""The digest of any period: its figures, and its message and chart queued (the job and `/mql stats`)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from handlers.context import Deps
from handlers.funnel import COHORT_MONTHS, calibration_figures, funnel_figures, month_bounds
from handlers.present.blocks.calibration import calibration_section
from handlers.present.blocks.funnel import funnel_sections, section_block
from handlers.present.digest_blocks import digest_message, period_label
from handlers.present.digest_chart import digest_chart_png
from handlers.present.digest_text import digest_catalog
from scoring.digest import (
    HISTORY_PERIODS,
    DigestReport,
    Period,
    previous_periods,
    sla_cutoffs,
)
from scoring.funnel import Cohort, FunnelReport
from store.digest import period_figures, returning_recycled, unworked_mqls
from store.engine import READ_ONLY
from store.models import OutboxKind
from store.outbox import enqueue

LIST_LIMIT: Final = 10
RETURNING_DAYS: Final = 14


async def digest_figures(
    deps: Deps,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    history: int = HISTORY_PERIODS,
) -> DigestReport:
    """The digest's figures for MQLs created in ``[start, end)``, as they stood at ``end``.

    Trends compare with the ``history`` periods of the same length just before. The two lists
    (unworked MQLs past the SLA, recycled leads returning within two weeks) are as of ``now``
    (default ``end``). All in one read-only transaction, so the figures agree with each other.
    """
    config = deps.config
    period = Period(start, end)
    now = end if now is None else now
    threshold = float(config.rules.threshold)
    earlier = previous_periods(period, history, config.timezone)
    today = now.astimezone(config.timezone).date()
    last_day = today + timedelta(days=RETURNING_DAYS - 1)
    async with deps.sessions() as session:
        # A plain BEGIN on SQLite: this long read must not take the write lock.
        await session.connection(execution_options=READ_ONLY)
        current = await period_figures(
            session,
            period=period,
            threshold=threshold,
            sla=sla_cutoffs(config.levels, config.calendar, period.end),
        )
        previous = tuple(
            [
                await period_figures(
                    session,
                    period=p,
                    threshold=threshold,
                    sla=sla_cutoffs(config.levels, config.calendar, p.end),
                    detail=False,
                )
                for p in earlier
            ]
        )
        unworked, unworked_total = await unworked_mqls(
            session, sla=sla_cutoffs(config.levels, config.calendar, now), limit=LIST_LIMIT
        )
        returning, returning_total = await returning_recycled(
            session, first_day=today, last_day=last_day, limit=LIST_LIMIT
        )
        await session.rollback()
    return DigestReport(
        current=current,
        previous=previous,
        threshold=threshold,
        unworked=unworked,
        unworked_total=unworked_total,
        returning=returning,
        returning_total=returning_total,
        returning_until=last_day,
    )


def monthly(period: Period, deps: Deps) -> bool:
    """Whether this is the month's first weekly digest (its week ends in the month's first 7 days),
    which carries the threshold calibration."""
    return period.end.astimezone(deps.config.timezone).day <= 7


async def digest_funnel(
    deps: Deps, period: Period, now: datetime
) -> tuple[FunnelReport, tuple[Cohort, ...]]:
    """The digest's full funnel: the MQLs of the last COHORT_MONTHS months as they stand now,
    by source, campaign and score band, the week's activity, and the monthly cohorts."""
    window = month_bounds(now, deps, COHORT_MONTHS)[0][1]
    return await funnel_figures(
        deps,
        window.start,
        max(now, window.start + timedelta(seconds=1)),
        by="source",
        as_of=now,
        cohort_months=COHORT_MONTHS,
        activity=period,
        also_by=("campaign", "band"),
    )


def digest_keys(week: str) -> tuple[str, str]:
    """The outbox keys of a week's digest message and chart: one of each per ISO week."""
    return f"digest:{week}", f"digest:{week}:chart"


@dataclass(frozen=True)
class QueuedDigest:
    """What ``queue_digest`` did: the figures it posted, outbox rows added, chart size."""

    report: DigestReport
    rows: int
    chart_bytes: int


async def queue_digest(
    deps: Deps, period: Period, *, keys: tuple[str, str], chart_name: str, now: datetime
) -> QueuedDigest:
    """Queue the digest of ``period`` to the marketing channel: the message, and the chart.

    Both rows go in one transaction under ``keys`` (message, chart), so queueing the same keys
    again adds nothing; the chart is uploaded as ``mql-digest-<chart_name>.png`` and left out
    when the period has no MQL.
    """
    config = deps.config
    post_key, chart_key = keys
    report = await digest_figures(deps, period.start, period.end, now=now)
    funnel, cohorts = await digest_funnel(deps, period, now)
    catalog = digest_catalog(config.language, config.timezone, config.names)
    message = digest_message(report, catalog)
    threshold = float(config.rules.threshold)
    # Before the closing note about small numbers.
    sections = funnel_sections(funnel, cohorts, threshold, catalog)
    if monthly(period, deps):
        sections.append(calibration_section(await calibration_figures(deps, now), catalog))
    message["blocks"][-1:-1] = [{"type": "divider"}, *(section_block(text) for text in sections)]
    chart = None
    if report.current.created > 0:
        # Drawing takes a few hundred milliseconds of CPU: keep it off the event loop.
        chart = await asyncio.to_thread(digest_chart_png, report, catalog, funnel=funnel)
    rows = 0
    async with deps.sessions() as session, session.begin():
        if await enqueue(
            session,
            dedupe_key=post_key,
            kind=OutboxKind.POST,
            channel=config.marketing_channel,
            payload=message,
            now=deps.queued_at(now),
            # The chart shares the post's target: the sender sends it only after the post.
            target_key=post_key,
        ):
            rows += 1
        if chart is not None and await enqueue(
            session,
            dedupe_key=chart_key,
            kind=OutboxKind.UPLOAD,
            channel=config.marketing_channel,
            payload={
                "filename": f"mql-digest-{chart_name}.png",
                "title": catalog.t("digest.chart_title", period=period_label(period, catalog)),
                "content_b64": base64.b64encode(chart).decode("ascii"),
            },
            now=deps.queued_at(now),
            target_key=post_key,
        ):
            rows += 1
    return QueuedDigest(report, rows, 0 if chart is None else len(chart))
