"""Benchmark of the weekly digest on a big database: time and peak memory (goals < 2 s, < 300 MB).

Run: python bench/bench_digest.py [--url sqlite:///bench/out/digest.db | postgresql://…/mqlbot_bench]
     [--at 2026-11-30T09:00:00+09:00] [--repeat 3] [--language en|ja]
Build the database first with bench/gen_digest_db.py. Measures, in a fresh process:
1. the figures (`handlers.digest.digest_figures`: the week, four earlier weeks, the two
   lists; ~30 SQL statements) — best and worst of --repeat runs, cold first;
2. the same for `/mql stats quarter` (13 weeks plus four earlier quarters);
3. the full funnel the digest adds (`handlers.digest.digest_funnel`: six months of cohorts by
   source, campaign and band, the week's activity, monthly cohorts), `mqlbot report funnel`
   (`handlers.funnel.funnel_figures` for 90 days + CSV) and the calibration (90 days);
4. the Block Kit message and the chart PNG;
with tracemalloc's peak of Python allocations for each, and the process's ru_maxrss at the end.
Prints the digest's figures.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as wall_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from handlers.context import Deps, HandlerConfig
from handlers.digest import digest_figures, digest_funnel
from handlers.funnel import calibration_figures, funnel_figures
from handlers.present.digest_blocks import digest_message
from handlers.present.digest_chart import chart_font, digest_chart_png
from handlers.present.digest_text import digest_catalog
from handlers.present.funnel_report import format_report
from scoring.clock import BusinessCalendar
from scoring.digest import DigestReport, stats_period, weekly_period
from scoring.rules import ScoringRules
from scoring.sla import default_levels
from store.engine import create_engine, session_factory

DEFAULT_URL = f"sqlite:///{Path(__file__).resolve().parent / 'out' / 'digest.db'}"
TOKYO = ZoneInfo("Asia/Tokyo")
T = TypeVar("T")


def handler_config(language: str) -> HandlerConfig:
    """The defaults of CONTRACT.md in Tokyo with Japanese holidays."""
    return HandlerConfig(
        sdr_channel="C0SDR",
        marketing_channel="C0MKT",
        sdr_users=(),
        sdr_usergroup=None,
        managers=frozenset(),
        mention="sdrs",
        member_cache_ttl=timedelta(minutes=10),
        language="ja" if language == "ja" else "en",
        timezone=TOKYO,
        known_types=frozenset(),
        rules=ScoringRules(points={"email_opened": 1}, threshold=100),
        calendar=BusinessCalendar.parse(
            timezone="Asia/Tokyo", business_hours="09:00-18:00", workdays="mon-fri", holidays=["JP"]
        ),
        levels=default_levels(
            claim_within=timedelta(minutes=15),
            work_within=timedelta(hours=24),
            escalate_after=timedelta(hours=48),
            auto_assign=False,
        ),
        recycle_reasons={},
        reset_score_on_return=False,
        disqualify_reasons=(),
        digest_weekday=0,
        digest_time=wall_time(9, 0),
    )


async def measured(label: str, make: Callable[[], Awaitable[T]], repeat: int) -> T:
    times = []
    result: T | None = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = await make()
        times.append(time.perf_counter() - began)
    tracemalloc.start()
    result = await make()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"{label}: first {times[0] * 1000:.0f} ms, best {min(times) * 1000:.0f} ms, "
        f"worst {max(times) * 1000:.0f} ms; tracemalloc peak {peak / 1e6:.1f} MB"
    )
    assert result is not None
    return result


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def print_figures(report: DigestReport) -> None:
    cur = report.current
    t = report.trends
    print(f"period: {cur.period.start.astimezone(TOKYO)} – {cur.period.end.astimezone(TOKYO)}")
    print(
        f"created {cur.created} (4-wk avg {t.created.baseline}), claimed {cur.claimed}, "
        f"claim median {cur.claim_times.median_seconds} s, p90 {cur.claim_times.p90_seconds} s, "
        f"SLA breaches {cur.sla_breaches}"
    )
    print(f"outcomes {cur.outcomes}, MQL→SQL {cur.conversion.display()}")
    for title, rows in (
        ("source", cur.by_source),
        ("campaign", cur.by_campaign),
        ("band", cur.by_band),
        ("kind", cur.by_kind),
    ):
        shown = ", ".join(
            f"{'other' if r.other else r.key}: {r.rate.display()} of {r.mqls}" for r in rows
        )
        print(f"by {title}: {shown}")
    print(f"disqualify reasons: {[(r.reason, r.count) for r in cur.disqualify_reasons]}")
    print(f"recycle reasons: {[(r.reason, r.count) for r in cur.recycle_reasons]}")
    print(
        f"returning in two weeks: {report.returning_total}; unworked past SLA: {report.unworked_total}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--at", default="2026-11-30T09:00:00+09:00")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--language", default="en", choices=("en", "ja"))
    args = parser.parse_args()
    now = datetime.fromisoformat(args.at)
    config = handler_config(args.language)
    engine = create_engine(args.url)
    deps = Deps(config=config, sessions=session_factory(engine), clock=lambda: now)
    print(f"database: {args.url.rsplit('@', 1)[-1]}; rss at start {rss_mb():.0f} MB")
    week = weekly_period(now, weekday=0, at=wall_time(9), tz=TOKYO)
    report = await measured(
        "weekly digest figures",
        lambda: digest_figures(deps, week.start, week.end, now=now),
        args.repeat,
    )
    quarter = stats_period("quarter", now)
    await measured(
        "/mql stats quarter figures",
        lambda: digest_figures(deps, quarter.start, quarter.end, now=now),
        args.repeat,
    )
    funnel, cohorts = await measured(
        "digest full funnel", lambda: digest_funnel(deps, week, now), args.repeat
    )

    async def report_funnel() -> str:
        report, _ = await funnel_figures(
            deps, now - timedelta(days=90), now, by="source", as_of=now
        )
        return format_report(report, "csv")

    csv_text = await measured("report funnel (90 days, csv)", report_funnel, args.repeat)
    calibration = await measured(
        "report calibration (90 days)", lambda: calibration_figures(deps, now), args.repeat
    )
    print(f"rss after the figures: {rss_mb():.0f} MB")
    total = funnel.total
    print(
        f"funnel (6 months): {total.mqls} MQL → {total.sql} SQL → {total.opportunities} opp → "
        f"{total.won} won; won {dict(total.won_amount)}; cohorts {len(cohorts)}; "
        f"report rows {len(csv_text.splitlines()) - 1}; calibration sample {calibration.sample}, "
        f"closed {calibration.closed}"
    )
    catalog = digest_catalog(config.language, TOKYO)

    async def render() -> tuple[dict[str, Any], bytes]:
        return digest_message(report, catalog), await asyncio.to_thread(
            digest_chart_png, report, catalog, funnel=funnel
        )

    message, png = await measured("message + chart", render, 1)
    print(
        f"message: {len(message['blocks'])} blocks; chart: {len(png):,} bytes PNG "
        f"(font {chart_font().family})"
    )
    print(f"ru_maxrss at the end: {rss_mb():.0f} MB")
    print_figures(report)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
