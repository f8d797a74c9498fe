"""The digest chart: the week's funnel and MQL → SQL by source, as PNG bytes (matplotlib, Agg)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import fontManager
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import MaxNLocator

from handlers.present.catalog import Catalog
from handlers.present.digest_blocks import group_name, period_label
from handlers.present.digest_text import digest_catalog
from scoring.digest import MIN_RATE_BASE, DigestReport
from scoring.funnel import FunnelReport

# Families known to cover Japanese, best first: Debian's fonts-noto-cjk, fonts-ipafont-gothic,
# fonts-ipaexfont-gothic, fonts-takao-gothic, fonts-vlgothic; macOS and Windows names last.
JAPANESE_FAMILIES: Final = (
    "Noto Sans CJK JP",
    "Noto Sans JP",
    "IPAexGothic",
    "IPAGothic",
    "TakaoGothic",
    "VL Gothic",
    "Hiragino Sans",
    "Yu Gothic",
    "MS Gothic",
)
_JAPANESE_SAMPLE: Final = "MQLの結果作成担当決定ソース別"
BASE_FAMILY: Final = "DejaVu Sans"
_BLUE, _GREEN, _GREY = "#3b6ea8", "#2e8b57", "#b0b0b0"


@dataclass(frozen=True)
class ChartFont:
    """The font family the chart uses and whether Japanese text can be drawn with it."""

    family: str
    japanese: bool


@lru_cache(maxsize=8)
def _charmap(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


def _covers(path: str, text: str) -> bool:
    chars = _charmap(path)
    return all(ord(c) in chars for c in text if not c.isspace())


@lru_cache(maxsize=1)
def chart_font() -> ChartFont:
    """An installed font with Japanese glyphs, else DejaVu Sans (never downloads anything)."""
    by_family = {entry.name: entry.fname for entry in fontManager.ttflist}
    for family in JAPANESE_FAMILIES:
        path = by_family.get(family)
        if path is not None and _covers(path, _JAPANESE_SAMPLE):
            return ChartFont(family, True)
    return ChartFont(BASE_FAMILY, False)


def _drawable(text: str, font: ChartFont) -> str:
    """Text the font can draw: without Japanese glyphs, unknown characters become "?".

    Matplotlib would draw empty boxes and warn for each; a "?" is at least honest.
    """
    if font.japanese:
        return text
    path = fontManager.findfont(BASE_FAMILY)
    chars = _charmap(path)
    return "".join(c if c.isspace() or ord(c) in chars else "?" for c in text)


def digest_chart_png(
    report: DigestReport,
    catalog: Catalog,
    *,
    font: ChartFont | None = None,
    funnel: FunnelReport | None = None,
) -> bytes:
    """The chart for ``report``: funnel (created → claimed → SQL) and conversion by source,
    and with ``funnel`` a third panel: MQL → SQL → opportunity → won by source.

    Labels are in ``catalog``'s language when the font can draw it, otherwise in English
    (with the same time zone). Readable alone: title with the dates, values on every bar.
    """
    font = font or chart_font()
    if catalog.language != "en" and not font.japanese:
        catalog = digest_catalog("en", catalog.timezone, catalog.names)
    cur = report.current

    def label(text: str) -> str:
        return _drawable(text, font)

    with rc_context({"font.family": [font.family, BASE_FAMILY]}):
        panels = 2 if funnel is None else 3
        figure = Figure(figsize=(11 if funnel is None else 16, 5), dpi=100, layout="constrained")
        FigureCanvasAgg(figure)
        figure.suptitle(
            label(catalog.t("chart.title", period=period_label(cur.period, catalog))), fontsize=15
        )
        axes = figure.subplots(1, panels, width_ratios=(2, 3, 4)[:panels])
        steps_axis, sources = axes[0], axes[1]
        if funnel is not None:
            _funnel_by_source(axes[2], funnel, catalog, label)

        steps = [
            (catalog.t("chart.created"), cur.created, str(cur.created)),
            (
                catalog.t("chart.claimed"),
                cur.claimed,
                f"{cur.claimed} ({cur.claim_rate.display()})",
            ),
            (
                catalog.t("chart.sql"),
                cur.outcomes.sql,
                f"{cur.outcomes.sql} ({cur.conversion.display()})",
            ),
        ][::-1]
        values = [value for _, value, _ in steps]
        bars = steps_axis.barh(
            [label(n) for n, _, _ in steps], values, color=[_GREEN, _BLUE, _BLUE]
        )
        steps_axis.bar_label(bars, labels=[text for _, _, text in steps], padding=4, fontsize=12)
        steps_axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        steps_axis.set_title(label(catalog.t("chart.funnel")), fontsize=13)
        steps_axis.set_xlabel(label(catalog.t("chart.count_axis")))
        steps_axis.set_xlim(0, max(*values, 1) * 1.4)
        steps_axis.spines[["top", "right"]].set_visible(False)

        rows = [row for row in cur.by_source if row.mqls > 0]
        sources.set_title(label(catalog.t("chart.by_source")), fontsize=13)
        sources.spines[["top", "right"]].set_visible(False)
        if not rows:
            sources.text(0.5, 0.5, label(catalog.t("chart.no_sources")), ha="center", va="center")
            sources.set_axis_off()
        else:
            rows = rows[::-1]
            # A rate over too few MQLs is drawn as a grey stub with its counts, not as a bar
            # whose length would suggest a percentage nobody should read.
            heights = [0.0 if r.rate.is_small else 100 * r.sql / r.mqls for r in rows]
            colours = [_GREY if r.rate.is_small else _BLUE for r in rows]
            bars = sources.barh(
                [label(group_name(r, catalog))[:30] for r in rows], heights, color=colours
            )
            texts = [
                f"{r.sql}/{r.mqls}" if r.rate.is_small else f"{r.rate.display()} ({r.sql}/{r.mqls})"
                for r in rows
            ]
            sources.bar_label(bars, labels=texts, padding=4, fontsize=11)
            sources.set_xlim(0, 115)
            sources.set_xlabel(label(catalog.t("chart.rate_axis")))
            if any(r.rate.is_small for r in rows):
                sources.text(
                    1.0,
                    -0.18,
                    label(catalog.t("chart.small", min=MIN_RATE_BASE)),
                    transform=sources.transAxes,
                    ha="right",
                    fontsize=9,
                    color="#555555",
                )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


_FUNNEL_SOURCES: Final = 6
_STAGE_COLOURS: Final = ("#9ab7d6", _BLUE, "#e0a030", _GREEN)


def _funnel_by_source(axis: Any, funnel: FunnelReport, catalog: Catalog, label: Any) -> None:
    """Grouped bars per source: how many of its MQLs reached SQL, an opportunity, a won deal."""
    axis.set_title(label(catalog.t("funnel.chart_title")), fontsize=13)
    axis.spines[["top", "right"]].set_visible(False)
    rows = [g for g in funnel.groups if g.mqls > 0][:_FUNNEL_SOURCES][::-1]
    if not rows:
        axis.text(0.5, 0.5, label(catalog.t("chart.no_sources")), ha="center", va="center")
        axis.set_axis_off()
        return
    stages = (
        ("MQL", [r.mqls for r in rows]),
        ("SQL", [r.sql for r in rows]),
        (catalog.t("funnel.legend.opportunity"), [r.opportunities for r in rows]),
        (catalog.t("funnel.legend.won"), [r.won for r in rows]),
    )
    height = 0.8 / len(stages)
    for index, ((name, values), colour) in enumerate(zip(stages, _STAGE_COLOURS, strict=True)):
        positions = [
            i + (len(stages) - 1 - index) * height - 0.4 + height / 2 for i in range(len(rows))
        ]
        bars = axis.barh(positions, values, height=height, color=colour, label=label(name))
        axis.bar_label(bars, labels=[str(v) for v in values], padding=2, fontsize=8)
    axis.set_yticks(range(len(rows)), [label(r.key or catalog.t("digest.none"))[:30] for r in rows])
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_xlabel(label(catalog.t("chart.count_axis")))
    axis.legend(loc="lower right", fontsize=9)
