"""The digest message in Block Kit: pure, from the figures and a catalog, within Slack's limits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Final

from handlers.present.blocks._text import (
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    Block,
    clip,
    escape,
    lines_within,
    link,
    mrkdwn_text,
    plain_text,
)
from handlers.present.catalog import Catalog, format_number
from handlers.present.names import NameKind
from scoring.digest import (
    MIN_RATE_BASE,
    Conversion,
    CountTrend,
    DigestReport,
    Period,
    PeriodFigures,
    RateTrend,
    ReasonCount,
    band_bounds,
    week_starting,
)

SLACK_WEB: Final = "https://slack.com"
"""Message links go through slack.com/archives, which opens the message in the user's workspace."""
_NAME: Final = 80


def message_url(channel: str | None, ts: str | None, base: str = SLACK_WEB) -> str | None:
    """The web link of a posted message, or None when it has not been posted yet."""
    if not channel or not ts:
        return None
    return f"{base.rstrip('/')}/archives/{channel}/p{ts.replace('.', '')}"


def digest_message(
    report: DigestReport, catalog: Catalog, *, stats: bool = False, slack_base: str = SLACK_WEB
) -> dict[str, Any]:
    """``{"text": fallback, "blocks": [...]}`` for chat.postMessage (or an ephemeral answer).

    ``stats`` titles it as `/mql stats` figures instead of the weekly digest.
    """
    cur = report.current
    label = period_label(cur.period, catalog)
    title = catalog.t("digest.stats_title" if stats else "digest.title", period=label)
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(title, MAX_HEADER_TEXT)},
        _context(_scope(report, catalog)),
    ]
    if cur.created == 0:
        blocks.append(_section(catalog.t("digest.empty")))
    else:
        blocks.append(_section(_headline(report, catalog)))
        blocks.append({"type": "divider"})
        blocks += [
            _section(_conversions(catalog.t("digest.by_source"), cur.by_source, catalog)),
            _section(
                _conversions(
                    catalog.t("digest.by_campaign"),
                    cur.by_campaign,
                    catalog,
                    name=lambda c: group_name(c, catalog, "campaigns"),
                )
            ),
            _section(
                _conversions(
                    catalog.t("digest.by_band", threshold=format_number(report.threshold)),
                    cur.by_band,
                    catalog,
                    name=lambda c: _band_label(c, report.threshold, catalog),
                )
            ),
            _section(
                _conversions(
                    catalog.t("digest.by_kind"),
                    cur.by_kind,
                    catalog,
                    name=lambda c: _kind_label(c, catalog),
                )
            ),
            _section(_reasons(cur, catalog)),
        ]
    blocks.append({"type": "divider"})
    blocks.append(_section(_returning(report, catalog)))
    blocks.append(_section(_unworked(report, catalog, slack_base)))
    blocks.append(_context(catalog.t("digest.small_note", min=MIN_RATE_BASE)))
    fallback = catalog.t(
        "digest.fallback",
        period=label,
        created=cur.created,
        sql=cur.outcomes.sql,
        rate=cur.conversion.display(),
    )
    return {"text": clip(fallback, MAX_FALLBACK_TEXT), "blocks": blocks}


def period_label(period: Period, catalog: Catalog) -> str:
    """A calendar week as people write it (``Week 49: 30 Nov – 6 Dec 2026``), any other period
    as its first and last local dates."""
    monday = week_starting(period, catalog.timezone)
    if monday is not None:
        return catalog.format_week(monday)
    return catalog.t(
        "digest.range",
        start=catalog.format_date(catalog.local_date(period.start)),
        end=catalog.format_date(catalog.local_date(period.end)),
    )


def _scope(report: DigestReport, catalog: Catalog) -> str:
    period = report.current.period
    if week_starting(period, catalog.timezone) is not None:
        return catalog.t("digest.scope_week", zone=catalog.timezone.key, weeks=len(report.previous))
    return catalog.t(
        "digest.scope",
        start=catalog.format_datetime(period.start),
        end=catalog.format_datetime(period.end),
        zone=catalog.timezone.key,
        weeks=len(report.previous),
    )


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn_text(text, MAX_SECTION_TEXT)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn_text(escape(text), MAX_SECTION_TEXT)]}


