"""The digest chart: a real PNG, drawable in both languages with or without a Japanese font."""

from __future__ import annotations

import struct
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from handlers.context import Language
from handlers.present.digest_chart import (
    BASE_FAMILY,
    ChartFont,
    _drawable,
    chart_font,
    digest_chart_png,
)
from handlers.present.digest_text import digest_catalog
from scoring.digest import ClaimTimes, Conversion, DigestReport, Outcomes, Period, PeriodFigures

TOKYO = ZoneInfo("Asia/Tokyo")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NO_JAPANESE = ChartFont(BASE_FAMILY, False)


def _report(sources: tuple[Conversion, ...]) -> DigestReport:
    created = sum(s.mqls for s in sources)
    sql = sum(s.sql for s in sources)
    figures = PeriodFigures(
        period=Period(
            datetime(2026, 11, 23, 9, tzinfo=TOKYO), datetime(2026, 11, 30, 9, tzinfo=TOKYO)
        ),
        as_of=datetime(2026, 11, 30, 9, tzinfo=TOKYO),
        created=created,
        claimed=created - 1 if created else 0,
        claim_times=ClaimTimes(created, 60.0, 600.0),
        sla_breaches=1,
        outcomes=Outcomes(sql=sql, open=created - sql),
        by_source=sources,
    )
    return DigestReport(current=figures, previous=(), threshold=100)


SOURCES = (
    Conversion("webinar", 6, 3),
    Conversion("展示会", 5, 1),  # a Japanese source name
    Conversion("seminar", 2, 0),  # too few MQLs: counts, no bar
    Conversion(None, 3, 0, other=True),
)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_chart_is_a_png_of_the_funnel_and_sources(language: Language) -> None:
    # Any glyph matplotlib cannot draw would warn, and warnings fail the tests.
    png = digest_chart_png(_report(SOURCES), digest_catalog(language, TOKYO), font=NO_JAPANESE)
    assert _png_size(png) == (1100, 500)
    assert len(png) > 10_000


def test_the_chart_with_the_font_found_on_this_machine() -> None:
    font = chart_font()
    png = digest_chart_png(_report(SOURCES), digest_catalog("ja", TOKYO), font=font)
    assert _png_size(png) == (1100, 500)
    assert font.family in (BASE_FAMILY, "Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic",
                           "IPAGothic", "TakaoGothic", "VL Gothic", "Hiragino Sans", "Yu Gothic",
                           "MS Gothic")  # fmt: skip
    assert font.japanese is (font.family != BASE_FAMILY)


def test_a_week_without_sources_still_draws() -> None:
    png = digest_chart_png(_report(()), digest_catalog("en", TOKYO), font=NO_JAPANESE)
    assert _png_size(png) == (1100, 500)


def test_without_a_japanese_font_unknown_characters_become_question_marks() -> None:
    assert _drawable("展示会 2026 – café", NO_JAPANESE) == "??? 2026 – café"
    assert _drawable("展示会", ChartFont("Noto Sans CJK JP", True)) == "展示会"
