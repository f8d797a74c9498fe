"""Auto-assignment at escalation: round robin among SDRs not away, fair across away and return."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select

from handlers.jobs.nag import run_nag
from store.engine import SessionFactory
from store.models import MqlState, SdrState
from store.sdrs import set_away
from tests.handlers.jobs.builders import (
    add_mql,
    audits,
    config,
    deps,
    get_mql,
    outbox,
    texts,
    tokyo,
)

SDRS = ("U0SDRA", "U0SDRB", "U0SDRC")


async def escalate(
    sessions: SessionFactory, count: int, created: datetime, tick: datetime
) -> list[str | None]:
    """Create ``count`` MQLs, run the tick at their escalation time, return their owners."""
    cfg = config(auto_assign=True)
    ids = [
        await add_mql(sessions, cfg, created_at=created, name=f"Lead {created:%d%H} {n}")
        for n in range(count)
    ]
    summary = await run_nag(deps(sessions, cfg), tick)
    assert summary["auto_assigned"] == count  # earlier ones may be escalated as unworked
    return [(await get_mql(sessions, i)).owner_id for i in ids]


async def away(sessions: SessionFactory, user: str, is_away: bool, now: datetime) -> None:
    async with sessions() as session, session.begin():
        await set_away(session, user_id=user, away=is_away, sdr_ids=SDRS, now=now)


async def counts(sessions: SessionFactory) -> dict[str, tuple[int, bool]]:
    async with sessions() as session:
        rows = await session.exec(select(SdrState).order_by(col(SdrState.user_id)))
        return {r.user_id: (r.assigned_count, r.away) for r in rows.all()}


async def test_round_robin_skips_the_away_and_gives_no_burst_on_return(
    db_sessions: SessionFactory,
) -> None:
    sessions = db_sessions
    owners = await escalate(sessions, 6, tokyo(24, 9, 0), tokyo(24, 12, 0))
    assert owners == ["U0SDRA", "U0SDRB", "U0SDRC", "U0SDRA", "U0SDRB", "U0SDRC"]

    await away(sessions, "U0SDRB", True, tokyo(24, 12, 30))
    owners = await escalate(sessions, 4, tokyo(24, 13, 0), tokyo(24, 16, 0))
    assert owners == ["U0SDRA", "U0SDRC", "U0SDRA", "U0SDRC"]
    assert await counts(sessions) == {
        "U0SDRA": (4, False),
        "U0SDRB": (2, True),
        "U0SDRC": (4, False),
    }

    # Back: B starts level with the others instead of taking the next two in a row.
    await away(sessions, "U0SDRB", False, tokyo(25, 8, 0))
    assert (await counts(sessions))["U0SDRB"] == (4, False)
    owners = await escalate(sessions, 3, tokyo(25, 9, 0), tokyo(25, 12, 0))
    assert owners == ["U0SDRA", "U0SDRB", "U0SDRC"]


async def test_a_new_sdr_starts_at_the_active_minimum(sessions: SessionFactory) -> None:
    await escalate(sessions, 3, tokyo(24, 9, 0), tokyo(24, 12, 0))
    cfg = config(auto_assign=True, sdr_users=(*SDRS, "U0SDRD"))
    ids = [
        await add_mql(sessions, cfg, created_at=tokyo(25, 9, 0), name=f"New {n}") for n in range(4)
    ]
    await run_nag(deps(sessions, cfg), tokyo(25, 12, 0))
    owners = [(await get_mql(sessions, i)).owner_id for i in ids]
    assert owners == ["U0SDRA", "U0SDRB", "U0SDRC", "U0SDRD"]


async def test_auto_assignment_claims_the_mql_and_starts_the_unworked_clock(
    sessions: SessionFactory,
) -> None:
    cfg = config(auto_assign=True)
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(24, 9, 0))
    await run_nag(deps(sessions, cfg), tokyo(24, 12, 0))
    mql = await get_mql(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.claimed_at) == (
        MqlState.CLAIMED,
        "U0SDRA",
        tokyo(24, 12, 0).astimezone(UTC),
    )
    assert mql.claim_business_seconds == 3 * 3600
    assert mql.nag_due_at == tokyo(24, 14, 0).astimezone(UTC)  # 2 h to work, from the assignment
    assert [t for _, _, t in await texts(sessions)] == [
        "<@U0MGR1> <@U0MGR2> Escalation: this MQL is still unclaimed after 3 h (business time).",
        "Nobody claimed this MQL in time: assigned to <@U0SDRA> (round robin).",
    ]
    [entry] = await audits(sessions)
    assert (entry.actor, entry.action, entry.from_state, entry.to_state, entry.detail) == (
        "system",
        "auto_assign",
        "open",
        "claimed",
        {"owner": "U0SDRA", "previous_owner": None, "level": 2, "rule": "round_robin"},
    )
    [update] = await outbox(sessions, kinds=("update",))
    assert update.dedupe_key == f"card:{mql_id}:v2"
    # The owner is then reminded like anyone who claimed it.
    await run_nag(deps(sessions, cfg), tokyo(24, 14, 0))
    assert (await texts(sessions))[-1][:2] == ("dm", "U0SDRA")


async def test_nobody_available_escalates_without_assigning(sessions: SessionFactory) -> None:
    for user in SDRS:
        await away(sessions, user, True, tokyo(24, 8, 0))
    cfg = config(auto_assign=True)
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(24, 9, 0))
    assert await run_nag(deps(sessions, cfg), tokyo(24, 12, 0)) == {
        "checked": 1,
        "unclaimed_escalated": 1,
    }
    mql = await get_mql(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.nag_due_at) == (MqlState.OPEN, None, None)
