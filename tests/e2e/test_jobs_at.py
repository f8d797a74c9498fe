"""`mqlbot jobs run NAME --at` a future instant decides as if then and delivers now."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import select

from store.models import OutboxMessage
from tests.e2e.card_harness import SDR_CHANNEL, Bot, mql_event, running_bot, until

MQLBOT = str(Path(sys.executable).parent / "mqlbot")
MARKETING_CHANNEL = "C_MKT"


async def jobs_run(bot: Bot, tmp_path: Path, name: str, at: datetime) -> dict[str, Any]:
    """`mqlbot jobs run NAME --at AT` in its own process, as an operator types it."""
    env = {**os.environ, "MQLBOT_DATABASE_URL": bot.runtime.settings.database_url}
    proc = await asyncio.create_subprocess_exec(
        *(MQLBOT, "jobs", "run", name, "--at", at.isoformat()),
        "--config",
        str(tmp_path / "mqlbot.toml"),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


async def not_yet_sent(bot: Bot) -> list[tuple[str, datetime]]:
    """Outbox rows still waiting, with the instant each is due."""
    async with bot.runtime.sessions() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        ).all()
    return [(row.dedupe_key, row.next_attempt_at) for row in rows]


def business_morning(days_on: int) -> datetime:
    """10:00 UTC (inside the default business hours) on the first weekday ``days_on`` days on."""
    day = (datetime.now(UTC) + timedelta(days=days_on)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def digest_messages(bot: Bot) -> list[str]:
    """What the marketing channel shows: the digest's text, and its chart's file name."""
    return [
        message.text or ", ".join(bot.state.files[f].filename for f in message.files)
        for message in bot.state.top_level(MARKETING_CHANNEL)
    ]


async def a_posted_card(bot: Bot) -> str:
    answer = await bot.post_webhook(mql_event("crm-at-1"))
    assert answer.status_code == 202, answer.text
    await until(lambda: len(bot.cards()) == 1, what="the MQL card")
    return bot.cards()[0].ts


async def test_nag_at_a_future_instant_replies_in_the_thread_within_seconds(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        card = await a_posted_card(bot)
        later = business_morning(days_on=2)  # over a business day later, still unclaimed

        first = await jobs_run(bot, tmp_path, "nag", later)
        assert first["outcome"] == "done"
        assert first["unclaimed_reminded"] == 1
        await until(
            lambda: any("unclaimed" in text for text in bot.thread(card)),
            what="the reminder in the card's thread",
            within=10,
        )
        assert [key for key, _ in await not_yet_sent(bot) if key.startswith("nag:")] == []

        # The scheduler's own run of that slot, and the next minute's, add nothing.
        assert (await jobs_run(bot, tmp_path, "nag", later))["outcome"] == "skipped"
        again = await jobs_run(bot, tmp_path, "nag", later + timedelta(minutes=1))
        assert again.get("unclaimed_reminded", 0) == 0
        await asyncio.sleep(1)
        reminders = [text for text in bot.thread(card) if "unclaimed" in text]
        assert len(reminders) == 1, bot.thread(card)


async def test_digest_at_a_future_instant_reaches_marketing_within_seconds(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        await a_posted_card(bot)
        next_week = datetime.now(UTC) + timedelta(days=7)

        first = await jobs_run(bot, tmp_path, "digest", next_week)
        assert first["outcome"] == "done"
        assert first["queued"] == 2  # the message and its chart
        await until(
            lambda: len(digest_messages(bot)) == 2,
            what="the digest and its chart in the marketing channel",
            within=10,
        )
        assert await not_yet_sent(bot) == []
        text, chart = digest_messages(bot)
        assert text.startswith("MQL digest")
        assert chart.startswith("mql-digest-")

        # Later runs for the same week (its slot, or an hour on) post nothing more.
        assert (await jobs_run(bot, tmp_path, "digest", next_week))["outcome"] == "skipped"
        again = await jobs_run(bot, tmp_path, "digest", next_week + timedelta(hours=1))
        assert again["outcome"] == "skipped" or again["queued"] == 0
        await asyncio.sleep(1)
        assert digest_messages(bot) == [text, chart]
        assert len(bot.state.top_level(SDR_CHANNEL)) == 1
