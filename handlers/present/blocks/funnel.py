"""The full-funnel figures as Slack mrkdwn: per SDR, per group, money per currency (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from handlers.present.blocks._text import MAX_SECTION_TEXT, escape, lines_within
from handlers.present.catalog import Catalog
from scoring.currency import Money, format_money
from scoring.funnel import SdrFunnel


def money_text(amounts: Sequence[Money], catalog: Catalog) -> str:
    """``¥3,200,000 · $32,000.00``, each currency on its own, or a dash when there is none."""
    if not amounts:
        return "—"
    return " · ".join(format_money(m, catalog.language) for m in amounts)


def duration_text(value: timedelta | None, catalog: Catalog) -> str:
    """A median time such as ``12d 4h``, or a dash."""
    return "—" if value is None else catalog.format_duration(value)


def sdr_funnel_section(rows: Sequence[SdrFunnel], title: str, catalog: Catalog) -> str:
    """Per SDR: MQL → SQL → Opportunity → Won, so the team sees whose SQLs hold up."""
    head = f"*{escape(title)}*"
    if not rows:
        return f"{head}\n{escape(catalog.t('funnel.sdr_none'))}"
    lines = [
        catalog.t(
            "funnel.sdr_line",
            user=escape(r.owner_id),
            mqls=r.mqls,
            sql=r.sql,
            opportunities=r.opportunities,
            won=r.won,
        )
        for r in rows
    ]
    more = escape(catalog.t("card.more", count="{count}"))
    return f"{head}\n{lines_within(lines, MAX_SECTION_TEXT - len(head) - 1, more)}"
