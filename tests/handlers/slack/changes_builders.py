"""Builders for the claim/disposition/manager listener tests: config, MQLs, payloads, a fake Slack."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlmodel import col, select

from handlers.context import Deps, HandlerConfig
from handlers.present.actions import ActionId, BlockId
from scoring.clock import BusinessCalendar
from scoring.rules import ScoringRules
from scoring.sla import default_levels
from store.engine import SessionFactory
from store.models import AuditEntry, Lead, Mql, MqlState, OutboxMessage, OutboxStatus
from tests.rows import add_lead_and_mql

TOKYO = ZoneInfo("Asia/Tokyo")
# Tue 24 Nov 2026, 10:15 in Tokyo: inside business hours.
NOW = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)
CREATED = NOW - timedelta(minutes=3)
SDR_A, SDR_B, OUTSIDER, MANAGER = "U0SDRA", "U0SDRB", "U0OUT", "U0MGR"
CHANNEL = "C0SDR"
CARD_TS = "1764000000.000100"


def config(**changes: Any) -> HandlerConfig:
    """Tokyo hours, two SDRs and one manager, English, a CRM webhook."""
    rules = ScoringRules(points={"content_downloaded": 40}, threshold=100)
    base = HandlerConfig(
        sdr_channel=CHANNEL,
        marketing_channel="C0MKT",
        sdr_users=(SDR_A, SDR_B),
        sdr_usergroup=None,
        managers=frozenset({MANAGER}),
        mention="sdrs",
        member_cache_ttl=timedelta(minutes=10),
        language="en",
        timezone=TOKYO,
        known_types=frozenset(rules.points),
        rules=rules,
        calendar=BusinessCalendar.parse(
            timezone="Asia/Tokyo", business_hours="09:00-18:00", workdays="mon-fri", holidays=[]
        ),
        levels=default_levels(
            claim_within=timedelta(minutes=15),
            work_within=timedelta(hours=2),
            escalate_after=timedelta(hours=3),
            auto_assign=False,
        ),
        recycle_reasons={"timing": timedelta(days=90), "budget": timedelta(days=180)},
        reset_score_on_return=True,
        disqualify_reasons=("competitor", "spam"),
        digest_weekday=0,
        digest_time=time(9, 0),
        crm_webhook_url="https://crm.example.com/hooks/mqlbot",
    )
    return dataclasses.replace(base, **changes)


class Clock:
    """A settable clock (the listeners read ``deps.clock`` once per use case)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def deps(
    sessions: SessionFactory, cfg: HandlerConfig | None = None, clock: Clock | None = None
) -> Deps:
    return Deps(config=cfg or config(), sessions=sessions, clock=clock or Clock())


async def add_mql(
    sessions: SessionFactory,
    *,
    name: str = "Aiko Sato",
    state: MqlState = MqlState.OPEN,
    owner_id: str | None = None,
    lead_stage: str = "mql",
    posted: bool = True,
    **fields: Any,
) -> int:
    """A lead and its MQL created 3 minutes before NOW; the card counts as posted."""
    slug = name.lower().replace(" ", ".")
    async with sessions() as session, session.begin():
        lead = Lead(
            key=f"id:crm-{slug}",
            external_id=f"crm-{slug}",
            email=f"{slug}@example.co.jp",
            name=name,
            company="Example KK",
            stage=lead_stage,
            score=120.0,
            created_at=CREATED,
            updated_at=CREATED,
        )
        return await add_lead_and_mql(
            session,
            lead,
            created_at=CREATED,
            kind="threshold",
            score=120.0,
            state=state.value,
            owner_id=owner_id,
            claimed_at=CREATED + timedelta(minutes=1) if owner_id else None,
            slack_channel=CHANNEL if posted else None,
            slack_ts=CARD_TS if posted else None,
            updated_at=CREATED,
            **fields,
        )


async def load(sessions: SessionFactory, mql_id: int) -> Mql:
    async with sessions() as session:
        mql = await session.get(Mql, mql_id)
        assert mql is not None
        return mql


async def lead_stage(sessions: SessionFactory, mql_id: int) -> str:
    async with sessions() as session:
        mql = await session.get(Mql, mql_id)
        assert mql is not None
        lead = await session.get(Lead, mql.lead_id)
        assert lead is not None
        return lead.stage


async def outbox(sessions: SessionFactory, kind: str | None = None) -> list[OutboxMessage]:
    """Queued rows (superseded card updates left out), oldest first."""
    async with sessions() as session:
        stmt = select(OutboxMessage).where(col(OutboxMessage.status) != OutboxStatus.SUPERSEDED)
        if kind is not None:
            stmt = stmt.where(col(OutboxMessage.kind) == kind)
        return list((await session.exec(stmt.order_by(col(OutboxMessage.id)))).all())


async def audit(sessions: SessionFactory) -> list[tuple[str, str, str | None, str | None]]:
    """(actor, action, from, to) of every audit entry, oldest first."""
    async with sessions() as session:
        rows = await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))
        return [(a.actor, a.action, a.from_state, a.to_state) for a in rows.all()]