def _headline(report: DigestReport, catalog: Catalog) -> str:
    cur, trends = report.current, report.trends
    out = cur.outcomes
    if cur.claim_times.median_seconds is None or cur.claim_times.p90_seconds is None:
        claim_time = catalog.t("digest.claim_time_none")
    else:
        claim_time = catalog.t(
            "digest.claim_time",
            median=_duration(cur.claim_times.median_seconds, catalog),
            p90=_duration(cur.claim_times.p90_seconds, catalog),
            trend=_duration_trend(trends.median_claim_seconds, catalog),
        )
    lines = [
        catalog.t("digest.funnel"),
        catalog.t("digest.created", count=cur.created, trend=_count_trend(trends.created, catalog)),
        catalog.t("digest.claimed", count=cur.claimed, rate=cur.claim_rate.display()),
        claim_time,
        catalog.t(
            "digest.breaches",
            count=cur.sla_breaches,
            trend=_count_trend(trends.sla_breaches, catalog),
        ),
        catalog.t(
            "digest.outcomes",
            sql=out.sql,
            lead=out.lead,
            recycled=out.recycled,
            disqualified=out.disqualified,
            open=out.open,
        ),
        catalog.t(
            "digest.conversion_small" if cur.conversion.is_small else "digest.conversion",
            rate=cur.conversion.display(),
            sql=out.sql,
            created=cur.created,
            trend=_rate_trend(trends.conversion, catalog),
        ),
    ]
    return "\n".join(lines)


def _duration(seconds: float, catalog: Catalog) -> str:
    return catalog.format_duration(timedelta(seconds=round(seconds)))


def _count_trend(trend: CountTrend, catalog: Catalog) -> str:
    """Against the previous mean; a mean under MIN_RATE_BASE gets no percentage (small numbers)."""
    if trend.baseline is None:
        return ""
    baseline = format_number(round(trend.baseline, 1))
    change = trend.change
    if change is None or trend.baseline < MIN_RATE_BASE:
        return catalog.t("digest.trend_small", baseline=baseline)
    percent = round(100 * change)
    arrow = "±0%" if percent == 0 else (f"▲ {percent}%" if percent > 0 else f"▼ {-percent}%")
    return catalog.t("digest.trend_count", arrow=arrow, baseline=baseline)


def _rate_trend(trend: RateTrend, catalog: Catalog) -> str:
    if trend.baseline.den == 0:
        return ""
    points = trend.points
    if points is None:
        return catalog.t("digest.trend_small", baseline=trend.baseline.display())
    return catalog.t(
        "digest.trend_points", points=f"{round(points):+d}", baseline=trend.baseline.display()
    )


def _duration_trend(trend: CountTrend, catalog: Catalog) -> str:
    if trend.baseline is None:
        return ""
    return catalog.t("digest.trend_duration", baseline=_duration(trend.baseline, catalog))


def group_name(row: Conversion, catalog: Catalog, kind: NameKind = "sources") -> str:
    """A source or campaign as shown: its display name, "(none)" or "other" (plain text)."""
    if row.other:
        return catalog.t("digest.other")
    if not row.key:
        return catalog.t("digest.none")
    return catalog.campaign_label(row.key) if kind == "campaigns" else catalog.source_label(row.key)


def _band_label(row: Conversion, threshold: float, catalog: Catalog) -> str:
    bounds = {band: (low, high) for band, low, high in band_bounds(threshold)}
    low, high = bounds.get(row.key or "", (None, None))
    return catalog.t(
        f"digest.band.{row.key}",
        low=format_number(low) if low is not None else "",
        high=format_number(high) if high is not None else "",
    )


def _kind_label(row: Conversion, catalog: Catalog) -> str:
    key = f"digest.kind.{row.key}"
    return catalog.t(key) if catalog.has(key) else (row.key or catalog.t("digest.none"))


