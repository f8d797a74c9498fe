"""The `/mql` command's ephemeral answers: help, usage errors, queue, lead lookup, digest receipt."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from handlers.present.blocks._text import (
    MAX_FALLBACK_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    Block,
    clip,
    clip_mrkdwn,
    esc,
    escape,
    lines_within,
    link,
    mrkdwn_text,
    plain_text,
)
from handlers.present.blocks.card import sla_text
from handlers.present.catalog import Catalog, format_number
from handlers.present.views import ActivityView, CardState, LeadView, SlaView

SUBCOMMANDS: Final = ("queue", "stats", "lead", "away", "back", "digest", "help")
"""The sub-commands in the order the help lists them."""
QUEUE_ITEMS: Final = 40
"""Queue lines shown before "+N more" (one section each, under the 50-block message limit)."""
_NAME: Final = 150
_QUERY: Final = 200
_LINE: Final = 400


Message = dict[str, Any]


@dataclass(frozen=True)
class QueueItem:
    """One claimed MQL waiting for its outcome."""

    mql_id: str
    lead_name: str
    company: str
    score: float
    claimed_at: datetime
    permalink: str | None = None
    sla: SlaView | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One audit entry of the lead's MQLs, newest first in a list."""

    at: datetime
    actor: str
    action: str
    to_state: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class LeadMqlView:
    """The lead's latest MQL as `/mql lead` shows it."""

    mql_id: str
    state: CardState
    score: float
    reasons: Sequence[Mapping[str, object]]
    created_at: datetime
    owner_id: str | None = None
    permalink: str | None = None
    sla: SlaView | None = None


@dataclass(frozen=True)
class OpportunityLine:
    """One of the lead's CRM opportunities (``amount`` already formatted)."""

    name: str
    status: str  # open | won | lost
    stage: str | None
    amount: str | None
    opened_at: datetime
    from_mql: bool


@dataclass(frozen=True)
class LeadDetail:
    """Everything `/mql lead` answers about one lead (lists newest first, totals for "+N more")."""

    lead: LeadView
    score: float
    stage: str
    threshold: float
    mql: LeadMqlView | None = None
    mql_count: int = 0
    history: Sequence[HistoryEntry] = ()
    history_total: int = 0
    activities: Sequence[ActivityView] = ()
    activity_total: int = 0
    opportunities: Sequence[OpportunityLine] = ()
    opportunity_total: int = 0


