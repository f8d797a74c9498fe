"""The App Home on a real database: an SDR's tab, a manager's tab, event retries, queued refreshes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from handlers.present.home import (
    enqueue_home_refresh,
    enqueue_home_refreshes,
    load_home,
    render_home,
)
from handlers.present.views import WeekFigures
from handlers.slack.home import on_app_home_opened
from store.engine import SessionFactory, create_engine, session_factory
from store.models import Lead, Mql, OutboxMessage
from store.sdrs import set_away
from tests.handlers.present.blockkit import view_problems, visible_text
from tests.handlers.slack.test_home_data import (
    AIKO,
    KEN,
    MANAGER,
    NOW,
    deps,
    seed_team,
)

CARD = "https://slack.com/archives/C0SDR/p1764000000000"


class FakeClient:
    """Records views.publish calls the way slack_sdk's client is called."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, Any]]] = []

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> Any:
        self.published.append((user_id, view))
        return {"ok": True}


def _opened(user: str, event_id: str = "Ev0001", tab: str = "home") -> tuple[dict[str, Any], ...]:
    event = {"type": "app_home_opened", "user": user, "channel": "D0001", "tab": tab}
    return event, {"type": "event_callback", "event_id": event_id, "event": event}


async def test_sdr_home_shows_their_open_mqls_oldest_claim_first_and_their_week(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session:
        view = await render_home(session, d, AIKO, NOW)
    assert visible_text(view["blocks"]) == [
        "Your open MQLs",
        f"*<{CARD}002|Ken Ito>* · Ito &amp; Sons · score 120\n"
        "Claimed <@U0AIKO> · MQL since Wed 18 Nov 2026, 09:50 · "
        ":rotating_light: No disposition for 1 d 12 h — over SLA",
        "Open card",
        f"*<{CARD}001|Aiko Sato>* · Example KK · score 105\n"
        "Claimed <@U0AIKO> · MQL since Mon 23 Nov 2026, 09:00 · "
        ":stopwatch: No disposition for 10 h 5 min",
        "Open card",
        "Your week",
        "*Claimed*\n2",
        "*SQL*\n1",
        "*Lead*\n0",
        "*Recycled*\n1",
        "*Disqualified*\n0",
        "*Median time to claim*\n15 min",
    ]
    assert view_problems(view) == []


async def test_manager_home_adds_unclaimed_overdue_and_per_sdr_counts(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session:
        view = await render_home(session, d, MANAGER, NOW)
    assert visible_text(view["blocks"]) == [
        "Your open MQLs",
        "Nothing open. Well done.",
        "Your week",
        "*Claimed*\n0",
        "*SQL*\n0",
        "*Lead*\n0",
        "*Recycled*\n0",
        "*Disqualified*\n0",
        "*Median time to claim*\n—",
        "Team",
        "*Unclaimed: 2*",
        f"*<{CARD}007|Emi Ono>* · Ono Foods · score 140\n"
        "Unclaimed · MQL since Mon 23 Nov 2026, 17:00 · "
        ":rotating_light: Unclaimed 2 h 15 min — over SLA",
        "Claim",
        f"*<{CARD}006|Sho Kato>* · Kato Labs · score 100\n"
        "Unclaimed · MQL since Tue 24 Nov 2026, 10:05 · :stopwatch: Unclaimed 10 min",
        "Claim",
        "*Overdue*",
        f"*<{CARD}002|Ken Ito>* · Ito &amp; Sons · score 120\n"
        "Claimed <@U0AIKO> · MQL since Wed 18 Nov 2026, 09:50 · "
        ":rotating_light: No disposition for 1 d 12 h — over SLA",
        "Open card",
        f"*<{CARD}007|Emi Ono>* · Ono Foods · score 140\n"
        "Unclaimed · MQL since Mon 23 Nov 2026, 17:00 · "
        ":rotating_light: Unclaimed 2 h 15 min — over SLA",
        "Open card",
        "*Per SDR*\n<@U0AIKO>: 2 open, 1 overdue\n<@U0KEN>: 1 open, 0 overdue\n"
        "<@U0MIO>: 0 open, 0 overdue",
        "*MQL → SQL → Opportunity → Won per SDR (MQLs of the last 13 weeks)*\n"
        "• <@U0AIKO>: 4 → 1 → 0 → 0\n• <@U0KEN>: 1 → 0 → 0 → 0",
    ]
    claim = view["blocks"][8]["accessory"]
    assert (claim["action_id"], claim["value"]) == ("mql_claim", "7")
    assert view_problems(view) == []


async def test_japanese_home_for_an_sdr(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path, "ja")
    async with sessions() as session:
        view = await render_home(session, d, KEN, NOW)
    assert visible_text(view["blocks"])[:3] == [
        "担当中の MQL",
        f"*<{CARD}005|Yui Mori>*・Mori Inc・スコア 130\n"
        "担当中 <@U0KEN>・MQL 作成: 2026年11月24日(火) 09:00 · :stopwatch: 未分類 1時間10分",
        "カードを開く",
    ]


async def test_a_long_list_shows_twenty_and_counts_the_rest(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    async with sessions() as session, session.begin():
        for n in range(1, 26):
            session.add(Lead(id=n, key=f"id:{n}", name=f"Lead {n}", created_at=NOW, updated_at=NOW))
        await session.flush()
        for n in range(1, 26):
            session.add(
                Mql(id=n, lead_id=n, kind="threshold", score=100, state="claimed", owner_id=AIKO,
                    created_at=NOW - timedelta(hours=n), claimed_at=NOW - timedelta(minutes=n),
                    updated_at=NOW, open_lead_id=n)
            )  # fmt: skip
    async with sessions() as session:
        view = await render_home(session, deps(sessions, tmp_path), AIKO, NOW)
    texts = visible_text(view["blocks"])
    assert texts[1].startswith("*Lead 25*")  # claimed longest ago comes first
    assert "+5 more" in texts
    assert view_problems(view) == []


async def test_opening_the_home_tab_publishes_once_per_event_id(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    client = FakeClient()
    event, body = _opened(KEN)
    assert await on_app_home_opened(event, body, client, d) is True
    # Slack's retry of the same delivery while (or after) the first attempt runs: nothing again.
    assert await on_app_home_opened(event, body, client, d) is False
    assert [user for user, _ in client.published] == [KEN]
    assert client.published[0][1]["type"] == "home"
    # A new opening is a new event id.
    event, body = _opened(KEN, "Ev0002")
    assert await on_app_home_opened(event, body, client, d) is True
    assert len(client.published) == 2


async def test_the_messages_tab_publishes_nothing(sessions: SessionFactory, tmp_path: Path) -> None:
    client = FakeClient()
    event, body = _opened(KEN, tab="messages")
    assert await on_app_home_opened(event, body, client, deps(sessions, tmp_path)) is False
    assert client.published == []


async def _home_rows(sessions: SessionFactory) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.kind) == "home")
            .order_by(col(OutboxMessage.id))
        )
        return list(rows.all())


async def test_refreshes_are_one_row_per_user_per_minute_with_the_latest_view(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session, session.begin():
        first = await enqueue_home_refresh(session, d, KEN)
    assert first is not None
    # Ken's MQL is decided in the same minute: the waiting row gets the newer view.
    async with sessions() as session, session.begin():
        await session.exec(update(Mql).where(col(Mql.id) == 5).values(state="sql"))
        assert await enqueue_home_refresh(session, d, KEN) is None
    rows = await _home_rows(sessions)
    assert [(r.dedupe_key, r.payload["user_id"]) for r in rows] == [
        ("home:U0KEN:20261124T0115Z", KEN)
    ]
    assert "Nothing open. Well done." in visible_text(rows[0].payload["view"]["blocks"])


async def test_a_change_after_the_minutes_publish_went_waits_for_the_next_minute(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session, session.begin():
        await enqueue_home_refresh(session, d, KEN)
    async with sessions() as session, session.begin():
        await session.exec(update(OutboxMessage).values(status="sent"))
    async with sessions() as session, session.begin():
        assert await enqueue_home_refresh(session, d, KEN) is not None
        # A third change in the same minute joins the next minute's waiting row.
        assert await enqueue_home_refresh(session, d, KEN) is None
    rows = await _home_rows(sessions)
    assert [(r.dedupe_key, r.status, r.next_attempt_at) for r in rows] == [
        ("home:U0KEN:20261124T0115Z", "sent", NOW),
        ("home:U0KEN:20261124T0116Z", "pending", NOW + timedelta(minutes=1)),
    ]


async def test_refreshes_reach_the_named_users_and_every_manager(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session, session.begin():
        await enqueue_home_refreshes(session, d, [KEN, None, AIKO, KEN])
    rows = await _home_rows(sessions)
    assert sorted(r.payload["user_id"] for r in rows) == [AIKO, KEN, MANAGER]


async def test_every_view_is_rendered_before_the_shared_rows_are_locked(
    engine: AsyncEngine, sessions: SessionFactory, tmp_path: Path
) -> None:
    # The rows are shared by every change in the minute: reading after writing one kept its
    # lock through the renders and made concurrent claims queue (found by the soak).
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with sessions() as session, session.begin():
            await enqueue_home_refreshes(session, d, [KEN, AIKO])
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    first_write = statements.index("INSERT")
    assert "SELECT" in statements[:first_write]
    assert "SELECT" not in statements[first_write:]
    assert len(await _home_rows(sessions)) == 3


async def test_team_view_queries_agree_on_sqlite_and_postgresql(
    any_db_url: str, tmp_path: Path
) -> None:
    engine = create_engine(any_db_url)
    try:
        sessions = session_factory(engine)
        await seed_team(sessions)
        async with sessions() as session, session.begin():
            sdrs = deps(sessions, tmp_path).config.sdr_users
            await set_away(session, user_id="U0MIO", away=True, sdr_ids=sdrs, now=NOW)
        async with sessions() as session:
            view = await load_home(session, deps(sessions, tmp_path), MANAGER, NOW)
        async with sessions() as session:
            aiko = await load_home(session, deps(sessions, tmp_path), AIKO, NOW)
    finally:
        await engine.dispose()
    assert view.team is not None
    assert view.team.unclaimed_count == 2
    assert [i.mql_id for i in view.team.unclaimed] == ["7", "6"]
    assert [i.mql_id for i in view.team.overdue] == ["2", "7"]
    assert [(s.user_id, s.open, s.overdue, s.away) for s in view.team.per_sdr] == [
        (AIKO, 2, 1, False),
        (KEN, 1, 0, False),
        ("U0MIO", 0, 0, True),
    ]
    assert aiko.my_week == WeekFigures(
        claimed=2, sql=1, lead=0, recycled=1, disqualified=0,
        median_time_to_claim=timedelta(minutes=15),
    )  # fmt: skip