def conversion_line(row: Conversion, name: str, catalog: Catalog) -> str:
    """One group's MQL → SQL line: a percentage from MIN_RATE_BASE MQLs on, else counts."""
    name = escape(name[:_NAME])
    if row.mqls == 0:
        return catalog.t("digest.conv_empty", name=name)
    if row.rate.is_small:
        return catalog.t("digest.conv_small", name=name, sql=row.sql, mqls=row.mqls)
    return catalog.t("digest.conv", name=name, rate=row.rate.display(), sql=row.sql, mqls=row.mqls)


def _conversions(
    title: str,
    rows: Sequence[Conversion],
    catalog: Catalog,
    *,
    name: Callable[[Conversion], str] | None = None,
) -> str:
    label = name or (lambda c: group_name(c, catalog))
    lines = [conversion_line(row, label(row), catalog) for row in rows]
    body = lines_within(lines, MAX_SECTION_TEXT - len(title) - 1, _more(catalog))
    return f"{title}\n{body}"


def _reason_lines(rows: Sequence[ReasonCount], catalog: Catalog, disposition: str) -> list[str]:
    if not rows:
        return [catalog.t("digest.no_reasons")]
    return [
        catalog.t(
            "digest.reason",
            reason=escape(
                catalog.disposition_reason_label(disposition, r.reason)
                if r.reason
                else catalog.t("digest.none")
            ),
            count=r.count,
        )
        for r in rows
    ]


def _reasons(figures: PeriodFigures, catalog: Catalog) -> str:
    lines = [
        catalog.t("digest.disqualify_reasons"),
        *_reason_lines(figures.disqualify_reasons, catalog, "disqualified"),
        catalog.t("digest.recycle_reasons"),
        *_reason_lines(figures.recycle_reasons, catalog, "recycled"),
    ]
    return "\n".join(lines)


def _who(name: str | None, company: str | None, mql_id: int, catalog: Catalog) -> str:
    who = (name or "").strip() or f"MQL #{mql_id}"
    if company and company.strip():
        who = f"{who} ({company.strip()})"
    return clip(" ".join(who.split()), _NAME)


def _returning(report: DigestReport, catalog: Catalog) -> str:
    until = (
        catalog.format_date(report.returning_until) if report.returning_until is not None else ""
    )
    title = catalog.t("digest.returning", until=until, count=report.returning_total)
    lines = [
        catalog.t(
            "digest.returning_line",
            who=escape(_who(r.name, r.company, r.mql_id, catalog)),
            day=catalog.format_date(r.recycle_until),
            reason=escape(
                catalog.recycle_reason_label(r.reason) if r.reason else catalog.t("digest.none")
            ),
        )
        for r in report.returning
    ]
    return _titled(title, lines, report.returning_total - len(report.returning), catalog)


def _unworked(report: DigestReport, catalog: Catalog, slack_base: str) -> str:
    title = catalog.t("digest.unworked", count=report.unworked_total)
    lines = []
    for m in report.unworked:
        who = link(
            message_url(m.slack_channel, m.slack_ts, slack_base),
            _who(m.name, m.company, m.mql_id, catalog),
        )
        if m.state == "claimed" and m.owner_id and m.claimed_at is not None:
            lines.append(
                catalog.t(
                    "digest.unworked_claimed",
                    who=who,
                    owner=escape(m.owner_id),
                    since=catalog.format_datetime(m.claimed_at),
                )
            )
        else:
            lines.append(
                catalog.t(
                    "digest.unworked_open", who=who, since=catalog.format_datetime(m.created_at)
                )
            )
    return _titled(title, lines, report.unworked_total - len(report.unworked), catalog)


def _more(catalog: Catalog) -> str:
    # lines_within fills in {count} itself, so keep the placeholder in the template.
    return catalog.t("digest.more", count="{count}")


def _titled(title: str, lines: Sequence[str], hidden: int, catalog: Catalog) -> str:
    if not lines:
        return title
    body = lines_within(
        lines, MAX_SECTION_TEXT - len(title) - 1, _more(catalog), hidden=max(hidden, 0)
    )
    return f"{title}\n{body}"
