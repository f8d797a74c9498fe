"""The `/mql` slash command: help, stats, queue, lead lookup, away/back and digest-now, answered ephemerally.

The listener acks at once (empty), then does its work and answers through ``respond`` (the
command's response_url), so a slow database never makes Slack show "dispatch_failed".
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.digest import digest_figures, digest_keys, queue_digest
from handlers.present.blocks._text import mrkdwn_text
from handlers.present.blocks.command import (
    QUEUE_ITEMS,
    SUBCOMMANDS,
    HistoryEntry,
    LeadDetail,
    LeadMqlView,
    Message,
    OpportunityLine,
    QueueItem,
    command_error,
    digest_receipt,
    help_message,
    lead_message,
    plain_answer,
    queue_message,
)
from handlers.present.blocks.funnel import sdr_funnel_section
from handlers.present.cards import event_label, lead_url, permalink
from handlers.present.catalog import Catalog
from handlers.present.digest_blocks import digest_message
from handlers.present.digest_text import digest_catalog
from handlers.present.home import enqueue_home_refreshes
from handlers.present.views import ActivityView, CardState, LeadView, SlaStage, SlaView
from handlers.slack.ack_first import ListenerApp
from scoring.currency import format_money, parse_money
from scoring.digest import STATS_PERIODS, Period, stats_period
from scoring.sla import SlaSnapshot, Stage, sla_status
from store.events import count_events, recent_activities
from store.funnel import sdr_funnel
from store.home import MqlRow, claimed_by, find_lead, lead_audit, lead_mqls
from store.models import Mql, MqlState
from store.opportunities import lead_opportunities
from store.sdrs import set_away

COMMAND: Final = "/mql"
DEFAULT_PERIOD: Final = "7d"
DIGEST_DAYS: Final = timedelta(days=7)
LEAD_HISTORY: Final = 10
LEAD_ACTIVITIES: Final = 5
# Slack sends an e-mail address typed into a command as a mailto link when it links it.
_MAILTO: Final = re.compile(r"^<mailto:([^|>]+)(?:\|[^>]*)?>$")

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Request:
    """A parsed `/mql` request: the sub-command and its one argument, if it takes one."""

    sub: str
    arg: str | None = None


class CommandError(ValueError):
    """The text is not a valid request: ``key``/``params`` say what was wrong, ``sub`` for which."""

    def __init__(self, key: str, *, sub: str | None = None, **params: str) -> None:
        super().__init__(f"{key}: {params}")
        self.key = key
        self.sub = sub
        self.params = params


def parse(text: str) -> Request:
    """Parse the text after `/mql` (sub-command names are case-insensitive)."""
    words = text.split()
    if not words:
        return Request("help")
    sub, args = words[0].lower(), words[1:]
    if sub not in SUBCOMMANDS:
        raise CommandError("command.unknown", name=words[0])
    if sub == "help":
        return Request("help")
    if sub in ("queue", "digest", "away", "back"):
        if args:
            raise CommandError("command.no_arguments", sub=sub, name=sub, args=" ".join(args))
        return Request(sub)
    if len(args) > 1:
        raise CommandError("command.one_argument", sub=sub, name=sub, args=" ".join(args))
    if sub == "stats":
        period = args[0].lower() if args else DEFAULT_PERIOD
        if period not in STATS_PERIODS:
            raise CommandError("command.bad_period", sub=sub, period=args[0])
        return Request(sub, period)
    if not args:
        raise CommandError("command.lead_missing", sub=sub)
    match = _MAILTO.match(args[0])
    return Request(sub, match.group(1) if match else args[0])


def catalog_of(deps: Deps) -> Catalog:
    """The shared catalog with the digest's messages (`/mql stats` reuses the digest layout)."""
    return digest_catalog(deps.config.language, deps.config.timezone, deps.config.names)


def _sla(stage: Stage, started: datetime, deps: Deps, now: datetime) -> SlaView:
    status = sla_status(
        SlaSnapshot(stage, started, frozenset()), deps.config.levels, deps.config.calendar, now
    )
    return SlaView(SlaStage(status.stage.value), status.elapsed, status.over)


