"""The ingest use case on real SQLite: scoring by the webhook, the MQL decision, atomicity, cards."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from bot.runtime import Runtime
from handlers.ingest.native import validate_events
from handlers.ingest.webhook import Ingester, IngestResult, ingest
from scoring.engine import reset_score
from scoring.state import LeadScoreState
from store.models import AuditEntry, Event, Lead, Mql, OutboxMessage
from tests.handlers.ingest.builders import counts, event

T0 = datetime.fromisoformat("2026-11-20T10:00:00+09:00")


async def send(runtime: Runtime, *events: dict[str, Any]) -> IngestResult:
    parsed = validate_events({"events": list(events)}, runtime.config.known_types)
    return await ingest(runtime.deps, parsed)


def downloads(prefix: str, n: int, start: datetime = T0, **extra: Any) -> list[dict[str, Any]]:
    """n content downloads (15 points each), one hour apart."""
    return [
        event(
            f"{prefix}{i}",
            at=start + timedelta(hours=i),
            properties={"asset": "MA guide"},
            **extra,
        )
        for i in range(n)
    ]


async def lead_row(runtime: Runtime, key: str = "id:crm-00042") -> Lead:
    async with runtime.sessions() as session:
        rows = await session.exec(select(Lead).where(col(Lead.key) == key))
        return rows.one()


async def all_of(runtime: Runtime, model: Any) -> list[Any]:
    async with runtime.sessions() as session:
        rows = await session.exec(select(model).order_by(col(model.id)))
        return list(rows.all())


async def close_mql(runtime: Runtime, mql_id: int, state: str, reason: str | None = None) -> None:
    """What the card listener does on a disposition: close the MQL and move the lead's stage."""
    async with runtime.sessions() as session, session.begin():
        mql = (await session.exec(select(Mql).where(col(Mql.id) == mql_id))).one()
        await session.exec(
            update(Mql)
            .where(col(Mql.id) == mql_id)
            .values(
                state=state,
                open_lead_id=None,
                reason=reason,
                disposition_at=T0 + timedelta(days=1),
                slack_channel="C0SDR",
                slack_ts="1764000000.000100",
            )
        )
        await session.exec(update(Lead).where(col(Lead.id) == mql.lead_id).values(stage=state))


async def test_a_qualifying_event_makes_exactly_one_mql_with_reasons_and_one_card(
    runtime: Runtime,
) -> None:
    result = await send(runtime, *downloads("d", 7))
    assert result.accepted == 7
    assert result.mqls == ["crm-00042"]
    assert result.mql_kinds == ["threshold"]
    (mql,) = await all_of(runtime, Mql)
    assert mql.kind == "threshold"
    assert mql.score == 105
    assert mql.state == "open"
    assert mql.source == "webinar"
    assert mql.campaign == "2026-11 MA seminar"
    assert mql.reasons == [
        {
            "kind": "threshold",
            "score": 105.0,
            "threshold": 100.0,
            "trigger": None,
            "event_keys": ["native:d6"],
            "event_types": ["content_downloaded"],
            "event_labels": ["MA guide"],
            "summary": "score 105 ≥ 100 after content_downloaded (MA guide)",
        }
    ]
    (audit,) = await all_of(runtime, AuditEntry)
    assert (audit.mql_id, audit.actor, audit.action) == (mql.id, "system", "mql_created")
    (card,) = await all_of(runtime, OutboxMessage)
    assert card.kind == "post"
    assert card.channel == "C0SDR"
    assert card.dedupe_key == f"card:{mql.id}"
    assert card.target_key == f"card:{mql.id}"
    assert card.payload["channel"] == "C0SDR"
    assert "Aiko Sato" in card.payload["text"]
    blocks = str(card.payload["blocks"])
    assert "Aiko Sato" in blocks
    assert "MA guide" in blocks
    assert "105" in blocks
    lead = await lead_row(runtime)
    assert (lead.stage, lead.score) == ("mql", 105.0)


async def test_events_are_stored_with_their_points(runtime: Runtime) -> None:
    await send(runtime, event("a", "email_opened"), event("b", "unsubscribed", at=T0))
    stored = {e.dedupe_key: e.points for e in await all_of(runtime, Event)}
    assert stored == {"native:a": 2.0, "native:b": -50.0}


async def test_negative_points_lower_the_score_but_never_below_zero(runtime: Runtime) -> None:
    await send(runtime, *downloads("d", 4))  # 60
    await send(runtime, event("u1", "unsubscribed", at=T0 + timedelta(hours=5)))
    assert (await lead_row(runtime)).score == 10
    await send(runtime, event("u2", "unsubscribed", at=T0 + timedelta(hours=6)))
    assert (await lead_row(runtime)).score == 0


async def test_out_of_order_events_are_scored_by_their_own_time(runtime: Runtime) -> None:
    late = event("late", at=T0 + timedelta(days=40), lead={"id": "crm-1", "name": "New Name"})
    early = event("early", at=T0, lead={"id": "crm-1", "name": "Old Name", "company": "Co"})
    await send(runtime, late)
    await send(runtime, early)
    lead = await lead_row(runtime, "id:crm-1")
    # 40 days apart: the early download was reset by the inactivity rule before the late one.
    assert lead.score == 15
    assert lead.last_activity_at == T0 + timedelta(days=40)
    # Later occurred_at wins for fields; the older event only fills what was blank.
    assert (lead.name, lead.company) == ("New Name", "Co")


