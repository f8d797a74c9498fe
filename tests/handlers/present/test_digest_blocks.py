"""The digest's Block Kit: small numbers as counts, Slack's limits kept, same keys in both languages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.present.catalog import placeholders
from handlers.present.digest_blocks import conversion_line, digest_message, message_url
from handlers.present.digest_text import EN, JA, digest_catalog
from scoring.digest import (
    ClaimTimes,
    Conversion,
    DigestReport,
    Outcomes,
    Period,
    PeriodFigures,
    ReturningLead,
    UnworkedMql,
)

TOKYO = ZoneInfo("Asia/Tokyo")
EN_CATALOG = digest_catalog("en", TOKYO)
JA_CATALOG = digest_catalog("ja", TOKYO)
START = datetime(2026, 11, 23, 9, tzinfo=TOKYO)
END = datetime(2026, 11, 30, 9, tzinfo=TOKYO)


def test_digest_messages_have_the_same_keys_and_placeholders_in_both_languages() -> None:
    assert set(EN) == set(JA)
    assert {k: placeholders(v) for k, v in EN.items()} == {
        k: placeholders(v) for k, v in JA.items()
    }


@pytest.mark.parametrize(
    ("row", "en", "ja"),
    [
        (Conversion("webinar", 4, 3), "• webinar: *3/4* → SQL", "• webinar：SQL化 *3/4*"),
        (Conversion("webinar", 5, 3), "• webinar: *60%* → SQL (3/5)", "• webinar：SQL化 *60%*（3/5）"),
        (Conversion("a<b>", 0, 0), "• a&lt;b&gt;: no MQLs", "• a&lt;b&gt;：MQLなし"),
    ],
)  # fmt: skip
def test_a_conversion_over_fewer_than_five_mqls_is_counts(
    row: Conversion, en: str, ja: str
) -> None:
    assert conversion_line(row, row.key or "", EN_CATALOG) == en
    assert conversion_line(row, row.key or "", JA_CATALOG) == ja


def test_message_links_need_a_posted_card() -> None:
    assert message_url("C0SDR", "1764000000.000112") == (
        "https://slack.com/archives/C0SDR/p1764000000000112"
    )
    assert message_url("C0SDR", None) is None


def _figures(created: int, sql: int, sources: int = 0) -> PeriodFigures:
    return PeriodFigures(
        period=Period(START, END),
        as_of=END,
        created=created,
        claimed=created,
        claim_times=ClaimTimes(created, 60.0, 120.0) if created else ClaimTimes(0, None, None),
        sla_breaches=0,
        outcomes=Outcomes(sql=sql, lead=created - sql),
        by_source=tuple(Conversion(f"source {n:03d} " + "x" * 60, 5, 1) for n in range(sources)),
    )


def test_a_huge_week_stays_within_block_kit_limits() -> None:
    unworked = tuple(
        UnworkedMql(
            n, "N" * 300, "C" * 300, "open", START, None, None, "C0SDR", f"1764000000.{n:06d}"
        )
        for n in range(10)
    )
    report = DigestReport(
        current=_figures(500, 100, sources=200),
        previous=(_figures(400, 80),) * 4,
        threshold=100,
        unworked=unworked,
        unworked_total=900,
        returning=tuple(
            ReturningLead(n, "R" * 300, None, "timing", date(2026, 12, 1)) for n in range(10)
        ),
        returning_total=10,
        returning_until=date(2026, 12, 13),
    )
    for catalog in (EN_CATALOG, JA_CATALOG):
        message = digest_message(report, catalog)
        blocks = message["blocks"]
        assert len(blocks) <= 50
        assert len(blocks[0]["text"]["text"]) <= 150
        for block in blocks:
            if block["type"] == "section":
                assert 0 < len(block["text"]["text"]) <= 3000
        sources = [b["text"]["text"] for b in blocks if b["type"] == "section"][1]
        shown = [line for line in sources.splitlines() if line.startswith("•")]
        assert 20 < len(shown) < 200
        assert sources.splitlines()[-1] == catalog.t("digest.more", count=200 - len(shown))
        unworked_text = [b["text"]["text"] for b in blocks if b["type"] == "section"][-1]
        assert unworked_text.splitlines()[-1] == catalog.t("digest.more", count=890)


def test_a_week_without_mqls_says_so_and_still_lists_the_backlog() -> None:
    report = DigestReport(
        current=_figures(0, 0),
        previous=(),
        threshold=100,
        unworked=(
            UnworkedMql(7, None, None, "open", START - timedelta(days=9), None, None, None, None),
        ),
        unworked_total=1,
        returning_until=date(2026, 12, 13),
    )
    message = digest_message(report, EN_CATALOG)
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section"]
    assert sections == [
        "No MQLs were created in this period.",
        "*Recycled leads returning by 2026-12-13* (0)",
        "*Unworked MQLs past the SLA* (1)\n• MQL #7 — unclaimed since Sat 14 Nov 2026, 09:00",
    ]
    assert message["text"] == "MQL digest 2026-11-23 – 2026-11-30: 0 MQLs, 0 SQL (0/0)"


def test_stats_title_for_mql_stats() -> None:
    report = DigestReport(current=_figures(3, 1), previous=(), threshold=100)
    message = digest_message(report, JA_CATALOG, stats=True)
    assert message["blocks"][0]["text"]["text"] == "MQL集計：2026年11月23日(月)〜2026年11月30日(月)"
    headline = next(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    assert "MQL → SQL：*1/3*" in headline.splitlines()
