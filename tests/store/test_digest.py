"""The digest's figures from SQL, against a hand-built week of MQLs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.digest import (
    ClaimTimes,
    Conversion,
    Outcomes,
    Period,
    ReasonCount,
    ReturningLead,
    UnworkedMql,
    previous_periods,
    sla_cutoffs,
    weekly_period,
)
from store.digest import period_figures, returning_recycled, unworked_mqls
from store.engine import SessionFactory, create_engine, session_factory
from store.models import Lead
from tests.handlers.jobs.builders import config
from tests.rows import add_lead_and_mql

TOKYO = ZoneInfo("Asia/Tokyo")
CONFIG = config()
# Monday 30 Nov 2026, 09:00 in Tokyo: the digest of 23 Nov 09:00 (a holiday) – 30 Nov 09:00.
DIGEST_AT = datetime(2026, 11, 30, 9, 0, tzinfo=TOKYO)
WEEK = Period(datetime(2026, 11, 23, 9, 0, tzinfo=TOKYO), DIGEST_AT)


def jst(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


@dataclass(frozen=True)
class Row:
    """One MQL of the hand-built data (times in Tokyo)."""

    created: datetime
    source: str | None = "webinar"
    campaign: str | None = "A"
    kind: str = "threshold"
    score: float = 110
    claimed: datetime | None = None
    claim_seconds: int | None = None
    state: str = "open"
    decided: datetime | None = None
    reason: str | None = None
    recycle_until: date | None = None
    returned: datetime | None = None
    flagged: bool = False
    name: str | None = None
    company: str | None = "Example KK"
    owner: str | None = None


# The digest week, numbered as in the expectations below. Claim SLA 15 min, work SLA 2 h on
# Tokyo business hours: as of Mon 30 Nov 09:00 the claim cutoff is Fri 27 Nov 17:45 and the
# work cutoff Fri 27 Nov 16:00 (the weekend does not count).
THIS_WEEK = (
    Row(jst(24, 10), claimed=jst(24, 10, 5), claim_seconds=300, state="sql", decided=jst(24, 15)),
    Row(jst(24, 11), score=130, claimed=jst(24, 11, 10), claim_seconds=600, state="sql",
        decided=jst(25, 10)),
    Row(jst(24, 14), kind="trigger", score=60, claimed=jst(24, 14, 30), claim_seconds=1800,
        state="sql", decided=jst(25, 11)),  # slow claim: breach
    Row(jst(25, 9, 30), score=155, claimed=jst(25, 9, 35), claim_seconds=300, state="lead",
        decided=jst(25, 12)),
    Row(jst(25, 10), campaign="B", score=160, claimed=jst(25, 10, 20), claim_seconds=1200,
        state="disqualified", decided=jst(25, 13), reason="competitor"),  # slow claim: breach
    Row(jst(25, 16), campaign="B", score=105, claimed=jst(25, 16, 2), claim_seconds=120,
        state="recycled", decided=jst(25, 17), reason="timing", recycle_until=date(2026, 12, 5),
        name="Sho Kato"),
    Row(jst(26, 10), source="website", campaign="B", score=125, claimed=jst(26, 10, 10),
        claim_seconds=600, state="sql", decided=jst(26, 15), flagged=True),  # flagged: breach
    Row(jst(26, 11), source="website", campaign="C", kind="trigger", score=80,
        claimed=jst(26, 11, 1), claim_seconds=60, state="disqualified", decided=jst(26, 12),
        reason="student"),
    Row(jst(26, 12), source="website", campaign="C", score=140, claimed=jst(26, 12, 5),
        claim_seconds=300, state="disqualified", decided=jst(26, 13), reason="competitor"),
    Row(jst(27, 10), source="website", campaign="D", kind="external", score=150,
        claimed=jst(27, 10, 30), claim_seconds=2400, state="recycled", decided=jst(27, 11),
        reason="budget", recycle_until=date(2027, 2, 27)),  # slow claim: breach
    Row(jst(27, 17), source="website", campaign="E", score=100, claimed=jst(27, 17, 50),
        claim_seconds=3000, state="claimed", owner="U0SDRA"),  # slow claim: breach
    Row(jst(28, 10), source="seminar", campaign="F", kind="trigger", score=90),  # Saturday
    Row(jst(26, 9), source="seminar", campaign=None, score=120, name="Kenji Ito",
        company="Nagoya Steel"),  # unclaimed since Thursday: breach, unworked
    # Claimed on Sunday evening, decided after the digest time: still open as of the digest.
    Row(jst(29, 20), source=None, score=101, claimed=jst(29, 20, 5), claim_seconds=0,
        state="sql", decided=jst(30, 10)),
    Row(jst(27, 13), source="website", campaign="B", score=115, claimed=jst(27, 13, 5),
        claim_seconds=420, state="claimed", name="Mika Tanaka", company="Osaka Foods",
        owner="U0SDRB"),  # claimed Friday 13:05, no outcome by Monday: work breach, unworked
)  # fmt: skip


def _decided_rows(week_start: datetime, count: int, sql: int) -> list[Row]:
    """``count`` MQLs of an earlier week, all claimed in 10 minutes and decided the same day."""
    rows = []
    for index in range(count):
        created = week_start + timedelta(days=1 + index // 4, hours=1 + index % 4)
        rows.append(
            Row(
                created,
                claimed=created + timedelta(minutes=10),
                claim_seconds=600,
                state="sql" if index < sql else "lead",
                decided=created + timedelta(minutes=30),
            )
        )
    return rows


EARLIER_WEEKS: tuple[list[Row], ...] = (
    # Week of 16 Nov: 10 MQLs; the first is one minute before this week starts and was
    # claimed and made SQL only after that week's end, so that week counts 9 claimed, 1 SQL.
    [Row(jst(23, 8, 59), claimed=jst(23, 9, 0), claim_seconds=600, state="sql",
         decided=jst(23, 9, 30)), *_decided_rows(jst(16, 9), 9, 1)],
    _decided_rows(jst(9, 9), 6, 3),  # week of 9 Nov: 6 MQLs, 3 SQL
    [],  # week of 2 Nov: none
    _decided_rows(jst(26, 9, month=10), 4, 1),  # week of 26 Oct: 4 MQLs, 1 SQL
)  # fmt: skip

# Recycled long ago; due back (or not) around the digest.
RECYCLED = (
    Row(jst(1, 10, month=9), state="recycled", decided=jst(1, 11, month=9), reason="timing",
        recycle_until=date(2026, 11, 30), name="Yuki Mori"),  # due today: returning
    Row(jst(2, 10, month=9), state="recycled", decided=jst(2, 11, month=9),
        reason="competitor_contract", recycle_until=date(2026, 12, 13), name="Emma Brown",
        company="Brown & Co"),  # last day of the two weeks: returning
    Row(jst(3, 10, month=9), state="recycled", decided=jst(3, 11, month=9), reason="timing",
        recycle_until=date(2026, 12, 14)),  # one day too late
    Row(jst(4, 10, month=9), state="recycled", decided=jst(4, 11, month=9), reason="timing",
        recycle_until=date(2026, 12, 1), returned=jst(1, 0, month=12)),  # already returned
    Row(jst(5, 10, month=9), state="recycled", decided=jst(5, 11, month=9), reason="timing",
        recycle_until=date(2026, 11, 29)),  # overdue (the recycle job's business), not listed
)  # fmt: skip

AFTER = (Row(jst(30, 9), source="webinar"),)  # created exactly at the digest time: next week


async def insert_rows(
    sessions: SessionFactory, rows: Sequence[Row], *, first: int = 1
) -> list[int]:
    """Insert a lead and an MQL per row (lead numbers from ``first``); return the MQL ids."""
    ids = []
    async with sessions() as session, session.begin():
        for number, row in enumerate(rows, start=first):
            lead = Lead(
                key=f"id:crm-{number:05d}",
                external_id=f"crm-{number:05d}",
                name=row.name or f"Lead {number}",
                company=row.company,
                source=row.source,
                campaign=row.campaign,
                stage="mql",
                created_at=row.created,
                updated_at=row.created,
            )
            mql_id = await add_lead_and_mql(
                session,
                lead,
                created_at=row.created,
                kind=row.kind,
                score=row.score,
                source=row.source,
                campaign=row.campaign,
                state=row.state,
                owner_id=row.owner or ("U0SDRA" if row.claimed else None),
                claimed_at=row.claimed,
                claim_business_seconds=row.claim_seconds,
                disposition_at=row.decided,
                reason=row.reason,
                recycle_until=row.recycle_until,
                returned_at=row.returned,
                sla_breached=row.flagged,
                slack_channel="C0SDR",
                slack_ts=f"1764000000.{number:06d}",
                updated_at=row.created,
            )
            ids.append(mql_id)
    return ids


async def build_data(sessions: SessionFactory) -> dict[str, list[int]]:
    """The whole hand-built database; returns MQL ids by group."""
    return {
        "week": await insert_rows(sessions, THIS_WEEK, first=100),
        "earlier": await insert_rows(sessions, [r for w in EARLIER_WEEKS for r in w], first=200),
        "recycled": await insert_rows(sessions, RECYCLED, first=300),
        "after": await insert_rows(sessions, AFTER, first=400),
    }


@pytest.fixture
async def db(any_db_url: str) -> AsyncIterator[tuple[SessionFactory, dict[str, list[int]]]]:
    engine = create_engine(any_db_url)
    sessions = session_factory(engine)
    ids = await build_data(sessions)
    yield sessions, ids
    await engine.dispose()


def test_the_week_is_the_one_ending_at_the_digest_time() -> None:
    assert weekly_period(DIGEST_AT, weekday=0, at=time(9), tz=TOKYO) == WEEK


async def test_figures_of_the_hand_built_week(
    db: tuple[SessionFactory, dict[str, list[int]]],
) -> None:
    sessions, _ = db
    async with sessions() as session:
        figures = await period_figures(
            session,
            period=WEEK,
            threshold=100,
            sla=sla_cutoffs(CONFIG.levels, CONFIG.calendar, WEEK.end),
        )
    assert figures.created == 15
    assert figures.claimed == 13
    # 0, 60, 120, 300, 300, 300, 420, 600, 600, 1200, 1800, 2400, 3000 seconds.
    assert figures.claim_times == ClaimTimes(13, 420.0, 2280.0)
    assert figures.sla_breaches == 7
    assert figures.outcomes == Outcomes(sql=4, lead=1, recycled=2, disqualified=3, open=5)
    assert figures.conversion.display() == "27%"
    assert figures.by_source == (
        Conversion("webinar", 6, 3),
        Conversion("website", 6, 1),
        Conversion("seminar", 2, 0),
        Conversion(None, 1, 0),
    )
    assert figures.by_campaign == (
        Conversion("A", 5, 3),
        Conversion("B", 4, 1),
        Conversion("C", 2, 0),
        Conversion("D", 1, 0),
        Conversion("E", 1, 0),
        Conversion(None, 2, 0, other=True),  # F and the MQL without a campaign
    )
    assert figures.by_band == (
        Conversion("below", 3, 1),
        Conversion("low", 6, 1),
        Conversion("mid", 3, 2),
        Conversion("high", 3, 0),
    )
    assert figures.by_kind == (
        Conversion("threshold", 11, 3),
        Conversion("trigger", 3, 1),
        Conversion("external", 1, 0),
    )
    assert figures.disqualify_reasons == (ReasonCount("competitor", 2), ReasonCount("student", 1))
    assert figures.recycle_reasons == (ReasonCount("budget", 1), ReasonCount("timing", 1))


async def test_earlier_weeks_headline_figures(
    db: tuple[SessionFactory, dict[str, list[int]]],
) -> None:
    sessions, _ = db
    results = []
    async with sessions() as session:
        for period in previous_periods(WEEK, 4, TOKYO):
            f = await period_figures(
                session,
                period=period,
                threshold=100,
                sla=sla_cutoffs(CONFIG.levels, CONFIG.calendar, period.end),
                detail=False,
            )
            results.append((f.created, f.claimed, f.outcomes.sql, f.sla_breaches, f.claim_times))
    assert results == [
        (10, 9, 1, 0, ClaimTimes(9, 600.0, 600.0)),
        (6, 6, 3, 0, ClaimTimes(6, 600.0, 600.0)),
        (0, 0, 0, 0, ClaimTimes(0, None, None)),
        (4, 4, 1, 0, ClaimTimes(4, 600.0, 600.0)),
    ]


async def test_unworked_mqls_past_the_sla_oldest_first_with_links(
    db: tuple[SessionFactory, dict[str, list[int]]],
) -> None:
    sessions, ids = db
    async with sessions() as session:
        sla = sla_cutoffs(CONFIG.levels, CONFIG.calendar, DIGEST_AT)
        listed, total = await unworked_mqls(session, sla=sla, limit=10)
        first, total_limited = await unworked_mqls(session, sla=sla, limit=1)
    kenji, mika = ids["week"][12], ids["week"][14]
    assert total == 2
    assert listed == (
        UnworkedMql(
            kenji, "Kenji Ito", "Nagoya Steel", "open", jst(26, 9), None, None, "C0SDR",
            _ts(listed[0]),
        ),
        UnworkedMql(
            mika, "Mika Tanaka", "Osaka Foods", "claimed", jst(27, 13), jst(27, 13, 5), "U0SDRB",
            "C0SDR", _ts(listed[1]),
        ),
    )  # fmt: skip
    assert (first, total_limited) == (listed[:1], 2)


def _ts(item: UnworkedMql) -> str:
    assert item.slack_ts is not None
    assert item.slack_ts.startswith("1764000000.")
    return item.slack_ts


async def test_recycled_leads_returning_in_the_next_two_weeks(
    db: tuple[SessionFactory, dict[str, list[int]]],
) -> None:
    sessions, ids = db
    async with sessions() as session:
        returning, total = await returning_recycled(
            session, first_day=date(2026, 11, 30), last_day=date(2026, 12, 13)
        )
    assert total == 3
    assert returning == (
        ReturningLead(ids["recycled"][0], "Yuki Mori", "Example KK", "timing", date(2026, 11, 30)),
        ReturningLead(ids["week"][5], "Sho Kato", "Example KK", "timing", date(2026, 12, 5)),
        ReturningLead(
            ids["recycled"][1],
            "Emma Brown",
            "Brown & Co",
            "competitor_contract",
            date(2026, 12, 13),
        ),
    )


async def test_an_empty_period_has_zero_figures(
    db: tuple[SessionFactory, dict[str, list[int]]],
) -> None:
    sessions, _ = db
    period = Period(jst(2, 9), jst(9, 9))
    async with sessions() as session:
        figures = await period_figures(
            session,
            period=period,
            threshold=100,
            sla=sla_cutoffs(CONFIG.levels, CONFIG.calendar, period.end),
        )
    assert (figures.created, figures.claimed, figures.sla_breaches) == (0, 0, 0)
    assert figures.claim_times == ClaimTimes(0, None, None)
    assert figures.outcomes == Outcomes()
    assert figures.conversion.display() == "0/0"
    assert figures.by_source == ()