async def test_the_same_events_in_any_arrival_order_give_the_same_score(
    runtime: Runtime,
) -> None:
    events = [*downloads("d", 3), event("u", "unsubscribed", at=T0 + timedelta(minutes=30))]
    await send(runtime, *reversed(events))
    forward = [dict(e, lead={"id": "crm-2"}) for e in events]
    for e in forward:
        e["id"] = "f-" + e["id"]
    for e in forward:
        await send(runtime, e)
    assert (await lead_row(runtime)).score == (await lead_row(runtime, "id:crm-2")).score == 0


async def test_an_external_absolute_score_qualifies_as_external(runtime: Runtime) -> None:
    result = await send(runtime, event("s", "score_changed", score=120))
    assert result.mql_kinds == ["external"]
    (mql,) = await all_of(runtime, Mql)
    assert mql.score == 120
    assert mql.reasons[0]["summary"] == "external score 120 ≥ 100 after score_changed"


async def test_an_external_score_delta_is_added(runtime: Runtime) -> None:
    await send(runtime, *downloads("d", 2))  # 30
    result = await send(
        runtime, event("x", "score_changed", at=T0 + timedelta(hours=3), score_delta=25)
    )
    assert result.mqls == []
    assert (await lead_row(runtime)).score == 55


async def test_a_trigger_qualifies_whatever_the_score(runtime: Runtime) -> None:
    result = await send(
        runtime,
        event("v", "video_watched", at=T0, properties={"video": "Product demo"}),
        event("p", "page_visited", at=T0 + timedelta(hours=72), properties={"url": "/pricing"}),
    )
    assert result.mql_kinds == ["trigger"]
    (mql,) = await all_of(runtime, Mql)
    assert mql.score == 13
    assert mql.reasons[0]["trigger"] == "demo_then_pricing"
    assert mql.reasons[0]["event_keys"] == ["native:v", "native:p"]


@pytest.mark.parametrize(
    ("first", "second", "gap"),
    [
        (("video_watched", "video", "demo"), ("page_visited", "url", "/pricing"), 73),
        (("page_visited", "url", "/pricing"), ("video_watched", "video", "demo"), 1),
        (("video_watched", "video", "webinar"), ("page_visited", "url", "/pricing"), 1),
    ],
    ids=["too-far-apart", "wrong-order", "property-does-not-match"],
)
async def test_a_trigger_needs_order_window_and_matching_properties(
    runtime: Runtime,
    first: tuple[str, str, str],
    second: tuple[str, str, str],
    gap: int,
) -> None:
    result = await send(
        runtime,
        event("a", first[0], at=T0, properties={first[1]: first[2]}),
        event("b", second[0], at=T0 + timedelta(hours=gap), properties={second[1]: second[2]}),
    )
    assert result.mqls == []


async def test_an_open_mql_gets_no_second_card(runtime: Runtime) -> None:
    await send(runtime, *downloads("d", 7))
    result = await send(
        runtime,
        event("v", "video_watched", at=T0 + timedelta(hours=8), properties={"video": "demo"}),
        event("p", "page_visited", at=T0 + timedelta(hours=9), properties={"url": "/pricing"}),
    )
    assert result.accepted == 2
    assert result.mqls == []
    assert (await counts(runtime.sessions))["mql"] == 1
    assert (await counts(runtime.sessions))["outbox"] == 1


async def requalify(runtime: Runtime, hours: int) -> IngestResult:
    at = T0 + timedelta(hours=hours)
    return await send(
        runtime,
        event(f"v{hours}", "video_watched", at=at, properties={"video": "demo"}),
        event(
            f"p{hours}",
            "page_visited",
            at=at + timedelta(minutes=5),
            properties={"url": "/pricing"},
        ),
    )


@pytest.mark.parametrize("disposition", ["recycled", "lead"])
async def test_a_recycled_or_lead_lead_qualifies_again_linked_to_its_previous_mql(
    runtime: Runtime, disposition: str
) -> None:
    await send(runtime, *downloads("d", 7))
    (first,) = await all_of(runtime, Mql)
    await close_mql(runtime, first.id, disposition, "timing" if disposition == "recycled" else None)
    result = await requalify(runtime, 30)
    assert result.mqls == ["crm-00042"]
    first, second = await all_of(runtime, Mql)
    assert second.previous_mql_id == first.id
    assert second.state == "open"
    assert (await lead_row(runtime)).stage == "mql"
    cards = [m for m in await all_of(runtime, OutboxMessage) if m.kind == "post"]
    assert [c.dedupe_key for c in cards] == [f"card:{first.id}", f"card:{second.id}"]
    notice = str(cards[1].payload["blocks"])
    assert ":repeat:" in notice
    assert "https://slack.com/archives/C0SDR/p1764000000000100" in notice


