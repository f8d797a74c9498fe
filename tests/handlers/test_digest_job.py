"""The digest job: the hand-built week posted to marketing in English and Japanese, chart included, once."""

from __future__ import annotations

import base64
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from handlers.context import Deps, Language
from handlers.digest import digest_figures
from handlers.jobs.weekly_digest import run_digest
from scoring.digest import Outcomes, stats_period
from store.engine import SessionFactory
from tests.handlers.jobs.builders import config, deps, outbox
from tests.store.test_digest import DIGEST_AT, build_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _deps(sessions: SessionFactory, language: Language = "en") -> Deps:
    # The hand-built data is cut at the digest time: the rolling week, Monday 09:00 to 09:00
    # (the calendar week is tested in test_digest_week.py).
    return deps(sessions, dataclasses.replace(config(), language=language, digest_week="rolling"))


def _sections(payload: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]


EN_HEADLINE = """*Funnel*
MQLs created: *15* (▲ 200% vs avg 5)
Claimed: *13* (87%)
Time to claim (business hours): median *7 min*, 90th percentile *38 min* (avg before 10 min)
SLA breaches: *7* (before: 0)
Outcomes: SQL *4* · Lead *1* · Recycled *2* · Disqualified *3* · still open *5*
MQL → SQL: *27%* (4/15) (+2 pts vs 25%)"""

EN_LISTS = [
    """*MQL → SQL by source*
• Webinar: *50%* → SQL (3/6)
• Website: *17%* → SQL (1/6)
• Seminar: *0/2* → SQL
• (none): *0/1* → SQL""",
    """*MQL → SQL by campaign*
• A: *60%* → SQL (3/5)
• B: *1/4* → SQL
• C: *0/2* → SQL
• D: *0/1* → SQL
• E: *0/1* → SQL
• other: *0/2* → SQL""",
    """*MQL → SQL by score band* (threshold 100)
• score &lt; 100: *1/3* → SQL
• 100 ≤ score &lt; 125: *17%* → SQL (1/6)
• 125 ≤ score &lt; 150: *2/3* → SQL
• score ≥ 150: *0/3* → SQL""",
    """*Triggers vs threshold*
• Threshold: *27%* → SQL (3/11)
• Trigger: *1/3* → SQL
• External score: *0/1* → SQL""",
    """*Top disqualification reasons*
• Competitor: 2
• Student: 1
*Top recycle reasons*
• Budget: 1
• Timing: 1""",
    """*Recycled leads returning by 2026-12-13* (3)
• Yuki Mori (Example KK) — 2026-11-30 · Timing
• Sho Kato (Example KK) — 2026-12-05 · Timing
• Emma Brown (Brown &amp; Co) — 2026-12-13 · Under contract with a competitor""",
]


async def test_the_week_is_posted_to_marketing_with_its_chart(sessions: SessionFactory) -> None:
    await build_data(sessions)
    summary = await run_digest(_deps(sessions), DIGEST_AT)
    assert summary["week"] == "2026-W48"
    assert (summary["queued"], summary["mqls"], summary["sql"]) == (2, 15, 4)
    post, upload = await outbox(sessions)
    assert (post.kind, post.channel, post.dedupe_key) == ("post", "C0MKT", "digest:2026-W48")
    assert post.payload["text"] == "MQL digest 2026-11-23 – 2026-11-30: 15 MQLs, 4 SQL (27%)"
    assert post.payload["blocks"][0]["text"]["text"] == "MQL digest: 2026-11-23 – 2026-11-30"
    sections = _sections(post.payload)
    assert sections[0] == EN_HEADLINE
    assert sections[1:7] == EN_LISTS
    assert sections[7] == (
        "*Unworked MQLs past the SLA* (2)\n"
        "• <https://slack.com/archives/C0SDR/p1764000000000112|Kenji Ito (Nagoya Steel)>"
        " — unclaimed since Thu 26 Nov 2026, 09:00\n"
        "• <https://slack.com/archives/C0SDR/p1764000000000114|Mika Tanaka (Osaka Foods)>"
        " — claimed by <@U0SDRB> Fri 27 Nov 2026, 13:05, no outcome yet"
    )
    assert len(post.payload["blocks"]) <= 50
    assert (upload.kind, upload.channel, upload.dedupe_key) == (
        "upload",
        "C0MKT",
        "digest:2026-W48:chart",
    )
    # One target for both: the sender sends the chart only once the message is out.
    assert post.target_key == upload.target_key == "digest:2026-W48"
    assert upload.payload["filename"] == "mql-digest-2026-W48.png"
    assert upload.payload["title"] == (
        "Chart: MQL funnel and conversion by source, 2026-11-23 – 2026-11-30"
    )
    png = base64.b64decode(upload.payload["content_b64"])
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 10_000
    assert summary["chart_bytes"] == len(png)


