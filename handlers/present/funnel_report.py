"""`mqlbot report` output: the funnel as a table, CSV or JSON, the calibration as a table or JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from decimal import Decimal
from typing import Any, Final

from scoring.calibration import MIN_CLOSED, Calibration
from scoring.funnel import FunnelCounts, FunnelReport

FORMATS: Final = ("table", "csv", "json")
COLUMNS: Final = (
    "group", "mqls", "sql", "sql_rate", "opportunities", "opportunity_rate", "won", "won_rate",
    "pipeline", "won_amount",
)  # fmt: skip


def _rate(num: int, den: int) -> str:
    return "" if den == 0 else f"{100 * num / den:.1f}%"


def _amounts(amounts: Mapping[str, Decimal]) -> str:
    """``JPY 3200000; USD 32000.50``: exact, one entry per currency, never summed across."""
    return "; ".join(f"{c} {amounts[c]}" for c in sorted(amounts))


def row_of(counts: FunnelCounts, name: str) -> dict[str, Any]:
    return {
        "group": name,
        "mqls": counts.mqls,
        "sql": counts.sql,
        "sql_rate": _rate(counts.sql, counts.mqls),
        "opportunities": counts.opportunities,
        "opportunity_rate": _rate(counts.opportunities, counts.mqls),
        "won": counts.won,
        "won_rate": _rate(counts.won, counts.mqls),
        "pipeline": _amounts(counts.pipeline),
        "won_amount": _amounts(counts.won_amount),
    }


def report_rows(report: FunnelReport) -> list[dict[str, Any]]:
    """One row per group, then the total (a group without a value is "(none)")."""
    rows = [row_of(g, g.key if g.key is not None else "(none)") for g in report.groups]
    return [*rows, row_of(report.total, "TOTAL")]


def _json(report: FunnelReport) -> str:
    def money(amounts: Mapping[str, Decimal]) -> dict[str, str]:
        return {c: str(a) for c, a in sorted(amounts.items())}

    def counts(c: Any) -> dict[str, Any]:
        return {
            "mqls": c.mqls, "sql": c.sql, "opportunities": c.opportunities, "won": c.won,
            "pipeline": money(c.pipeline), "won_amount": money(c.won_amount),
        }  # fmt: skip

    def seconds(value: Any) -> float | None:
        return None if value is None else value.total_seconds()

    data = {
        "from": report.period.start.isoformat(),
        "to": report.period.end.isoformat(),
        "by": report.by,
        "groups": [{"group": g.key, **counts(g)} for g in report.groups],
        "total": counts(report.total),
        "median_seconds_mql_to_opportunity": seconds(report.median_to_opportunity),
        "median_seconds_mql_to_won": seconds(report.median_to_won),
        "activity": None if report.activity is None else counts(report.activity),
        "not_from_mql": None if report.not_from_mql is None else counts(report.not_from_mql),
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def _table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] = COLUMNS) -> str:
    cells = [list(columns), *([str(r[c]) for c in columns] for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_report(report: FunnelReport, fmt: str) -> str:
    """The report in ``fmt`` (table, csv or json)."""
    if fmt == "json":
        return _json(report)
    rows = report_rows(report)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().rstrip("\n")
    if fmt == "table":
        return _table(rows)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def format_calibration(cal: Calibration, fmt: str) -> str:
    """`mqlbot report calibration` in ``fmt`` (table or json); states the sample and any refusal."""
    if fmt == "json":
        return json.dumps(
            {
                "threshold": cal.threshold,
                "days": cal.days,
                "sample": cal.sample,
                "closed_outcomes": cal.closed,
                "enough": cal.enough,
                "needs": MIN_CLOSED,
                "candidates": [
                    {
                        **asdict(c),
                        "won_amount": {k: str(v) for k, v in sorted(c.won_amount.items())},
                    }
                    for c in cal.candidates
                ],
                "bands": [asdict(b) for b in cal.bands],
                "advice": None if (a := cal.advice()) is None else a.threshold,
            },
            ensure_ascii=False,
            indent=2,
        )
    if fmt != "table":
        raise ValueError(f"unknown format {fmt!r}; use table or json")
    head = (
        f"MQLs of the last {cal.days} days: {cal.sample}; closed outcomes: {cal.closed}; "
        f"threshold now {cal.threshold:g}"
    )
    if not cal.enough:
        return f"{head}\nNot enough outcomes to advise: needs >= {MIN_CLOSED} closed outcomes."
    rows = [
        {
            "threshold": f"{c.threshold:g}" + (" (now)" if c.threshold == cal.threshold else ""),
            "mqls": c.mqls if c.threshold >= cal.threshold else f">={c.mqls} (+{c.extra_leads}?)",
            "sql": c.sql,
            "opportunities": c.opportunities,
            "won": c.won,
            "won_amount": _amounts(c.won_amount),
            "disq_recycled": c.wasted,
            "not_real": c.bad,
            "sdr_hours_saved": f"{c.saved_hours:g}",
        }
        for c in cal.candidates
    ]
    advice = cal.advice()
    tail = (
        "No higher threshold keeps every SQL and won deal while removing MQLs that led nowhere."
        if advice is None
        else f"Raising the threshold to {advice.threshold:g} would have kept every SQL and won "
        f"deal and saved {advice.saved_hours:g} SDR hours."
    )
    return "\n".join(
        [head, _table(rows, tuple(rows[0])), tail, "mqlbot never changes the threshold."]
    )
