"""The full-funnel figures as Slack mrkdwn: per SDR, per group, money per currency (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from handlers.present.blocks._text import MAX_SECTION_TEXT, escape, lines_within, mrkdwn_text
from handlers.present.catalog import Catalog, format_number
from scoring.currency import Money, format_money
from scoring.digest import band_bounds
from scoring.funnel import Cohort, FunnelCounts, FunnelReport, SdrFunnel


def section_block(text: str) -> dict[str, object]:
    """One mrkdwn section (the text already within Slack's section limit)."""
    return {"type": "section", "text": mrkdwn_text(text)}


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
    if not rows:
        return f"*{escape(title)}*\n{escape(catalog.t('funnel.sdr_none'))}"
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
    return _titled(title, lines, catalog)


def funnel_line(row: FunnelCounts, name: str, catalog: Catalog) -> str:
    """``• webinar: 10 → SQL 4 (40%) → opp. 2 (20%) → won 1 (10%) · won ¥3,200,000``."""
    line = catalog.t(
        "funnel.group_line",
        name=escape(name[:80]),
        mqls=row.mqls,
        sql=row.sql,
        sql_rate=row.sql_rate.display(),
        opportunities=row.opportunities,
        opp_rate=row.opportunity_rate.display(),
        won=row.won,
        won_rate=row.won_rate.display(),
    )
    if row.won_amount:
        line += catalog.t("funnel.won_amount", amount=money_text(row.money(won=True), catalog))
    return line


def _titled(title: str, lines: Sequence[str], catalog: Catalog) -> str:
    head = f"*{escape(title)}*"
    more = escape(catalog.t("card.more", count="{count}"))
    return f"{head}\n{lines_within(lines, MAX_SECTION_TEXT - len(head) - 1, more)}"


def group_label(row: FunnelCounts, by: str, threshold: float, catalog: Catalog) -> str:
    """A group's name: the source's or campaign's display name, "(none)", or the band's bounds."""
    if row.key is None:
        return catalog.t("digest.none")
    if by == "source":
        return catalog.source_label(row.key)
    if by == "campaign":
        return catalog.campaign_label(row.key)
    if by == "band":
        bounds = {band: (low, high) for band, low, high in band_bounds(threshold)}
        low, high = bounds.get(row.key, (None, None))
        return catalog.t(
            f"digest.band.{row.key}",
            low="" if low is None else format_number(low),
            high="" if high is None else format_number(high),
        )
    return row.key


def _month(cohort: Cohort, catalog: Catalog) -> str:
    """``2026-09`` / ``2026年9月``."""
    month = cohort.month.month
    shown = f"{month:02d}" if catalog.language == "en" else str(month)
    return catalog.t("funnel.month", year=cohort.month.year, month=shown)


def funnel_sections(
    report: FunnelReport, cohorts: Sequence[Cohort], threshold: float, catalog: Catalog
) -> list[str]:
    """The digest's full-funnel sections: headline, week activity, groups, monthly cohorts."""
    total = report.total
    headline = [
        catalog.t("funnel.title"),
        funnel_line(total, catalog.t("funnel.all_mqls"), catalog),
        catalog.t("funnel.pipeline", amount=money_text(total.money(won=False), catalog)),
        catalog.t("funnel.won", amount=money_text(total.money(won=True), catalog)),
        catalog.t(
            "funnel.medians",
            to_opp=duration_text(report.median_to_opportunity, catalog),
            to_won=duration_text(report.median_to_won, catalog),
        ),
    ]
    sections = ["\n".join(headline)]
    week, outside = report.activity, report.not_from_mql
    if week is not None and outside is not None:
        sections.append(
            "\n".join(
                [
                    catalog.t("funnel.activity_title"),
                    catalog.t(
                        "funnel.activity",
                        mqls=week.mqls,
                        sql=week.sql,
                        opened=week.opportunities,
                        won=week.won,
                    ),
                    catalog.t("funnel.pipeline", amount=money_text(week.money(won=False), catalog)),
                    catalog.t("funnel.won", amount=money_text(week.money(won=True), catalog)),
                    catalog.t(
                        "funnel.not_from_mql",
                        opened=outside.opportunities,
                        won=outside.won,
                        amount=money_text(outside.money(won=True), catalog),
                    ),
                ]
            )
        )
    for by, groups in ((report.by, report.groups), *report.other_groups.items()):
        if groups:
            lines = [
                funnel_line(g, group_label(g, by, threshold, catalog), catalog) for g in groups
            ]
            sections.append(_titled(catalog.t(f"funnel.by_{by}"), lines, catalog))
    if cohorts:
        lines = [funnel_line(c.counts, _month(c, catalog), catalog) for c in cohorts]
        sections.append(_titled(catalog.t("funnel.cohorts_title"), lines, catalog))
    return sections
