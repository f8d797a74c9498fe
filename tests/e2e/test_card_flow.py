"""End to end over real HTTP: webhook → card → Claim → every disposition, as the channel shows it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from handlers.present.actions import ActionId, BlockId, ManagerAction, manager_value
from store.models import AuditEntry, Mql
from tests.e2e.card_harness import (
    MANAGER,
    OTHER_SDR,
    OWNER,
    SDR_CHANNEL,
    Bot,
    mql_event,
    running_bot,
    until,
)

DISPOSITIONS = ["SQL", "Lead", "Recycled", "Disqualified"]
# A claimed card: the four dispositions and the "not a real MQL" flag.
CLAIMED = [*DISPOSITIONS, "Not a real MQL"]


async def first_card(bot: Bot, lead_id: str = "crm-e2e-1") -> str:
    response = await bot.post_webhook(mql_event(lead_id))
    assert response.status_code == 202
    assert response.json()["mqls"] == [lead_id]
    await until(lambda: len(bot.cards()) == 1, what="the card to be posted")
    return bot.cards()[0].ts


def _views_of(bot: Bot, user: str) -> int:
    return sum(
        1
        for v in bot.state.views.values()
        if v.user_id == user and v.payload.get("type") == "modal"
    )


async def click(bot: Bot, user: str, ts: str, label: str) -> None:
    opened = _views_of(bot, user)
    response = await bot.player.click(user, SDR_CHANNEL, ts, label)
    assert response.status == 200
    if label in DISPOSITIONS:
        # The click is answered at its ack; the modal opens right after it, as in Slack.
        await until(lambda: _views_of(bot, user) > opened, what=f"the {label} modal")


async def submit(bot: Bot, user: str, values: dict[str, Any]) -> None:
    response = await bot.player.submit_view(user, bot.last_view(user).id, values)
    assert response.status == 200
    assert response.body == ""  # accepted: the modal closes


async def overflow(bot: Bot, user: str, ts: str, action: ManagerAction, mql_id: str) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": bot.state.issue_trigger(user),
        "team": {"id": bot.state.team_id},
        "api_app_id": bot.state.app_id,
        "channel": {"id": SDR_CHANNEL},
        "container": {"type": "message", "channel_id": SDR_CHANNEL, "message_ts": ts},
        "actions": [
            {
                "type": "overflow",
                "action_id": ActionId.MANAGER_MENU.value,
                "block_id": "manager",
                "selected_option": {"value": manager_value(action, mql_id)},
                "action_ts": "1",
            }
        ],
    }
    response = await bot.player.send_payload(payload)
    assert response.status == 200


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


async def test_webhook_card_claim_and_every_disposition(tmp_path: Path, sqlite_url: str) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        ts = await first_card(bot)
        assert bot.labels(ts) == ["Claim"]
        assert "Aiko Sato" in bot.card(ts).text

        # Claim: the card updates in place, the thread says who.
        await click(bot, OWNER, ts, "Claim")
        await until(lambda: bot.labels(ts) == CLAIMED, what="the claimed card")
        assert "Claimed by <@U_SATO>" in json.dumps(bot.card(ts).blocks, ensure_ascii=False)
        await until(lambda: len(bot.thread(ts)) == 1, what="the claim reply")
        assert bot.thread(ts) == ["<@U_SATO> claimed this MQL · < 1 min after MQL"]

        # Someone else clicking the stale Claim button learns who has it; nothing changes.
        response = await bot.player.click_button(
            OTHER_SDR, SDR_CHANNEL, ts, ActionId.CLAIM.value, _claim_value(bot, ts)
        )
        assert response.status == 200
        await until(lambda: bool(bot.ephemerals(OTHER_SDR)), what="the loser's ephemeral")
        assert bot.ephemerals(OTHER_SDR) == ["Already claimed by <@U_SATO>."]

        # Another SDR may open the SQL modal, but the submission is refused.
        await click(bot, OTHER_SDR, ts, "SQL")
        await submit(bot, OTHER_SDR, {})
        await until(lambda: len(bot.ephemerals(OTHER_SDR)) == 2, what="the refusal")
        assert bot.ephemerals(OTHER_SDR)[-1] == (
            "Only the owner (<@U_SATO>) or a manager can change this MQL."
        )

        # Lead, then Recycled (a changed disposition), by the owner.
        await click(bot, OWNER, ts, "Lead")
        await submit(
            bot,
            OWNER,
            {BlockId.LEAD_NEXT_STEP.value: "Call on Friday", BlockId.LEAD_DATE.value: in_days(3)},
        )
        await until(lambda: len(bot.thread(ts)) == 2, what="the Lead reply")
        await click(bot, OWNER, ts, "Recycled")
        await submit(
            bot,
            OWNER,
            {
                BlockId.RECYCLE_REASON.value: "timing",
                f"{BlockId.RECYCLE_DATE_PREFIX.value}timing": in_days(90),
            },
        )
        await until(lambda: len(bot.thread(ts)) == 3, what="the Recycled reply")
        await until(
            lambda: f"back on {in_days(90)}" in json.dumps(bot.card(ts).blocks, ensure_ascii=False),
            what="the card to show the return date",
        )

        # A manager disqualifies, then reopens; the owner finally makes it an SQL.
        await click(bot, MANAGER, ts, "Disqualified")
        await submit(bot, MANAGER, {BlockId.DISQUALIFY_REASON.value: "spam"})
        await until(lambda: len(bot.thread(ts)) == 4, what="the Disqualified reply")
        mql_id = _claim_value(bot, ts)
        await overflow(bot, MANAGER, ts, ManagerAction.REOPEN, mql_id)
        await until(lambda: len(bot.thread(ts)) == 5, what="the reopen reply")
        await click(bot, OWNER, ts, "SQL")
        await submit(bot, OWNER, {BlockId.SQL_NOTE.value: "Budget approved"})
        await until(lambda: len(bot.thread(ts)) == 6, what="the SQL reply")
        await until(
            lambda: "*SQL* by <@U_SATO>" in json.dumps(bot.card(ts).blocks, ensure_ascii=False),
            what="the card to show the SQL outcome",
        )

        assert bot.thread(ts) == [
            "<@U_SATO> claimed this MQL · < 1 min after MQL",
            f"<@U_SATO> → Lead, next step: Call on Friday ({in_days(3)})",
            f"<@U_SATO> → Recycled (Timing), back on {in_days(90)}",
            "<@U_SUZUKI> → Disqualified (Spam)",
            "<@U_SUZUKI> reopened this MQL.",
            "<@U_SATO> → SQL\n> Budget approved",
        ]
        assert bot.labels(ts) == CLAIMED
        assert len(bot.cards()) == 1  # every change updated the one card in place
        async with bot.runtime.sessions() as session:
            mql = (await session.exec(select(Mql))).one()
            actions = (await session.exec(select(AuditEntry.action))).all()
        assert (mql.state, mql.owner_id, mql.note) == ("sql", OWNER, "Budget approved")
        assert actions == ["mql_created", "claim", *["disposition"] * 3, "reopen", "disposition"]


def _claim_value(bot: Bot, ts: str) -> str:
    """The MQL id the card's buttons carry (the first version had the Claim button)."""
    first = bot.card(ts).history[0].blocks
    for block in first:
        for element in block.get("elements", []):
            if element.get("action_id") == ActionId.CLAIM.value:
                return str(element["value"])
    raise LookupError("the card never had a Claim button")


