"""50 SDRs click Claim on one card at once over real HTTP: one owner, 49 "already claimed"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlmodel import col, select

from handlers.present.actions import ActionId
from store.models import AuditEntry, Mql, OutboxMessage
from tests.e2e.card_harness import SDR_CHANNEL, extra_sdrs, mql_event, running_bot, until

CLICKERS = 50


async def test_fifty_simultaneous_claims_make_exactly_one_winner(
    tmp_path: Path, any_db_url: str
) -> None:
    async with running_bot(tmp_path, any_db_url, extra=CLICKERS) as bot:
        response = await bot.post_webhook(mql_event("crm-race"))
        assert response.status_code == 202
        await until(lambda: len(bot.cards()) == 1, what="the card")
        ts = bot.cards()[0].ts
        _, value, block_id = bot.player.find_button(SDR_CHANNEL, ts, "Claim")
        users = extra_sdrs(CLICKERS)

        answers = await asyncio.gather(
            *(
                bot.player.click_button(
                    user, SDR_CHANNEL, ts, ActionId.CLAIM.value, value, block_id
                )
                for user in users
            )
        )

        assert [a.status for a in answers] == [200] * CLICKERS
        # The answers are the acks: the claim itself runs after them (ack first, then the work).
        await until(lambda: len(bot.ephemerals()) == CLICKERS - 1, what="49 ephemerals")
        async with bot.runtime.sessions() as session:
            mql = (await session.exec(select(Mql))).one()
            claims = (
                await session.exec(select(AuditEntry).where(col(AuditEntry.action) == "claim"))
            ).all()
        winner = mql.owner_id
        assert winner in users
        assert [c.actor for c in claims] == [winner]
        await until(lambda: len(bot.ephemerals()) == CLICKERS - 1, what="49 ephemerals")
        told = bot.state.ephemerals(SDR_CHANNEL)
        assert sorted(e.user for e in told) == sorted(u for u in users if u != winner)
        assert {e.text for e in told} == {f"Already claimed by <@{winner}>."}
        await until(lambda: len(bot.thread(ts)) == 1, what="the one claim reply")
        assert bot.thread(ts) == [f"<@{winner}> claimed this MQL · < 1 min after MQL"]
        assert f"Claimed by <@{winner}>" in str(bot.card(ts).blocks)
        async with bot.runtime.sessions() as session:
            updates = (
                await session.exec(
                    select(OutboxMessage.dedupe_key).where(col(OutboxMessage.kind) == "update")
                )
            ).all()
        assert list(updates) == [f"card:{mql.id}:v2"]
