"""End to end over real HTTP: webhook → MQL card → Claim → SQL → Salesforce won → thread → digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.jobs.weekly_digest import run_digest
from tests.e2e.card_harness import OWNER, running_bot, until
from tests.e2e.test_card_flow import click, first_card, submit
from tests.handlers.ingest.test_salesforce import ORG, TOKEN, outbound

LEAD_ID = "crm-e2e-1"  # first_card's lead; its e-mail is <id>@example.co.jp
SALESFORCE = f'\n[sources.salesforce]\norganization_id = "{ORG}"\n'


def next_digest_time(now: datetime) -> datetime:
    """The next Monday 09:00 UTC (the default digest slot) after ``now``."""
    day = now.date() + timedelta(days=(7 - now.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


async def test_an_mql_carried_through_to_a_won_deal(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQLBOT_SALESFORCE_SECRET", TOKEN)
    async with running_bot(tmp_path, sqlite_url, extra_toml=SALESFORCE) as bot:
        ts = await first_card(bot, LEAD_ID)
        await click(bot, OWNER, ts, "Claim")
        await until(lambda: len(bot.thread(ts)) == 1, what="the claim reply")
        await click(bot, OWNER, ts, "SQL")
        await submit(bot, OWNER, {})
        await until(lambda: len(bot.thread(ts)) == 2, what="the SQL reply")

        # Field sales wins the deal in Salesforce; its outbound message reaches mqlbot.
        # Opened the day after the lead qualified (its MQL event: 24 Nov 10:15 Tokyo).
        body = outbound(email=f"{LEAD_ID}@example.co.jp", created="2026-11-25T01:00:00.000Z")
        response = await bot.http.post(
            f"{bot.url}/webhooks/salesforce/{TOKEN}",
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )
        assert response.status_code == 200
        assert "<Ack>true</Ack>" in response.text
        await until(lambda: len(bot.thread(ts)) == 4, what="the outcome lines")
        assert bot.thread(ts)[2:] == ["Opportunity opened: ¥3,200,000", "Won: ¥3,200,000"]
        await until(
            lambda: (
                ":trophy: Won · ¥3,200,000" in json.dumps(bot.card(ts).blocks, ensure_ascii=False)
            ),
            what="the card's furthest stage",
        )

        # A resend of the same notification changes nothing.
        again = await bot.http.post(f"{bot.url}/webhooks/salesforce/{TOKEN}", content=body)
        assert again.status_code == 200

        # The next weekly digest shows the won deal in the funnel.
        summary = await run_digest(bot.runtime.deps, next_digest_time(datetime.now(UTC)))
        assert summary["queued"] >= 1
        await until(lambda: bool(bot.state.top_level("C_MKT")), what="the digest post")
        digest = json.dumps(bot.state.top_level("C_MKT")[0].blocks, ensure_ascii=False)
        assert "• All MQLs: 1 MQL → SQL 1 (1/1) → opportunity 1 (1/1) → won 1 (1/1)" in digest
        assert "Won: ¥3,200,000" in digest
    assert len(bot.thread(ts)) == 4
