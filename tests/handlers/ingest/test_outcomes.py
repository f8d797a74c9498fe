"""Outcome events on POST /webhooks/events: validation, attribution, order, idempotency, the card's thread."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from store.models import Mql, Opportunity, OutboxMessage, OutcomeEvent
from tests.handlers.ingest.builders import SettableClock, counts, encode, event, signed_headers

LEAD = {"id": "crm-00042", "email": "aiko@example.co.jp", "source": "webinar"}


async def post(client: httpx.AsyncClient, clock: SettableClock, body: Any) -> httpx.Response:
    raw = encode(body)
    return await client.post(
        "/webhooks/events", content=raw, headers=signed_headers(raw, int(clock.now.timestamp()))
    )


def outcome(
    id: str, type: str, opp: dict[str, Any], *, at: datetime | str, lead: dict[str, Any] = LEAD
) -> dict[str, Any]:
    return event(id, type, at=at, lead=lead, opportunity=opp)


def mql_event(at: str = "2026-11-20T10:00:00+09:00") -> dict[str, Any]:
    return event("mql-1", "form_submitted", at=at, lead=LEAD, score=150)


async def opportunities(runtime: Runtime) -> list[Opportunity]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(Opportunity))).all())


async def replies(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == "reply")
            .order_by(col(OutboxMessage.id))
        )
        return [r.payload["text"] for r in rows.all()]


async def the_mql(runtime: Runtime) -> Mql:
    async with runtime.sessions() as session:
        return (await session.exec(select(Mql))).one()


@pytest.mark.parametrize(
    ("opp", "field", "message"),
    [
        ({"amount": "100"}, "events[0].opportunity.id", "Field required"),
        ({"id": "006A", "amount": "100", "currency": "XYZ"}, "events[0].opportunity.currency",
         "unknown currency 'XYZ'"),
        ({"id": "006A", "amount": "1,000", "currency": "USD"}, "events[0].opportunity.amount",
         "is not a number"),
        ({"id": "006A", "amount": 0.1, "currency": "USD"}, "events[0].opportunity.amount",
         "not a float"),
        ({"id": "006A", "amount": "100"}, "events[0].opportunity.amount", "needs its currency"),
        ({"id": "006A", "amount": "10.5", "currency": "JPY"}, "events[0].opportunity.amount",
         "more decimals than JPY has (0)"),
    ],
)  # fmt: skip
async def test_bad_outcomes_are_422_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient,
    clock: SettableClock,
    runtime: Runtime,
    opp: dict[str, Any],
    field: str,
    message: str,
) -> None:
    body = {
        "events": [
            outcome("o1", "opportunity_won", opp, at="2026-11-22T10:00:00+09:00"),
            mql_event(),
        ]
    }
    response = await post(client, clock, body)
    assert response.status_code == 422
    details = response.json()["details"]
    assert any(d["field"] == field and message in d["error"] for d in details), details
    assert (await counts(runtime.sessions))["event"] == 0
    assert await opportunities(runtime) == []


async def test_won_without_an_opportunity_is_422(
    client: httpx.AsyncClient, clock: SettableClock
) -> None:
    body = event("o1", "opportunity_won", lead=LEAD)
    response = await post(client, clock, body)
    assert response.status_code == 422
    assert response.json()["details"][0]["field"] == "opportunity.id"


async def test_an_opportunity_after_an_mql_is_attributed_and_the_card_thread_hears_of_it(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    assert (await post(client, clock, mql_event())).json()["mqls"] == ["crm-00042"]
    opened = outcome(
        "o1", "opportunity_created",
        {"id": "006A", "name": "Example KK MA", "amount": "3200000", "currency": "JPY",
         "stage": "Prospecting"},
        at="2026-11-23T10:00:00+09:00",
    )  # fmt: skip
    won = outcome("o2", "opportunity_won", {"id": "006A"}, at="2026-11-24T09:00:00+09:00")
    response = await post(client, clock, {"events": [opened, won]})
    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "mqls": []}
    (opp,) = await opportunities(runtime)
    mql = await the_mql(runtime)
    assert (opp.mql_id, opp.status, opp.amount, opp.amount_minor, opp.currency) == (
        mql.id, "won", "3200000", 3200000, "JPY",
    )  # fmt: skip
    assert await replies(runtime) == ["Opportunity opened: ¥3,200,000", "Won: ¥3,200,000"]
    async with runtime.sessions() as session:
        updates = (
            await session.exec(select(OutboxMessage).where(col(OutboxMessage.kind) == "update"))
        ).all()
    card_text = str(updates[-1].payload["blocks"])
    assert ":trophy: Won · ¥3,200,000" in card_text
    # The same events again change nothing.
    again = await post(client, clock, {"events": [opened, won]})
    assert again.json() == {"accepted": 0, "duplicates": 2, "mqls": []}
    assert len(await replies(runtime)) == 2


async def test_won_before_created_is_applied_by_its_own_time(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    await post(client, clock, mql_event())
    won = outcome(
        "o2", "opportunity_won", {"id": "006A", "amount": "32000", "currency": "USD"},
        at="2026-11-24T09:00:00+09:00",
    )  # fmt: skip
    await post(client, clock, won)
    created = outcome(
        "o1", "opportunity_created", {"id": "006A", "stage": "Prospecting"},
        at="2026-11-21T09:00:00+09:00",
    )  # fmt: skip
    await post(client, clock, created)
    (opp,) = await opportunities(runtime)
    assert opp.status == "won"
    assert opp.opened_at == datetime.fromisoformat("2026-11-21T09:00:00+09:00")
    assert opp.won_at == datetime.fromisoformat("2026-11-24T09:00:00+09:00")
    assert opp.amount == "32000.00"
    # Opened and won once each: the late "created" is no news.
    assert await replies(runtime) == ["Opportunity opened: $32,000.00", "Won: $32,000.00"]


async def test_lost_says_why(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    await post(client, clock, mql_event())
    await post(
        client,
        clock,
        {
            "events": [
                outcome(
                    "o1", "opportunity_created", {"id": "006A"}, at="2026-11-21T09:00:00+09:00"
                ),
                outcome(
                    "o2",
                    "opportunity_lost",
                    {"id": "006A"},
                    at="2026-11-22T09:00:00+09:00",
                )
                | {"lost_reason": "budget"},
            ]
        },
    )
    assert await replies(runtime) == ["Opportunity opened", "Lost: budget"]
    (opp,) = await opportunities(runtime)
    assert (opp.status, opp.lost_reason) == ("lost", "budget")


async def test_an_opportunity_outside_the_window_is_not_from_an_mql(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    await post(client, clock, mql_event("2026-01-10T10:00:00+09:00"))
    late = outcome(
        "o1", "opportunity_created", {"id": "006A"}, at="2026-07-10T10:00:00+09:00"
    )  # 181 days after the MQL qualified
    await post(client, clock, late)
    (opp,) = await opportunities(runtime)
    assert opp.mql_id is None
    assert await replies(runtime) == []


async def test_an_opportunity_before_the_mql_is_not_from_it(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    await post(client, clock, mql_event("2026-11-20T10:00:00+09:00"))
    early = outcome("o1", "opportunity_created", {"id": "006A"}, at="2026-11-19T10:00:00+09:00")
    await post(client, clock, early)
    assert (await opportunities(runtime))[0].mql_id is None


async def test_an_unknown_lead_is_kept_and_attributed_when_its_history_arrives(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    first = outcome(
        "o1", "opportunity_created", {"id": "006A", "amount": "100", "currency": "EUR"},
        at="2026-11-23T10:00:00+09:00",
    )  # fmt: skip
    assert (await post(client, clock, first)).status_code == 202
    (opp,) = await opportunities(runtime)
    assert opp.mql_id is None
    clock.advance(timedelta(hours=1))
    # The MA tool's history of that lead comes later, and it had qualified before the deal.
    await post(client, clock, mql_event("2026-11-20T10:00:00+09:00"))
    mql = await the_mql(runtime)
    assert mql.qualified_at == datetime.fromisoformat("2026-11-20T10:00:00+09:00")
    assert (await opportunities(runtime))[0].mql_id == mql.id


async def test_amounts_stay_exact(
    client: httpx.AsyncClient, clock: SettableClock, runtime: Runtime
) -> None:
    body = outcome(
        "o1", "opportunity_created",
        {"id": "006A", "amount": "12345678901234.57", "currency": "USD"},
        at="2026-11-23T10:00:00+09:00",
    )  # fmt: skip
    await post(client, clock, body)
    (opp,) = await opportunities(runtime)
    assert (opp.amount, opp.amount_minor) == ("12345678901234.57", 1234567890123457)
    async with runtime.sessions() as session:
        stored = (await session.exec(select(OutcomeEvent))).one()
    assert stored.amount == "12345678901234.57"


@pytest.mark.postgres
async def test_outcomes_on_postgresql(
    make_runtime: Any, postgres_url: str, clock: SettableClock
) -> None:
    from bot.web import create_web_app

    runtime = make_runtime(postgres_url)
    transport = httpx.ASGITransport(app=create_web_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as pg:
        await post(pg, clock, mql_event())
        body = {
            "events": [
                outcome(
                    "o2", "opportunity_won", {"id": "006A", "amount": "32000.5", "currency": "USD"},
                    at="2026-11-24T09:00:00+09:00",
                ),
                outcome("o1", "opportunity_created", {"id": "006A"}, at="2026-11-21T09:00:00+09:00"),
            ]
        }  # fmt: skip
        assert (await post(pg, clock, body)).json()["accepted"] == 2
        assert (await post(pg, clock, body)).json()["duplicates"] == 2
    (opp,) = await opportunities(runtime)
    assert (opp.status, opp.amount, opp.mql_id) == ("won", "32000.50", (await the_mql(runtime)).id)
    assert await replies(runtime) == ["Opportunity opened: $32,000.50", "Won: $32,000.50"]