def _mql_sla(mql: Mql, deps: Deps, now: datetime) -> SlaView | None:
    if mql.state == MqlState.OPEN:
        return _sla(Stage.UNCLAIMED, mql.created_at, deps, now)
    if mql.state == MqlState.CLAIMED and mql.claimed_at is not None:
        return _sla(Stage.UNWORKED, mql.claimed_at, deps, now)
    return None


def _queue_item(row: MqlRow, deps: Deps, now: datetime) -> QueueItem:
    claimed_at = row.claimed_at or row.created_at
    return QueueItem(
        mql_id=str(row.mql_id),
        lead_name=row.name or "",
        company=row.company or "",
        score=round(row.score),
        claimed_at=claimed_at,
        permalink=permalink(row.slack_channel, row.slack_ts),
        sla=_sla(Stage.UNWORKED, claimed_at, deps, now),
    )


async def queue_answer(session: AsyncSession, deps: Deps, user_id: str, now: datetime) -> Message:
    """`/mql queue` for ``user_id``."""
    rows, total = await claimed_by(session, owner_id=user_id, limit=QUEUE_ITEMS)
    items = [_queue_item(row, deps, now) for row in rows]
    return queue_message(items, total, catalog_of(deps))


async def load_lead_detail(
    session: AsyncSession, deps: Deps, query: str, now: datetime
) -> LeadDetail | None:
    """What `/mql lead <query>` shows, or None when no lead matches."""
    lead = await find_lead(session, query=query)
    if lead is None or lead.id is None:
        return None
    mqls, mql_count = await lead_mqls(session, lead_id=lead.id, limit=1)
    audit, audit_total = await lead_audit(session, lead_id=lead.id, limit=LEAD_HISTORY)
    activities = await recent_activities(session, lead_id=lead.id, limit=LEAD_ACTIVITIES)
    activity_total = await count_events(session, lead_id=lead.id)
    latest = mqls[0] if mqls else None
    opportunities, opportunity_total = await lead_opportunities(session, lead_id=lead.id)
    return LeadDetail(
        lead=LeadView(
            name=lead.name or "",
            title=lead.title or "",
            company=lead.company or "",
            email=lead.email or "",
            source=lead.source or "",
            campaign=lead.campaign or "",
            crm_url=lead_url(deps.config.lead_url_template, lead),
        ),
        score=round(lead.score),
        stage=lead.stage,
        threshold=deps.config.rules.threshold,
        mql=None
        if latest is None
        else LeadMqlView(
            mql_id=str(latest.id),
            state=CardState(latest.state),
            score=round(latest.score),
            reasons=list(latest.reasons),
            created_at=latest.created_at,
            owner_id=latest.owner_id,
            permalink=permalink(latest.slack_channel, latest.slack_ts),
            sla=_mql_sla(latest, deps, now),
        ),
        mql_count=mql_count,
        history=[
            HistoryEntry(
                at=e.at,
                actor=e.actor,
                action=e.action,
                to_state=e.to_state,
                reason=str(e.detail["reason"]) if e.detail.get("reason") else None,
            )
            for e in audit
        ],
        history_total=audit_total,
        activities=[
            ActivityView(a.type, event_label(a.properties), a.occurred_at, round(a.points))
            for a in activities
        ],
        activity_total=activity_total,
        opportunities=[
            OpportunityLine(
                name=o.name or o.external_id,
                status=o.status,
                stage=o.stage,
                amount=None
                if o.amount is None or o.currency is None
                else format_money(parse_money(o.amount, o.currency), deps.config.language),
                opened_at=o.opened_at,
                from_mql=o.mql_id is not None,
            )
            for o in opportunities
        ],
        opportunity_total=opportunity_total,
    )


async def lead_answer(deps: Deps, query: str, now: datetime) -> Message:
    """`/mql lead <query>`: the lead, or a not-found answer naming the query."""
    async with deps.sessions() as session:
        detail = await load_lead_detail(session, deps, query, now)
    catalog = catalog_of(deps)
    if detail is None:
        return command_error("command.lead_not_found", catalog, sub="lead", query=query)
    return lead_message(detail, catalog)


