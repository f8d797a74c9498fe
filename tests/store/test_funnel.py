"""The full-funnel queries against a hand-computed fixture, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from scoring.digest import Period
from scoring.funnel import SdrFunnel
from store.engine import SessionFactory, create_engine, session_factory
from store.funnel import activity, cohort_counts, funnel_report, sdr_funnel
from store.models import Lead, Mql, Opportunity

NOVEMBER = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
AS_OF = datetime(2026, 12, 2, tzinfo=UTC)


def nov(day: int) -> datetime:
    return datetime(2026, 11, day, tzinfo=UTC)


def mql(id: int, created: datetime, score: float, source: str | None, **extra: Any) -> Mql:
    return Mql(id=id, lead_id=id, created_at=created, updated_at=created, qualified_at=created,
               kind="threshold", score=score, source=source, **extra)  # fmt: skip


def opp(external_id: str, mql_id: int | None, lead_id: int, opened: datetime, status: str,
        amount: str | None = None, currency: str | None = None, minor: int | None = None,
        **extra: Any) -> Opportunity:  # fmt: skip
    return Opportunity(external_id=external_id, lead_id=lead_id, mql_id=mql_id, status=status,
                       amount=amount, currency=currency, amount_minor=minor, opened_at=opened,
                       last_event_at=opened, updated_at=opened, **extra)  # fmt: skip


@pytest.fixture
async def seeded(any_db_url: str) -> AsyncIterator[SessionFactory]:
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    await seed_funnel(sessions)
    yield sessions
    await engine.dispose()


async def seed_funnel(sessions: SessionFactory) -> None:
    """Six MQLs (five of November), six opportunities: the figures below are worked out by hand."""
    async with sessions() as session, session.begin():
        session.add_all(
            [Lead(id=i, key=f"id:l{i}", created_at=nov(1), updated_at=nov(1)) for i in range(1, 8)]
        )
        await session.flush()
        session.add_all(
            [
                mql(1, nov(2), 105, "webinar", state="sql", owner_id="UA", disposition_at=nov(4)),
                mql(2, nov(3), 160, "webinar", state="sql", owner_id="UA", disposition_at=nov(9)),
                mql(3, nov(6), 130, "ads", state="disqualified", owner_id="UB",
                    disposition_at=nov(7)),
                mql(4, nov(8), 90, "ads", state="open"),
                mql(5, nov(11), 100, None, state="sql", owner_id="UB", disposition_at=nov(11)),
                mql(6, datetime(2026, 10, 15, tzinfo=UTC), 120, "webinar", state="sql",
                    owner_id="UA", disposition_at=datetime(2026, 10, 20, tzinfo=UTC)),
            ]
        )  # fmt: skip
        await session.flush()
        session.add_all(
            [
                opp("006A", 1, 1, nov(5), "won", "3200000", "JPY", 3200000, won_at=nov(20)),
                opp("006B", 2, 2, nov(10), "open", "32000.50", "USD", 3200050),
                opp("006C", 2, 2, nov(13), "open", "100.25", "USD", 10025),
                opp("006D", 5, 5, nov(12), "lost", lost_at=nov(15), lost_reason="budget"),
                opp("006E", None, 7, nov(14), "won", "500.00", "EUR", 50000, won_at=nov(25)),
                opp("006F", 6, 6, nov(3), "won", "1000000", "JPY", 1000000, won_at=nov(28)),
            ]
        )  # fmt: skip


def summary(rows: Any) -> dict[str | None, tuple[int, int, int, int, dict[str, Decimal], dict[str, Decimal]]]:  # fmt: skip
    return {
        r.key: (r.mqls, r.sql, r.opportunities, r.won, dict(r.pipeline), dict(r.won_amount))
        for r in rows
    }


async def test_cohort_by_source(seeded: SessionFactory) -> None:
    async with seeded() as session:
        rows = await cohort_counts(
            session, period=NOVEMBER, by="source", threshold=100, as_of=AS_OF
        )
    assert summary(rows) == {
        "webinar": (2, 2, 2, 1, {"USD": Decimal("32100.75")}, {"JPY": Decimal("3200000")}),
        "ads": (2, 0, 0, 0, {}, {}),
        None: (1, 1, 1, 0, {}, {}),
    }
    assert [r.key for r in rows] == ["ads", "webinar", None]


async def test_cohort_by_band_in_score_order(seeded: SessionFactory) -> None:
    async with seeded() as session:
        rows = await cohort_counts(session, period=NOVEMBER, by="band", threshold=100, as_of=AS_OF)
    assert [(r.key, r.mqls, r.sql, r.opportunities, r.won) for r in rows] == [
        ("below", 1, 0, 0, 0),
        ("low", 2, 2, 2, 1),
        ("mid", 1, 0, 0, 0),
        ("high", 1, 1, 1, 0),
    ]


async def test_as_of_an_earlier_day_later_outcomes_do_not_count(seeded: SessionFactory) -> None:
    async with seeded() as session:
        rows = await cohort_counts(
            session, period=NOVEMBER, by="source", threshold=100, as_of=nov(11)
        )
    webinar = summary(rows)["webinar"]
    # By 11 Nov: both SQLs decided, 006A and 006B opened, nothing won yet.
    assert webinar[:4] == (2, 2, 2, 0)
    assert webinar[4] == {"USD": Decimal("32000.50"), "JPY": Decimal("3200000")}


async def test_report_totals_and_medians(seeded: SessionFactory) -> None:
    async with seeded() as session:
        report, _ = await funnel_report(
            session, period=NOVEMBER, by="source", threshold=100, as_of=AS_OF,
            activity_period=NOVEMBER,
        )  # fmt: skip
    total = report.total
    assert (total.mqls, total.sql, total.opportunities, total.won) == (5, 3, 3, 1)
    assert total.pipeline == {"USD": Decimal("32100.75")}
    assert total.won_amount == {"JPY": Decimal("3200000")}
    # To the first opportunity: 3 d (MQL 1), 7 d (MQL 2), 1 d (MQL 5); to won: 18 d (MQL 1).
    assert report.median_to_opportunity == timedelta(days=3)
    assert report.median_to_won == timedelta(days=18)


async def test_activity_of_the_month_and_what_came_from_no_mql(seeded: SessionFactory) -> None:
    async with seeded() as session:
        week, outside = await activity(session, period=NOVEMBER)
    assert (week.mqls, week.sql, week.opportunities, week.won) == (5, 3, 5, 2)
    assert week.pipeline == {"USD": Decimal("32100.75")}
    assert week.won_amount == {"JPY": Decimal("4200000")}
    assert (outside.opportunities, outside.won, dict(outside.won_amount)) == (
        1, 1, {"EUR": Decimal("500.00")},
    )  # fmt: skip


async def test_per_sdr(seeded: SessionFactory) -> None:
    async with seeded() as session:
        rows = await sdr_funnel(session, period=NOVEMBER, as_of=AS_OF)
    assert rows == [SdrFunnel("UA", 2, 2, 2, 1), SdrFunnel("UB", 2, 1, 1, 0)]
