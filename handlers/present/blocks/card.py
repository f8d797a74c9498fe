"""The MQL card: its blocks and its fallback text, for chat.postMessage and chat.update."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

from handlers.dispositions import DISPOSITION_OF, DISPOSITIONS
from handlers.present.actions import (
    ActionId,
    ManagerAction,
    check_opaque_id,
    manager_value,
)
from handlers.present.blocks._text import (
    DASH,
    MAX_BUTTON_TEXT,
    MAX_FALLBACK_TEXT,
    MAX_FIELD_TEXT,
    MAX_HEADER_TEXT,
    MAX_OPTION_TEXT,
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
from handlers.present.catalog import Catalog, format_number
from handlers.present.views import CardState, CardView, OutcomeView, SlaStage, SlaView

CARD_ACTIVITIES: Final = 5
"""How many of the most recent activities the card lists before "+N more"."""
_SHORT: Final = 200  # lead fields such as title, company, source, campaign
_REASON: Final = 500  # one "why it qualified" line
_ACTIVITY: Final = 300  # one activity line
_NOTE: Final = 1000


def lead_name(view: CardView, catalog: Catalog) -> str:
    """The name a card shows for its lead: the name, else the e-mail, else "Unknown lead"."""
    name = " ".join(view.lead.name.split()) or " ".join(view.lead.email.split())
    return name or catalog.t("card.unknown_lead")


def sla_text(sla: SlaView, catalog: Catalog) -> str:
    """``Unclaimed 22 min — over SLA`` (plain text)."""
    key = "sla.unclaimed" if sla.stage is SlaStage.UNCLAIMED else "sla.unworked"
    text = catalog.t(key, elapsed=catalog.format_duration(max(sla.elapsed, timedelta(0))))
    return catalog.t("sla.over", state=text) if sla.over_sla else text


def card_text(view: CardView, catalog: Catalog) -> str:
    """Fallback ``text`` for the card (notifications, screen readers); never empty."""
    check_opaque_id(view.mql_id)
    params: dict[str, Any] = {
        "name": esc(lead_name(view, catalog), _SHORT),
        "company": esc(view.lead.company, _SHORT),
        "score": esc(format_number(view.score), _SHORT),
        "state": catalog.state_label(view.state),
    }
    if view.state is not CardState.OPEN and view.owner_id:
        text = catalog.t("card.fallback_claimed", user=escape(view.owner_id), **params)
    else:
        text = catalog.t("card.fallback", **params)
    return clip_mrkdwn(text, MAX_FALLBACK_TEXT)


def card_blocks(view: CardView, catalog: Catalog, *, now: datetime) -> list[Block]:
    """The card's blocks for ``view`` (post with ``text=card_text(view, catalog)``).

    Shows the lead, score, why it qualified, the last few activities, CRM link, SLA state, the
    re-MQL notice, and the buttons for the state: Claim when open; otherwise who claimed it and
    when, the outcome, the four disposition buttons (the current one primary) and the managers'
    overflow (release, reassign, and reopen when disqualified). Buttons carry only the MQL id.
    ``now`` (aware) decides whether a Lead's next-step date is overdue; everything else is
    absolute so the card never goes stale. Every Block Kit limit holds whatever the input.
    """
    check_opaque_id(view.mql_id)
    if now.tzinfo is None:
        raise ValueError("card_blocks needs an aware 'now'")
    blocks: list[Block] = [
        {"type": "header", "text": plain_text(lead_name(view, catalog), MAX_HEADER_TEXT)}
    ]
    if view.requalified is not None:
        blocks.append(_requalified_block(view, catalog))
    blocks.append(_lead_fields(view, catalog))
    blocks.append(_reasons_section(view, catalog))
    blocks.append(_activities_section(view, catalog))
    blocks.append(_context_block(view, catalog))
    if view.state is not CardState.OPEN:
        blocks.append(
            {"type": "section", "text": mrkdwn_text(_status_text(view, catalog, now=now))}
        )
    if view.bad_reason is not None:
        flagged = catalog.t(
            "card.flagged_bad",
            reason=esc(catalog.bad_mql_reason_label(view.bad_reason), _SHORT),
            user=escape(view.bad_by or "?"),
        )
        blocks.append({"type": "context", "elements": [mrkdwn_text(f":no_entry_sign: {flagged}")]})
    if view.outcome is not None:
        blocks.append(
            {"type": "context", "elements": [mrkdwn_text(outcome_text(view.outcome, catalog))]}
        )
    blocks.append(_actions_block(view, catalog))
    return blocks


def outcome_text(outcome: OutcomeView, catalog: Catalog) -> str:
    """The furthest stage line: ":trophy: Won · ¥3,200,000" (mrkdwn, values escaped)."""
    icon = {"won": ":trophy:", "lost": ":heavy_multiplication_x:"}.get(
        outcome.status, ":handshake:"
    )
    parts = [catalog.t(f"outcome.status.{outcome.status}")]
    if outcome.status == "open" and outcome.stage:
        parts.append(esc(outcome.stage, _SHORT))
    if outcome.status == "lost" and outcome.lost_reason:
        parts.append(esc(outcome.lost_reason, _SHORT))
    if outcome.amount:
        parts.append(escape(outcome.amount))
    if outcome.opportunities > 1:
        parts.append(catalog.t("outcome.count", count=outcome.opportunities))
    return f"{icon} " + " · ".join(parts)


def _section(title: str, lines: list[str], catalog: Catalog, *, hidden: int = 0) -> Block:
    more = escape(catalog.t("card.more", count="{count}"))
    body = lines_within(lines, MAX_SECTION_TEXT - len(title) - 1, more, hidden=hidden)
    return {"type": "section", "text": mrkdwn_text(f"{title}\n{body}")}


def _requalified_block(view: CardView, catalog: Catalog) -> Block:
    previous = view.requalified
    assert previous is not None  # checked by the caller
    disposition = catalog.t(f"card.previous.{previous.previous_disposition.value}")
    day = catalog.format_date(catalog.local_date(previous.previous_at))
    if previous.previous_reason:
        reason = catalog.disposition_reason_label(
            previous.previous_disposition.value, previous.previous_reason
        )
        notice = catalog.t(
            "card.requalified", disposition=disposition, date=day, reason=esc(reason, _SHORT)
        )
    else:
        notice = catalog.t("card.requalified_no_reason", disposition=disposition, date=day)
    text = f":repeat: {notice}"
    if previous.previous_permalink:
        text += f" · {link(previous.previous_permalink, catalog.t('card.earlier_card'))}"
    return {"type": "context", "elements": [mrkdwn_text(text)]}


def _lead_fields(view: CardView, catalog: Catalog) -> Block:
    lead = view.lead
    values = (
        ("card.field.title", esc(lead.title, _SHORT)),
        ("card.field.company", esc(lead.company, _SHORT)),
        ("card.field.email", esc(lead.email, 320)),
        ("card.field.source", esc(lead.source and catalog.source_label(lead.source), _SHORT)),
        (
            "card.field.campaign",
            esc(lead.campaign and catalog.campaign_label(lead.campaign), _SHORT),
        ),
        ("card.field.score", esc(format_number(view.score), _SHORT)),
    )
    fields = [
        mrkdwn_text(f"*{escape(catalog.t(key))}*\n{value}", MAX_FIELD_TEXT) for key, value in values
    ]
    return {"type": "section", "fields": fields}


def _reasons_section(view: CardView, catalog: Catalog) -> Block:
    title = f"*{escape(catalog.t('card.why'))}*"
    lines = [f"• {esc(catalog.reason_text(reason), _REASON)}" for reason in view.reasons]
    return _section(title, lines or [DASH], catalog)


def _activities_section(view: CardView, catalog: Catalog) -> Block:
    title = f"*{escape(catalog.t('card.activity'))}*"
    shown = list(view.activities[:CARD_ACTIVITIES])
    if not shown:
        return _section(title, [escape(catalog.t("card.no_activity"))], catalog)
    lines = []
    for activity in shown:
        line = catalog.t(
            "card.activity_line",
            when=catalog.format_datetime(activity.occurred_at),
            event=catalog.event_text(activity.type, activity.label),
            points=catalog.t("points", points=format_number(activity.points, signed=True)),
        )
        lines.append(f"• {esc(line, _ACTIVITY)}")
    return _section(title, lines, catalog, hidden=len(view.activities) - len(shown))


def _context_block(view: CardView, catalog: Catalog) -> Block:
    elements = [
        mrkdwn_text(
            escape(catalog.t("card.created", when=catalog.format_datetime(view.created_at)))
        )
    ]
    if view.lead.crm_url:
        elements.append(mrkdwn_text(link(view.lead.crm_url, catalog.t("card.crm_link"))))
    if view.sla is not None:
        icon = ":rotating_light:" if view.sla.over_sla else ":stopwatch:"
        elements.append(mrkdwn_text(f"{icon} {escape(sla_text(view.sla, catalog))}"))
    return {"type": "context", "elements": elements}


def _status_text(view: CardView, catalog: Catalog, *, now: datetime) -> str:
    lines: list[str] = []
    if view.owner_id:
        user = escape(view.owner_id)
        if view.claimed_at is not None:
            elapsed = catalog.format_duration(max(view.claimed_at - view.created_at, timedelta(0)))
            lines.append(catalog.t("card.claimed_by", user=user, elapsed=elapsed))
        else:
            lines.append(catalog.t("card.claimed_by_only", user=user))
    if view.state in (CardState.OPEN, CardState.CLAIMED):
        return "\n".join(lines) or escape(catalog.state_label(view.state))
    by = view.disposition_by or view.owner_id
    label = escape(catalog.disposition_label(view.state))
    outcome = catalog.t("card.outcome", label=label, user=escape(by)) if by else f"*{label}*"
    if view.disposition_at is not None:
        outcome += f" · {catalog.format_datetime(view.disposition_at)}"
    lines.append(outcome)
    detail = _outcome_detail(view, catalog, now=now)
    if detail:
        lines.append(detail)
    if view.note and view.note.strip():
        note = escape(clip(view.note.strip(), _NOTE))
        lines.extend(f"> {line}" for line in note.splitlines() if line.strip())
    return "\n".join(lines)


def _outcome_detail(view: CardView, catalog: Catalog, *, now: datetime) -> str | None:
    spec = DISPOSITION_OF.get(view.state.value)
    if spec is not None and spec.reason is not None and view.reason:
        reason = esc(catalog.disposition_reason_label(view.state.value, view.reason), _SHORT)
        if spec.returns and view.recycle_until is not None:
            day = catalog.format_date(view.recycle_until)
            return catalog.t("card.outcome_recycle", reason=reason, date=day)
        return catalog.t("card.outcome_reason", reason=reason)
    if view.state is CardState.LEAD and view.next_step:
        step = esc(view.next_step, _SHORT)
        if view.next_step_date is None:
            return catalog.t("card.outcome_next_step_no_date", step=step)
        text = catalog.t(
            "card.outcome_next_step", step=step, date=catalog.format_date(view.next_step_date)
        )
        if view.next_step_date < catalog.local_date(now):
            text = catalog.t("card.next_step_overdue", text=text)
        return text
    return None


def _button(text: str, action: ActionId, value: str, *, primary: bool = False) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": plain_text(text, MAX_BUTTON_TEXT),
        "action_id": action.value,
        "value": value,
    }
    if primary:
        button["style"] = "primary"
    return button


def _actions_block(view: CardView, catalog: Catalog) -> Block:
    mql_id = view.mql_id
    if view.state is CardState.OPEN:
        elements = [_button(catalog.t("button.claim"), ActionId.CLAIM, mql_id, primary=True)]
        return {"type": "actions", "elements": elements}
    elements = [
        _button(
            catalog.t(spec.label_key),
            spec.button,
            mql_id,
            primary=view.state.value == spec.state,
        )
        for spec in DISPOSITIONS
    ]
    options = [ManagerAction.RELEASE, ManagerAction.REASSIGN]
    current = DISPOSITION_OF.get(view.state.value)
    if current is not None and current.locked:
        options.append(ManagerAction.REOPEN)
    overflow = {
        "type": "overflow",
        "action_id": ActionId.MANAGER_MENU.value,
        "options": [
            {
                "text": plain_text(catalog.t(f"manager.{option.value}"), MAX_OPTION_TEXT),
                "value": manager_value(option, mql_id),
            }
            for option in options
        ],
    }
    if view.bad_reason is None:
        elements.append(_button(catalog.t("button.flag_bad"), ActionId.FLAG_BAD, mql_id))
    return {"type": "actions", "elements": [*elements, overflow]}