@pytest.mark.parametrize("disposition", ["disqualified", "sql"])
async def test_a_disqualified_or_sql_lead_does_not_qualify_again(
    runtime: Runtime, disposition: str
) -> None:
    await send(runtime, *downloads("d", 7))
    (first,) = await all_of(runtime, Mql)
    await close_mql(runtime, first.id, disposition)
    result = await requalify(runtime, 30)
    assert result.accepted == 2
    assert result.mqls == []
    assert (await counts(runtime.sessions))["mql"] == 1


async def test_a_reopened_lead_qualifies_again(runtime: Runtime) -> None:
    await send(runtime, *downloads("d", 7))
    (first,) = await all_of(runtime, Mql)
    await close_mql(runtime, first.id, "disqualified")
    async with runtime.sessions() as session, session.begin():
        await session.exec(update(Lead).values(stage="lead"))  # a manager reopened it
    assert (await requalify(runtime, 30)).mqls == ["crm-00042"]


async def test_a_batch_with_a_database_error_stores_nothing(runtime: Runtime) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON event WHEN NEW.dedupe_key = 'native:bad'"
                " BEGIN SELECT RAISE(ABORT, 'poisoned event'); END"
            )
        )
    batch = [*downloads("d", 7), event("bad", at=T0 + timedelta(days=1))]
    with pytest.raises(Exception, match="poisoned event"):
        await send(runtime, *batch)
    assert await counts(runtime.sessions) == {
        "lead": 0,
        "event": 0,
        "mql": 0,
        "audit": 0,
        "outbox": 0,
    }


async def test_duplicates_change_nothing(runtime: Runtime) -> None:
    await send(runtime, *downloads("d", 6))  # 90
    result = await send(runtime, *downloads("d", 6))
    assert (result.accepted, result.duplicates, result.mqls) == (0, 6, [])
    assert (await lead_row(runtime)).score == 90
    assert (await counts(runtime.sessions))["event"] == 6


async def test_a_lead_known_by_email_is_adopted_when_its_crm_id_arrives(
    runtime: Runtime,
) -> None:
    await send(runtime, event("a", lead={"email": "Ken@Example.com", "name": "Ken"}))
    await send(
        runtime,
        event("b", at=T0 + timedelta(days=5), lead={"id": "crm-9", "email": "ken@example.com"}),
    )
    await send(runtime, event("c", at=T0 + timedelta(days=6), lead={"email": "ken@example.com"}))
    (lead,) = await all_of(runtime, Lead)
    assert (lead.key, lead.external_id, lead.email, lead.name) == (
        "id:crm-9",
        "crm-9",
        "ken@example.com",
        "Ken",
    )
    assert lead.score == 45


async def test_group_commit_keeps_each_request_all_or_nothing(runtime: Runtime) -> None:
    async with runtime.engine.begin() as conn:
        await conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON event WHEN NEW.dedupe_key = 'native:bad'"
                " BEGIN SELECT RAISE(ABORT, 'poisoned event'); END"
            )
        )
    ingester = Ingester(runtime.deps)
    known = runtime.config.known_types
    good_a = validate_events({"events": downloads("a", 3)}, known)
    bad = validate_events({"events": [*downloads("b", 2), event("bad")]}, known)
    good_c = validate_events({"events": [*downloads("c", 2), event("a0")]}, known)
    results = await asyncio.gather(
        ingester.submit(good_a),
        ingester.submit(bad),
        ingester.submit(good_c),
        return_exceptions=True,
    )
    assert isinstance(results[1], Exception)
    assert "poisoned event" in str(results[1])
    assert results[0] == IngestResult(accepted=3, duplicates=0, mqls=[])
    assert results[2] == IngestResult(accepted=2, duplicates=1, mqls=[])
    keys = sorted(e.dedupe_key for e in await all_of(runtime, Event))
    assert keys == ["native:a0", "native:a1", "native:a2", "native:c0", "native:c1"]
    assert (await lead_row(runtime)).score == 75


async def test_a_state_changed_behind_the_ingesters_cache_is_read_from_the_database(
    runtime: Runtime,
) -> None:
    # The ingester keeps the states it stored; a manager's reset (here written directly, as the
    # recycle job does) must win over what it kept.
    ingester = Ingester(runtime.deps)
    known = runtime.config.known_types
    await ingester.submit(validate_events({"events": downloads("a", 3)}, known))
    assert (await lead_row(runtime)).score == 45
    stored = LeadScoreState.from_json((await lead_row(runtime)).score_state)
    reset = reset_score(stored, T0 + timedelta(hours=5))
    async with runtime.sessions() as session, session.begin():
        await session.exec(
            update(Lead)
            .where(col(Lead.key) == "id:crm-00042")
            .values(score_state=reset.to_json(), score=0.0)
        )
    later = downloads("b", 1, start=T0 + timedelta(days=1))
    await ingester.submit(validate_events({"events": later}, known))
    assert (await lead_row(runtime)).score == 15
    # And a batch after that one builds on the state it has just kept.
    more = downloads("c", 2, start=T0 + timedelta(days=2))
    await ingester.submit(validate_events({"events": more}, known))
    assert (await lead_row(runtime)).score == 45
