"""End to end over real HTTP: `/mql` and the App Home as a user sees them in the stand-in Slack."""

from __future__ import annotations

from pathlib import Path

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
from tests.handlers.present.blockkit import visible_text


async def claimed_card(bot: Bot) -> str:
    response = await bot.post_webhook(mql_event("crm-e2e-7", "Aiko Sato"))
    assert response.status_code == 202
    await until(lambda: len(bot.cards()) == 1, what="the card to be posted")
    ts = bot.cards()[0].ts
    assert (await bot.player.click(OWNER, SDR_CHANNEL, ts, "Claim")).status == 200
    await until(lambda: "SQL" in bot.labels(ts), what="the card to show the dispositions")
    return ts


async def command(bot: Bot, user: str, text: str) -> list[str]:
    """Type `/mql <text>` in the SDR channel; return the visible texts of the answer."""
    before = len(bot.state.ephemerals(SDR_CHANNEL, user))
    response = await bot.player.slash_command(user, SDR_CHANNEL, "/mql", text)
    assert (response.status, response.body) == (200, "")  # acked at once, empty
    await until(lambda: len(bot.state.ephemerals(SDR_CHANNEL, user)) > before, what=f"/mql {text}")
    answer = bot.state.ephemerals(SDR_CHANNEL, user)[-1]
    return visible_text(answer.blocks)


async def test_mql_command_answers_only_the_caller(tmp_path: Path, sqlite_url: str) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        ts = await claimed_card(bot)
        card = f"https://slack.com/archives/{SDR_CHANNEL}/p{ts.replace('.', '')}"

        queue = await command(bot, OWNER, "queue")
        assert queue[0] == "Your queue: 1 claimed MQL(s) without an outcome, oldest first"
        assert queue[1].startswith(f"*<{card}|Aiko Sato>* · Example KK · score 150 · claimed ")

        lead = await command(bot, OTHER_SDR, "lead crm-e2e-7@example.co.jp")
        assert lead[:2] == ["Aiko Sato", "*Company*\nExample KK"]
        assert "*Owner*\n<@U_SATO>" in lead
        assert lead[-1] == f"<{card}|Open the MQL card>"

        assert await command(bot, OWNER, "stats 1y") == [
            "`1y` is not a period: use 7d, 30d or quarter.\n"
            "Usage: `/mql stats [7d|30d|quarter]`: MQL figures for the period (default 7d)"
        ]
        assert (await command(bot, OWNER, "stats"))[0].startswith("MQL figures: ")

        assert await command(bot, OWNER, "digest") == ["Only managers can post the digest."]
        receipt = await command(bot, MANAGER, "digest")
        assert receipt[0].startswith("The digest of ")
        await until(lambda: len(bot.state.files) == 1, what="the digest chart upload")
        # The chart is sent only after the message, so the message is the channel's first.
        assert bot.state.top_level("C_MKT")[0].text.startswith("MQL digest ")
        # Nobody else saw any of it.
        assert bot.state.ephemerals(SDR_CHANNEL, "U_EMILY") == []


async def test_app_home_publishes_once_per_event_even_when_slack_retries(
    tmp_path: Path, sqlite_url: str
) -> None:
    async with running_bot(tmp_path, sqlite_url) as bot:
        ts = await claimed_card(bot)
        card = f"https://slack.com/archives/{SDR_CHANNEL}/p{ts.replace('.', '')}"

        def publishes() -> int:
            return len(bot.state.calls("views.publish"))

        # The claim itself refreshes the owner's and both managers' tabs through the outbox.
        await until(lambda: publishes() == 3, what="the claim's Home refreshes")
        response = await bot.player.app_home_opened(OWNER, event_id="EvHOME1")
        assert response.status == 200
        await until(lambda: OWNER in bot.state.home_tabs, what="the Home tab")
        texts = visible_text(bot.state.home_tabs[OWNER].payload["blocks"])
        assert texts[0] == "Your open MQLs"
        assert texts[1].startswith(f"*<{card}|Aiko Sato>* · Example KK · score 150\nClaimed ")
        # Slack redelivers the same event (the first answer was slow): no second publish.
        retry = await bot.player.app_home_opened(OWNER, event_id="EvHOME1", retry_num=1)
        assert retry.status == 200
        await until(lambda: publishes() == 4, what="one views.publish for the event")

        await bot.player.app_home_opened(MANAGER, event_id="EvHOME2")
        await until(lambda: publishes() == 5, what="the manager's Home tab")
        manager = visible_text(bot.state.home_tabs[MANAGER].payload["blocks"])
        assert "Team" in manager
        assert "*Unclaimed: 0*" in manager
        assert "*Per SDR*\n<@U_SATO>: 1 open, 0 overdue" in manager