async def stats_answer(deps: Deps, period_name: str, now: datetime) -> Message:
    """`/mql stats <period>`: the digest's figures for the period ending now."""
    period = stats_period(period_name, now)
    report = await digest_figures(deps, period.start, period.end, now=now)
    catalog = catalog_of(deps)
    message = digest_message(report, catalog, stats=True)
    async with deps.sessions() as session:
        per_sdr = await sdr_funnel(session, period=period, as_of=now)
    section = sdr_funnel_section(per_sdr, catalog.t("funnel.sdr_title"), catalog)
    # Before the closing note about small numbers.
    message["blocks"].insert(-1, {"type": "section", "text": mrkdwn_text(section)})
    return message


async def post_digest_now(deps: Deps, request_key: str, now: datetime) -> Message:
    """Queue the digest of the 7 days up to ``now`` to the marketing channel, once per request.

    Not the weekly job's slot or week key: a manager may want it mid-week, and the weekly
    digest still goes out on its day. ``request_key`` (the command's trigger id) keys the
    outbox rows, so a repeated delivery of the same request posts once.
    """
    catalog = catalog_of(deps)
    period = Period(now - DIGEST_DAYS, now)
    await queue_digest(
        deps,
        period,
        keys=digest_keys(f"now:{request_key}"),
        chart_name=catalog.local_date(now).isoformat(),
        now=now,
    )
    start = catalog.format_date(catalog.local_date(period.start))
    end = catalog.format_date(catalog.local_date(period.end))
    return digest_receipt(start, end, deps.config.marketing_channel, catalog)


async def away_answer(deps: Deps, user_id: str, *, away: bool, now: datetime) -> Message:
    """`/mql away` and `/mql back`: leave or rejoin the auto-assignment rotation.

    Only SDRs listed in `slack.sdr_users` are in the rotation. Coming back puts the SDR at the
    lowest count among those present, so the return brings no burst of assignments. The
    managers' Home tabs (whose team view marks who is away) refresh with the change.
    """
    catalog = catalog_of(deps)
    sdrs = deps.config.sdr_users
    if user_id not in sdrs:
        return plain_answer(catalog.t("command.not_an_sdr"))
    async with deps.sessions() as session, session.begin():
        await set_away(session, user_id=user_id, away=away, sdr_ids=sdrs, now=now)
        await enqueue_home_refreshes(session, deps, [])
    return plain_answer(catalog.t("command.away" if away else "command.back"))


async def answer(deps: Deps, command: dict[str, Any]) -> Message:
    """The ephemeral answer to one `/mql` request (and its side effect for `digest`)."""
    catalog = catalog_of(deps)
    user_id = str(command.get("user_id") or "")
    try:
        request = parse(str(command.get("text") or ""))
    except CommandError as exc:
        return command_error(exc.key, catalog, sub=exc.sub, **exc.params)
    now = deps.clock()
    if request.sub == "help":
        return help_message(catalog)
    if request.sub == "queue":
        async with deps.sessions() as session:
            return await queue_answer(session, deps, user_id, now)
    if request.sub == "stats":
        return await stats_answer(deps, request.arg or DEFAULT_PERIOD, now)
    if request.sub == "lead":
        return await lead_answer(deps, request.arg or "", now)
    if request.sub in ("away", "back"):
        return await away_answer(deps, user_id, away=request.sub == "away", now=now)
    if user_id not in deps.config.managers:
        return plain_answer(catalog.t("command.not_a_manager"))
    key = str(command.get("trigger_id") or f"{user_id}:{now.isoformat()}")
    return await post_digest_now(deps, key, now)


async def handle_mql(ack: Ack, command: dict[str, Any], respond: Respond, deps: Deps) -> None:
    """The `/mql` listener: ack, work, answer only the caller."""
    await ack()
    message = await answer(deps, command)
    await respond(response_type="ephemeral", replace_original=False, **message)


def register(app: ListenerApp, deps: Deps) -> None:
    """Listen to `/mql`."""

    async def mql(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        await handle_mql(ack, command, respond, deps)

    app.command(COMMAND)(mql)
