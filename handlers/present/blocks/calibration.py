"""The threshold calibration as digest text (mrkdwn, EN/JA): candidates, bands, and its advice."""

from __future__ import annotations

from handlers.present.blocks._text import MAX_SECTION_TEXT, escape, lines_within
from handlers.present.blocks.funnel import group_label, money_text
from handlers.present.catalog import Catalog, format_number
from scoring.calibration import MIN_CLOSED, Calibration, Candidate
from scoring.currency import Money
from scoring.funnel import FunnelCounts


def _candidate_line(c: Candidate, current: float, catalog: Catalog) -> str:
    won = money_text([Money(a, cur) for cur, a in sorted(c.won_amount.items())], catalog)
    line = catalog.t(
        "calibration.line",
        threshold=format_number(c.threshold),
        mqls=c.mqls,
        sql=c.sql,
        opportunities=c.opportunities,
        won=c.won,
        amount=won,
        wasted=c.wasted,
        bad=c.bad,
        hours=format_number(c.saved_hours),
    )
    if c.threshold == current:
        line += catalog.t("calibration.current")
    if c.threshold < current:
        line += catalog.t("calibration.lower", extra=c.extra_leads)
    return line


def calibration_section(cal: Calibration, catalog: Catalog) -> str:
    """The digest's monthly calibration section; below MIN_CLOSED outcomes it refuses to advise."""
    head = catalog.t("calibration.title", days=cal.days, sample=cal.sample, closed=cal.closed)
    if not cal.enough:
        refusal = catalog.t("calibration.too_little", min=MIN_CLOSED, closed=cal.closed)
        return f"{head}\n{escape(refusal)}"
    lines = [_candidate_line(c, cal.threshold, catalog) for c in cal.candidates]
    lines.append(catalog.t("calibration.bands"))
    for band in cal.bands:
        name = group_label(FunnelCounts(band.band, 0, 0, 0, 0), "band", cal.threshold, catalog)
        lines.append(
            catalog.t(
                "calibration.band_line",
                band=escape(name),
                mqls=band.mqls,
                sql=band.sql,
                won=band.won,
                wasted=band.wasted,
                bad=band.bad,
            )
        )
    advice = cal.advice()
    if advice is None:
        lines.append(catalog.t("calibration.no_advice"))
    else:
        lines.append(
            catalog.t(
                "calibration.advice",
                threshold=format_number(advice.threshold),
                removed=advice.removed,
                hours=format_number(advice.saved_hours),
            )
        )
    lines.append(catalog.t("calibration.never"))
    more = escape(catalog.t("card.more", count="{count}"))
    return f"{head}\n{lines_within(lines, MAX_SECTION_TEXT - len(head) - 1, more)}"
