"""The weekly digest's full funnel: cohorts, the week's activity, money per currency, EN and JA."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from handlers.context import Language
from handlers.jobs.weekly_digest import run_digest
from store.engine import SessionFactory
from tests.handlers.jobs.builders import config, deps, outbox
from tests.store.test_funnel import seed_funnel

MONDAY = datetime.fromisoformat("2026-11-30T09:30:00+09:00")


async def digest_sections(sessions: SessionFactory, language: Language) -> str:
    await seed_funnel(sessions)
    d = deps(sessions, dataclasses.replace(config(), language=language))
    summary = await run_digest(d, MONDAY)
    assert summary["queued"] == 1  # no MQL this week: no chart
    (post,) = await outbox(sessions, kinds=("post",))
    return "\n".join(b["text"]["text"] for b in post.payload["blocks"] if b["type"] == "section")


async def test_the_digest_carries_the_full_funnel(sessions: SessionFactory) -> None:
    text = await digest_sections(sessions, "en")
    # The MQLs of June to November as they stand now: six, four SQLs, four with a deal, two won.
    assert (
        "*Full funnel* (MQLs of the period, as they stand now)\n"
        "• All MQLs: 6 MQL → SQL 4 (67%) → opportunity 4 (67%) → won 2 (33%) · won ¥4,200,000\n"
        "Open pipeline: $32,100.75\n"
        "Won: ¥4,200,000\n"
        "Median time MQL → opportunity: 5 d · MQL → won: 31 d"
    ) in text
    assert (
        "*This week's activity*\n"
        "MQLs created *0* · SQLs *0* · opportunities opened *0* · won *1*\n"
        "Open pipeline: —\n"
        "Won: ¥1,000,000\n"
        "Not from an MQL: 0 opened, 1 won (€500.00)"
    ) in text
    assert "*Funnel by source*\n• Webinar: 3 MQL → SQL 3 (3/3)" in text
    assert "*Funnel by score band*\n• score &lt; 100: 1 MQL" in text
    assert (
        "• 2026-10: 1 MQL → SQL 1 (1/1) → opportunity 1 (1/1) → won 1 (1/1) · won ¥1,000,000\n"
        "• 2026-11: 5 MQL → SQL 3 (60%) → opportunity 3 (60%) → won 1 (20%) · won ¥3,200,000"
    ) in text


async def test_the_funnel_in_japanese(sessions: SessionFactory) -> None:
    text = await digest_sections(sessions, "ja")
    assert "*フルファネル*" in text
    assert "進行中の商談額: $32,100.75" in text
    assert "MQL経由ではない商談: 商談化 0、受注 1（€500.00）" in text
    assert (
        "• 2026年11月: MQL 5 → SQL 3（60%）→ 商談 3（60%）→ 受注 1（20%） · 受注額 ¥3,200,000"
        in text
    )


async def test_the_chart_gets_a_funnel_by_source_panel(sessions: SessionFactory) -> None:
    import struct

    from handlers.digest import digest_figures, digest_funnel
    from handlers.present.digest_chart import digest_chart_png
    from handlers.present.digest_text import digest_catalog
    from scoring.digest import Period

    await seed_funnel(sessions)
    d = deps(sessions)
    period = Period(datetime.fromisoformat("2026-11-01T00:00:00+09:00"), MONDAY)
    report = await digest_figures(d, period.start, period.end, now=MONDAY)
    funnel, _ = await digest_funnel(d, period, MONDAY)
    catalog = digest_catalog("en", d.config.timezone)
    plain = digest_chart_png(report, catalog)
    with_funnel = digest_chart_png(report, catalog, funnel=funnel)

    def width(png: bytes) -> int:
        assert png.startswith(b"\x89PNG")
        return int(struct.unpack(">I", png[16:20])[0])

    assert (width(plain), width(with_funnel)) == (1100, 1600)