async def test_someone_outside_the_sdr_group_cannot_claim(tmp_path: Path, sqlite_url: str) -> None:
    async with running_bot(tmp_path, sqlite_url, sdr_usergroup="S_SDR") as bot:
        ts = await first_card(bot)
        await click(bot, MANAGER, ts, "Claim")
        await until(lambda: bool(bot.ephemerals(MANAGER)), what="the refusal")

        assert bot.ephemerals(MANAGER) == ["Only the inside-sales team can claim MQLs."]
        assert bot.labels(ts) == ["Claim"]
        async with bot.runtime.sessions() as session:
            mql = (await session.exec(select(Mql))).one()
        assert (mql.state, mql.owner_id, mql.version) == ("open", None, 1)


async def test_forged_button_values_change_nothing(tmp_path: Path, sqlite_url: str) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        mine = await first_card(bot, "crm-e2e-1")
        await bot.post_webhook(mql_event("crm-e2e-2", "Ken Tanaka"))
        await until(lambda: len(bot.cards()) == 2, what="the second card")
        theirs = bot.cards()[1].ts
        await click(bot, OWNER, mine, "Claim")
        await click(bot, OTHER_SDR, theirs, "Claim")
        await until(lambda: bot.labels(theirs) == CLAIMED, what="both claims")

        # OWNER rewrites the SQL button of their own card to point at OTHER_SDR's MQL.
        other_id = _claim_value(bot, theirs)
        await until(lambda: bot.labels(mine) == CLAIMED, what="the owner's card")
        sql = ActionId.DISPOSITION_SQL.value
        opened = _views_of(bot, OWNER)
        await bot.player.click_button(OWNER, SDR_CHANNEL, mine, sql, other_id)
        await until(lambda: _views_of(bot, OWNER) > opened, what="the SQL modal")
        await submit(bot, OWNER, {})
        for garbage in ("", "abc", "1;DROP TABLE mql", "9" * 30):
            await bot.player.click_button(OWNER, SDR_CHANNEL, mine, ActionId.CLAIM.value, garbage)
        await until(lambda: len(bot.ephemerals(OWNER)) == 5, what="five polite refusals")

        # Each click is answered at its ack and worked on after it: the replies may interleave.
        assert sorted(bot.ephemerals(OWNER)) == [
            "Only the owner (<@U_TANAKA>) or a manager can change this MQL.",
            *["This MQL no longer exists."] * 4,
        ]
        async with bot.runtime.sessions() as session:
            states = sorted((m.state, m.owner_id) for m in (await session.exec(select(Mql))).all())
        assert states == [("claimed", OWNER), ("claimed", OTHER_SDR)]


async def test_a_double_click_claims_once(tmp_path: Path, sqlite_url: str) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        ts = await first_card(bot)
        await click(bot, OWNER, ts, "Claim")
        response = await bot.player.click_button(
            OWNER, SDR_CHANNEL, ts, ActionId.CLAIM.value, _claim_value(bot, ts)
        )
        assert response.status == 200
        await until(lambda: len(bot.thread(ts)) == 1, what="the claim reply")

        assert bot.ephemerals(OWNER) == []
        async with bot.runtime.sessions() as session:
            claims = (
                await session.exec(select(AuditEntry).where(AuditEntry.action == "claim"))
            ).all()
        assert [c.actor for c in claims] == [OWNER]