async def test_in_japanese(sessions: SessionFactory) -> None:
    await build_data(sessions)
    await run_digest(_deps(sessions, "ja"), DIGEST_AT)
    post, upload = await outbox(sessions)
    assert post.payload["text"] == (
        "MQLダイジェスト 2026年11月23日(月)〜2026年11月30日(月)：MQL 15件、SQL 4件（27%）"
    )
    sections = _sections(post.payload)
    assert sections[0] == (
        "*ファネル*\n"
        "作成されたMQL：*15件*（平均比 ▲ 200%、平均 5）\n"
        "担当決定：*13件*（87%）\n"
        "担当決定までの時間（営業時間）：中央値 *7分*、90パーセンタイル *38分*（以前の平均 10分）\n"
        "SLA違反：*7件*（以前 0）\n"
        "結果：SQL *4* ・ リード *1* ・ リサイクル *2* ・ 失格 *3* ・ 未処理 *5*\n"
        "MQL → SQL：*27%*（4/15）（+2ポイント、以前 25%）"
    )
    assert sections[1] == (
        "*ソース別 MQL → SQL*\n"
        "• ウェビナー：SQL化 *50%*（3/6）\n"
        "• ウェブサイト：SQL化 *17%*（1/6）\n"
        "• セミナー：SQL化 *0/2*\n"
        "• （なし）：SQL化 *0/1*"
    )
    assert sections[3].splitlines()[1:] == [
        "• スコア 100 未満：SQL化 *1/3*",
        "• 100 ≤ スコア &lt; 125：SQL化 *17%*（1/6）",
        "• 125 ≤ スコア &lt; 150：SQL化 *2/3*",
        "• スコア 150 以上：SQL化 *0/3*",
    ]
    assert sections[6].splitlines()[0] == "*2026年12月13日(日)までに戻るリサイクルリード*（3件）"
    assert sections[7].splitlines()[1].endswith(" — 2026年11月26日(木) 09:00から担当者なし")
    assert upload.payload["title"] == (
        "グラフ：MQLファネルとソース別SQL化率（2026年11月23日(月)〜2026年11月30日(月)）"
    )


@pytest.mark.parametrize("later", [timedelta(0), timedelta(hours=30), timedelta(days=6)])
async def test_a_rerun_for_the_same_week_queues_nothing(
    sessions: SessionFactory, later: timedelta
) -> None:
    await build_data(sessions)
    first = await run_digest(_deps(sessions), DIGEST_AT)
    again = await run_digest(_deps(sessions), DIGEST_AT + later)
    assert (first["queued"], again["queued"], again["already_queued"]) == (2, 0, True)
    assert again["week"] == first["week"]
    assert [r.dedupe_key for r in await outbox(sessions)] == [
        "digest:2026-W48",
        "digest:2026-W48:chart",
    ]


async def test_the_next_week_gets_its_own_digest_without_chart_when_empty(
    sessions: SessionFactory,
) -> None:
    await build_data(sessions)
    await run_digest(_deps(sessions), DIGEST_AT)
    summary = await run_digest(_deps(sessions), DIGEST_AT + timedelta(days=7))
    # Only the MQL created exactly at the first digest time falls in the next week.
    assert (summary["week"], summary["queued"], summary["mqls"]) == ("2026-W49", 2, 1)
    summary = await run_digest(_deps(sessions), DIGEST_AT + timedelta(days=14))
    assert (summary["week"], summary["queued"], summary["mqls"], summary["chart_bytes"]) == (
        "2026-W50",
        1,
        0,
        0,
    )
    last = (await outbox(sessions))[-1]
    assert last.dedupe_key == "digest:2026-W50"
    assert _sections(last.payload)[0] == "No MQLs were created in this period."


async def test_the_same_figures_for_any_period_for_mql_stats(sessions: SessionFactory) -> None:
    await build_data(sessions)
    period = stats_period("7d", DIGEST_AT)
    report = await digest_figures(_deps(sessions), period.start, period.end)
    assert (report.current.created, report.current.outcomes) == (
        15,
        Outcomes(sql=4, lead=1, recycled=2, disqualified=3, open=5),
    )
    assert [p.created for p in report.previous] == [10, 6, 0, 4]
    # Thirty days back from the digest: 31 Oct 09:00 – 30 Nov 09:00, not the week of 26 Oct.
    month = stats_period("30d", DIGEST_AT)
    monthly = await digest_figures(_deps(sessions), month.start, month.end, now=DIGEST_AT)
    assert (monthly.current.created, monthly.current.outcomes.sql) == (31, 9)
    assert monthly.current.period.start == datetime.fromisoformat("2026-10-31T09:00:00+09:00")