def card_text(row: OutboxMessage) -> str:
    """All the text of a queued card (fallback and blocks), to look for a phrase in."""
    parts = [str(row.payload.get("text", ""))]
    parts += [repr(block) for block in row.payload.get("blocks", [])]
    return "\n".join(parts)


def button_labels(row: OutboxMessage) -> list[str]:
    """Labels of the buttons on a queued card, in order."""
    labels = []
    for block in row.payload.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("type") == "button":
                labels.append(element["text"]["text"])
    return labels


class Ack:
    """Records what a listener acked with, in the fake Slack's call log too (to check order)."""

    def __init__(self, slack: FakeSlack | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.slack = slack

    async def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.slack is not None:
            self.slack.calls.append(("ack", kwargs))


class FakeSlack(AsyncWebClient):
    """An in-process Slack Web API: records every call and answers like Slack would."""

    def __init__(
        self,
        *,
        usergroups: Mapping[str, list[str]] | None = None,
        channel_members: Mapping[str, list[str]] | None = None,
        page_size: int = 2,
    ) -> None:
        super().__init__(token="xoxb-fake")
        self.usergroups = dict(usergroups or {})
        self.channel_members = dict(channel_members or {})
        self.page_size = page_size
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def called(self, method: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == method]

    def ephemerals(self) -> list[tuple[str, str, str]]:
        """(channel, user, text) of every ephemeral sent."""
        return [(a["channel"], a["user"], a["text"]) for a in self.called("chat.postEphemeral")]

    async def api_call(
        self,
        api_method: str,
        *,
        http_verb: str = "POST",
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        **_: Any,
    ) -> AsyncSlackResponse:
        args = {k: v for k, v in {**(params or {}), **(json or {})}.items() if v is not None}
        self.calls.append((api_method, args))
        data: dict[str, Any] = {"ok": True}
        if api_method == "usergroups.users.list":
            data["users"] = self.usergroups.get(args["usergroup"], [])
        elif api_method == "conversations.members":
            members = self.channel_members.get(args["channel"], [])
            start = int(args.get("cursor") or 0)
            end = start + self.page_size
            data["members"] = members[start:end]
            data["response_metadata"] = {"next_cursor": str(end) if end < len(members) else ""}
        elif api_method in ("views.open", "views.update"):
            data["view"] = {"id": "V0MODAL", **args.get("view", {})}
        return AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=api_method,
            req_args=args,
            data=data,
            headers={},
            status_code=200,
        )


def click(user: str, action_id: str, value: str, *, trigger: str = "T0TRIGGER") -> dict[str, Any]:
    """A block_actions payload for a button on the card."""
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": trigger,
        "channel": {"id": CHANNEL},
        "container": {"type": "message", "channel_id": CHANNEL, "message_ts": CARD_TS},
        "actions": [{"type": "button", "action_id": action_id, "value": value}],
    }


def overflow(user: str, value: str) -> dict[str, Any]:
    """The managers' overflow menu, option ``value`` chosen."""
    body = click(user, ActionId.MANAGER_MENU.value, "")
    body["actions"] = [
        {
            "type": "overflow",
            "action_id": ActionId.MANAGER_MENU.value,
            "selected_option": {"value": value},
        }
    ]
    return body


def submission(
    user: str, callback_id: ActionId, metadata: str, values: dict[str, Any]
) -> dict[str, Any]:
    """A view_submission payload."""
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {
            "id": "V0MODAL",
            "callback_id": callback_id.value,
            "private_metadata": metadata,
            "state": {"values": values},
        },
    }


def text_value(block: str, action: ActionId, value: str | None) -> dict[str, Any]:
    return {block: {action.value: {"type": "plain_text_input", "value": value}}}


def date_value(block: str, action: ActionId, day: date) -> dict[str, Any]:
    return {block: {action.value: {"type": "datepicker", "selected_date": day.isoformat()}}}


def select_value(block: str, action: ActionId, value: str) -> dict[str, Any]:
    return {block: {action.value: {"type": "static_select", "selected_option": {"value": value}}}}


def sql_values(note: str | None = None) -> dict[str, Any]:
    return text_value(BlockId.SQL_NOTE.value, ActionId.SQL_NOTE, note)


def lead_values(step: str, day: date) -> dict[str, Any]:
    return text_value(BlockId.LEAD_NEXT_STEP.value, ActionId.LEAD_NEXT_STEP, step) | date_value(
        BlockId.LEAD_DATE.value, ActionId.LEAD_DATE, day
    )


def recycle_values(reason: str, day: date, *, shown_reason: str | None = None) -> dict[str, Any]:
    date_block = f"{BlockId.RECYCLE_DATE_PREFIX.value}{shown_reason or reason}"
    return select_value(BlockId.RECYCLE_REASON.value, ActionId.RECYCLE_REASON, reason) | date_value(
        date_block, ActionId.RECYCLE_DATE, day
    )


def disqualify_values(reason: str, note: str | None = None) -> dict[str, Any]:
    return select_value(
        BlockId.DISQUALIFY_REASON.value, ActionId.DISQUALIFY_REASON, reason
    ) | text_value(BlockId.DISQUALIFY_NOTE.value, ActionId.DISQUALIFY_NOTE, note)