def _message(text: str, blocks: list[Block]) -> Message:
    return {"text": clip(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def _section(text: str) -> Block:
    return {"type": "section", "text": mrkdwn_text(text)}


def usage(sub: str, catalog: Catalog) -> str:
    """The help line of one sub-command (its syntax and what it does)."""
    if sub not in SUBCOMMANDS:
        raise ValueError(f"unknown /mql sub-command {sub!r}")
    return catalog.t(f"command.help.{sub}")


def help_message(catalog: Catalog) -> Message:
    """`/mql` and `/mql help`: every sub-command with its syntax."""
    lines = [catalog.t("command.help.title"), *(f"• {usage(s, catalog)}" for s in SUBCOMMANDS)]
    text = "\n".join(lines)
    return _message(text, [_section(text)])


def usage_error(problem: str, catalog: Catalog, *, sub: str | None = None) -> Message:
    """What was wrong (``problem``, already mrkdwn) and how to ask: one sub-command's usage, or all."""
    if sub is None:
        text = "\n".join([problem, help_message(catalog)["text"]])
    else:
        text = "\n".join([problem, catalog.t("command.usage", usage=usage(sub, catalog))])
    return _message(text, [_section(text)])


def command_error(key: str, catalog: Catalog, *, sub: str | None = None, **params: str) -> Message:
    """``usage_error`` for a catalog message; ``params`` are user text, escaped and clipped here."""
    cleaned = {name: esc(value, _QUERY) for name, value in params.items()}
    return usage_error(catalog.t(key, **cleaned), catalog, sub=sub)


def plain_answer(text: str) -> Message:
    """A one-line answer (``text`` already mrkdwn)."""
    return _message(text, [_section(text)])


def queue_message(items: Sequence[QueueItem], total: int, catalog: Catalog) -> Message:
    """`/mql queue`: the caller's claimed MQLs without an outcome, oldest first, with card links."""
    if total == 0 or not items:
        return plain_answer(escape(catalog.t("command.queue.empty")))
    title = catalog.t("command.queue.title", count=total)
    blocks: list[Block] = [{"type": "header", "text": plain_text(title, MAX_HEADER_TEXT)}]
    for item in items[:QUEUE_ITEMS]:
        name = " ".join(item.lead_name.split()) or catalog.t("card.unknown_lead")
        line = catalog.t(
            "command.queue.item",
            link=f"*{link(item.permalink, name[:_NAME])}*",
            company=esc(item.company, _NAME),
            score=format_number(item.score),
            when=catalog.format_datetime(item.claimed_at),
        )
        if item.sla is not None:
            icon = ":rotating_light:" if item.sla.over_sla else ":stopwatch:"
            line += f"\n{icon} {escape(sla_text(item.sla, catalog))}"
        blocks.append(_section(line))
    hidden = total - min(len(items), QUEUE_ITEMS)
    if hidden > 0:
        more = escape(catalog.t("card.more", count=hidden))
        blocks.append({"type": "context", "elements": [mrkdwn_text(more)]})
    return _message(title, blocks)


def _history_line(entry: HistoryEntry, catalog: Catalog) -> str:
    key = f"command.audit.{entry.action}"
    action = catalog.t(key) if catalog.has(key) else entry.action.replace("_", " ")
    if entry.action == "disposition" and entry.to_state:
        state = catalog.state_label(entry.to_state)
        if entry.reason:
            state = f"{state} ({catalog.disposition_reason_label(entry.to_state, entry.reason)})"
        action = catalog.t("command.audit.to_state", action=action, state=state)
    who = (
        catalog.t("command.lead.system")
        if entry.actor == "system" or not entry.actor
        else f"<@{escape(entry.actor)}>"
    )
    line = catalog.t(
        "command.lead.history_line",
        when=catalog.format_datetime(entry.at),
        who=who,
        action=escape(action),
    )
    return clip_mrkdwn(line, _LINE)


def _titled(title: str, lines: Sequence[str], total: int, catalog: Catalog) -> str:
    head = f"*{escape(title)}*"
    more = escape(catalog.t("card.more", count="{count}"))
    body = lines_within(
        lines, MAX_SECTION_TEXT - len(head) - 1, more, hidden=max(0, total - len(lines))
    )
    return f"{head}\n{body}"


def lead_message(detail: LeadDetail, catalog: Catalog) -> Message:
    """`/mql lead`: who, score, stage, the latest MQL's state/owner/reasons, history, activity."""
    lead = detail.lead
    name = " ".join(lead.name.split()) or lead.email or catalog.t("card.unknown_lead")
    stage = _stage_label(detail.stage, catalog)
    mql = detail.mql
    fields = [
        (catalog.t("card.field.company"), esc(lead.company, _NAME)),
        (catalog.t("card.field.email"), esc(lead.email, _NAME)),
        (catalog.t("card.field.score"), format_number(detail.score)),
        (catalog.t("command.lead.stage"), escape(stage)),
        (
            catalog.t("card.field.source"),
            esc(lead.source and catalog.source_label(lead.source), _NAME),
        ),
        (
            catalog.t("card.field.campaign"),
            esc(lead.campaign and catalog.campaign_label(lead.campaign), _NAME),
        ),
    ]
    if mql is not None:
        owner = f"<@{escape(mql.owner_id)}>" if mql.owner_id else catalog.t("command.lead.nobody")
        state = escape(catalog.state_label(mql.state))
        if mql.sla is not None:
            state += f"\n{escape(sla_text(mql.sla, catalog))}"
        fields += [
            (catalog.t("command.lead.state"), state),
            (catalog.t("command.lead.owner"), owner),
            (catalog.t("command.lead.mqls"), str(detail.mql_count)),
        ]
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(name, MAX_HEADER_TEXT)},
        {
            "type": "section",
            "fields": [mrkdwn_text(f"*{escape(label)}*\n{value}") for label, value in fields],
        },
    ]
    if mql is None:
        never = catalog.t("command.lead.never", threshold=format_number(detail.threshold))
        blocks.append(_section(escape(never)))
    else:
        reasons = [escape(catalog.reason_text(r)) for r in mql.reasons]
        blocks.append(_section(_titled(catalog.t("card.why"), reasons, len(reasons), catalog)))
    history = [_history_line(e, catalog) for e in detail.history]
    if history:
        title = catalog.t("command.lead.history")
        blocks.append(_section(_titled(title, history, detail.history_total, catalog)))
    elif mql is not None:
        blocks.append(_section(escape(catalog.t("command.lead.no_history"))))
    activities = [
        clip_mrkdwn(
            catalog.t(
                "card.activity_line",
                when=catalog.format_datetime(a.occurred_at),
                event=escape(catalog.event_text(a.type, a.label or None)),
                points=catalog.t("points", points=format_number(a.points, signed=True)),
            ),
            _LINE,
        )
        for a in detail.activities
    ]
    if activities:
        title = catalog.t("card.activity")
        blocks.append(_section(_titled(title, activities, detail.activity_total, catalog)))
    if detail.opportunities:
        lines = [_opportunity_line(o, catalog) for o in detail.opportunities]
        title = catalog.t("command.lead.opportunities")
        blocks.append(_section(_titled(title, lines, detail.opportunity_total, catalog)))
    if mql is not None and mql.permalink:
        card = link(mql.permalink, catalog.t("command.lead.card"))
        blocks.append({"type": "context", "elements": [mrkdwn_text(card)]})
    fallback = catalog.t(
        "command.lead.fallback",
        name=name,
        company=lead.company or "—",
        score=format_number(detail.score),
        stage=stage,
    )
    return _message(fallback, blocks)


def _opportunity_line(o: OpportunityLine, catalog: Catalog) -> str:
    parts = [catalog.t(f"outcome.status.{o.status}")]
    if o.status == "open" and o.stage:
        parts.append(esc(o.stage, _NAME))
    if o.amount:
        parts.append(escape(o.amount))
    if not o.from_mql:
        parts.append(catalog.t("command.lead.not_from_mql"))
    line = catalog.t(
        "command.lead.opportunity_line",
        name=esc(o.name, _NAME),
        what=" · ".join(parts),
        when=catalog.format_date(catalog.local_date(o.opened_at)),
    )
    return clip_mrkdwn(line, _LINE)


def _stage_label(stage: str, catalog: Catalog) -> str:
    key = f"command.stage.{stage}"
    return catalog.t(key) if catalog.has(key) else catalog.disposition_label(stage)


def digest_receipt(start: str, end: str, channel: str, catalog: Catalog) -> Message:
    """`/mql digest`: the digest of ``start`` – ``end`` (display dates) is queued for ``channel``."""
    text = catalog.t("command.digest_queued", start=start, end=end, channel=escape(channel))
    return plain_answer(text)
