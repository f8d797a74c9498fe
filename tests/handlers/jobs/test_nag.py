"""The nag tick: each level once, at its business minute, never off hours; escalation; the owner's DM."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.jobs.nag import run_nag
from handlers.present.views import SlaStage, SlaView
from handlers.sla import card_sla, initial_nag_due, on_claimed
from store.engine import SessionFactory
from store.models import MqlState
from tests.handlers.jobs.builders import (
    add_mql,
    config,
    deps,
    get_mql,
    minutes,
    outbox,
    reminders,
    texts,
    tokyo,
)

SDRS = "<@U0SDRA> <@U0SDRB> <@U0SDRC>"
MANAGERS = "<@U0MGR1> <@U0MGR2>"


async def drive(
    sessions: SessionFactory, ticks: list[datetime], **cfg: Any
) -> dict[datetime, dict[str, Any]]:
    """Run the tick at each instant; keep only the ticks that did something."""
    d = deps(sessions, config(**cfg))
    busy = {}
    for at in ticks:
        summary = await run_nag(d, at)
        if summary["checked"]:
            busy[at] = summary
    return busy


async def test_unclaimed_remind_then_escalate_each_once_at_its_business_minute(
    db_sessions: SessionFactory,
) -> None:
    sessions = db_sessions
    cfg = config()
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(24, 10, 15))
    busy = await drive(sessions, minutes(tokyo(24, 10, 15), tokyo(24, 14, 0)))
    assert busy == {
        tokyo(24, 10, 30): {"checked": 1, "unclaimed_reminded": 1},
        tokyo(24, 13, 15): {"checked": 1, "unclaimed_escalated": 1},
    }
    assert await reminders(sessions) == [
        (mql_id, "unclaimed", 1, tokyo(24, 10, 30)),
        (mql_id, "unclaimed", 2, tokyo(24, 13, 15)),
    ]
    assert await texts(sessions) == [
        (
            "reply",
            "C0SDR",
            f"{SDRS} This MQL has been unclaimed for 15 min (business time). Who takes it?",
        ),
        (
            "reply",
            "C0SDR",
            f"{MANAGERS} Escalation: this MQL is still unclaimed after 3 h (business time).",
        ),
    ]
    replies = await outbox(sessions, kinds=("reply",))
    assert {r.target_key for r in replies} == {f"card:{mql_id}"}
    mql = await get_mql(sessions, mql_id)
    assert mql.sla_breached is True
    assert mql.nag_due_at is None  # no unclaimed level left; the claim starts the next clock
    assert mql.version == 3
    updates = await outbox(sessions, kinds=("update",))
    assert [u.dedupe_key for u in updates] == [f"card:{mql_id}:v2", f"card:{mql_id}:v3"]
    assert [u.status for u in updates] == ["superseded", "pending"]
    assert updates[-1].payload["ts"] == "1764000000.123456"
    # The card shows its SLA state as of the tick.
    assert ":rotating_light: Unclaimed 15 min — over SLA" in json.dumps(
        updates[0].payload["blocks"], ensure_ascii=False
    )
    assert ":rotating_light: Unclaimed 3 h — over SLA" in json.dumps(
        updates[1].payload["blocks"], ensure_ascii=False
    )


async def test_no_reminder_outside_business_hours_or_on_a_japanese_holiday(
    sessions: SessionFactory,
) -> None:
    cfg = config()
    # Friday 20 Nov 2026, 17:50: ten business minutes left today; Mon 23 Nov is a holiday
    # (Labour Thanksgiving Day), so the remaining five run on Tuesday from 09:00.
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(20, 17, 50))
    assert (await get_mql(sessions, mql_id)).nag_due_at == tokyo(24, 9, 5).astimezone(UTC)
    friday = minutes(tokyo(20, 17, 50), tokyo(20, 18, 30))
    closed = [tokyo(20, 18, 30) + timedelta(minutes=10 * n) for n in range(1, 518)]
    tuesday = minutes(tokyo(24, 8, 50), tokyo(24, 9, 10))
    assert closed[-1] < tuesday[0]
    busy = await drive(sessions, friday + closed + tuesday)
    assert busy == {tokyo(24, 9, 5): {"checked": 1, "unclaimed_reminded": 1}}
    assert await reminders(sessions) == [(mql_id, "unclaimed", 1, tokyo(24, 9, 5))]


async def test_an_overdue_mql_waits_for_the_opening_without_being_read_every_minute(
    sessions: SessionFactory,
) -> None:
    cfg = config()
    # Due on Friday at 17:00, but no tick ran then (an outage): Saturday's tick finds it overdue.
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(20, 16, 45))
    busy = await drive(sessions, [tokyo(21, 10, 0), tokyo(21, 10, 1)])
    assert busy == {tokyo(21, 10, 0): {"checked": 1, "waiting": 1}}
    assert (await get_mql(sessions, mql_id)).nag_due_at == tokyo(24, 9, 0).astimezone(UTC)
    assert await texts(sessions) == []


async def test_after_an_outage_only_the_highest_due_level_goes_out(
    sessions: SessionFactory,
) -> None:
    cfg = config()
    mql_id = await add_mql(sessions, cfg, created_at=tokyo(24, 9, 0))
    busy = await drive(sessions, [tokyo(24, 15, 0), tokyo(24, 15, 1)])
    assert busy == {tokyo(24, 15, 0): {"checked": 1, "unclaimed_escalated": 1}}
    assert await reminders(sessions) == [(mql_id, "unclaimed", 2, tokyo(24, 15, 0))]
    assert [t for _, _, t in await texts(sessions)] == [
        f"{MANAGERS} Escalation: this MQL is still unclaimed after 6 h (business time)."
    ]


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [
        ({"sdr_users": (), "sdr_usergroup": "S0SDRS"}, "<!subteam^S0SDRS>"),
        ({"sdr_users": ("U0SDRA",), "sdr_usergroup": "S0SDRS"}, "<@U0SDRA> <!subteam^S0SDRS>"),
        ({"mention": "channel"}, "<!channel>"),
        ({"mention": "here"}, "<!here>"),
        ({"sdr_users": (), "sdr_usergroup": None}, "<!channel>"),
    ],
)
async def test_who_the_unclaimed_reminder_mentions(
    sessions: SessionFactory, changes: dict[str, Any], mentions: str
) -> None:
    cfg = config(**changes)
    await add_mql(sessions, cfg, created_at=tokyo(24, 10, 0))
    await drive(sessions, [tokyo(24, 10, 15)], **changes)
    assert [t for _, _, t in await texts(sessions)] == [
        f"{mentions} This MQL has been unclaimed for 15 min (business time). Who takes it?"
    ]


async def test_claimed_mql_dms_its_owner_then_escalates_to_managers(
    db_sessions: SessionFactory,
) -> None:
    sessions = db_sessions
    cfg = config()
    claimed = tokyo(24, 16, 30)
    mql_id = await add_mql(
        sessions,
        cfg,
        created_at=tokyo(24, 16, 20),
        state=MqlState.CLAIMED,
        owner_id="U0SDRB",
        claimed_at=claimed,
        nag_due_at=on_claimed_at(claimed),
    )
    # 2 business hours after 16:30 Tuesday is Wednesday 09:30 (1.5 h today, 0.5 h tomorrow);
    # 3 h is Wednesday 10:30.
    evening = minutes(tokyo(24, 16, 30), tokyo(24, 18, 5))
    morning = minutes(tokyo(25, 8, 55), tokyo(25, 11, 0))
    busy = await drive(sessions, evening + morning)
    assert busy == {
        tokyo(25, 9, 30): {"checked": 1, "owner_reminded": 1},
        tokyo(25, 10, 30): {"checked": 1, "unworked_escalated": 1},
    }
    link = "<https://slack.com/archives/C0SDR/p1764000000123456|Aiko Sato>"
    assert await texts(sessions) == [
        (
            "dm",
            "U0SDRB",
            f"Reminder: you claimed {link} 2 h ago (business time) and it has no disposition yet.",
        ),
        (
            "reply",
            "C0SDR",
            f"{MANAGERS} Escalation: <@U0SDRB> claimed this MQL 3 h ago (business time) "
            "and it has no disposition yet.",
        ),
    ]
    dm = (await outbox(sessions, kinds=("dm",)))[0]
    assert dm.payload == {"user": "U0SDRB", "text": dm.payload["text"]}
    assert dm.target_key is None  # a DM is not part of the card's thread
    assert await reminders(sessions) == [
        (mql_id, "unworked", 1, tokyo(25, 9, 30)),
        (mql_id, "unworked", 2, tokyo(25, 10, 30)),
    ]
    assert (await get_mql(sessions, mql_id)).nag_due_at is None


def on_claimed_at(claimed_at: datetime) -> datetime | None:
    from store.models import Mql

    return on_claimed(Mql(lead_id=0, kind="x", score=0, claimed_at=claimed_at), config())


async def test_the_dm_without_a_posted_card_names_the_lead_without_a_link(
    sessions: SessionFactory,
) -> None:
    cfg = config()
    await add_mql(
        sessions,
        cfg,
        created_at=tokyo(24, 9, 0),
        state=MqlState.CLAIMED,
        owner_id="U0SDRA",
        claimed_at=tokyo(24, 9, 0),
        nag_due_at=on_claimed_at(tokyo(24, 9, 0)),
        posted=False,
        name="佐藤 愛子",
    )
    await drive(sessions, [tokyo(24, 11, 0)])
    assert [t for _, _, t in await texts(sessions)] == [
        "Reminder: you claimed 佐藤 愛子 2 h ago (business time) and it has no disposition yet."
    ]


async def test_a_dispositioned_mql_with_a_stale_due_time_is_cleared_silently(
    sessions: SessionFactory,
) -> None:
    cfg = config()
    mql_id = await add_mql(
        sessions,
        cfg,
        created_at=tokyo(24, 9, 0),
        state=MqlState.SQL,
        owner_id="U0SDRA",
        claimed_at=tokyo(24, 9, 1),
        nag_due_at=tokyo(24, 9, 15),
    )
    busy = await drive(sessions, [tokyo(24, 9, 30)])
    assert busy == {tokyo(24, 9, 30): {"checked": 1, "closed": 1}}
    assert (await get_mql(sessions, mql_id)).nag_due_at is None
    assert await outbox(sessions) == []


async def test_one_broken_mql_never_stops_the_batch(
    sessions: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = config()
    broken = await add_mql(
        sessions,
        cfg,
        created_at=tokyo(24, 9, 0),
        name="Broken",
        state=MqlState.CLAIMED,
        owner_id="U0SDRA",
        claimed_at=None,
        nag_due_at=tokyo(24, 9, 15),
    )
    fine = [
        await add_mql(sessions, cfg, created_at=tokyo(24, 9, 0), name=f"Lead {n}") for n in range(3)
    ]
    d = deps(sessions, cfg)
    summary = await run_nag(d, tokyo(24, 9, 15), batch=2)
    assert summary == {"checked": 4, "failed": 1, "unclaimed_reminded": 3}
    assert sorted(m for m, *_ in await reminders(sessions)) == fine
    assert f"nag: MQL {broken} failed" in caplog.text
    # The broken one stays due and is tried again on the next tick; the others are not.
    assert await run_nag(d, tokyo(24, 9, 16)) == {"checked": 1, "failed": 1}


def test_sla_helpers_for_other_handlers() -> None:
    cfg = config()
    assert initial_nag_due(tokyo(24, 8, 0), cfg) == tokyo(24, 9, 15).astimezone(UTC)
    from store.models import Mql

    mql = Mql(lead_id=1, kind="threshold", score=1, created_at=tokyo(24, 10, 0))
    assert card_sla(mql, cfg, tokyo(24, 10, 22)) == SlaView(
        SlaStage.UNCLAIMED, timedelta(minutes=22), over_sla=True
    )
    mql.state, mql.claimed_at, mql.owner_id = MqlState.CLAIMED, tokyo(24, 10, 22), "U1"
    assert card_sla(mql, cfg, tokyo(24, 10, 30)) == SlaView(
        SlaStage.UNWORKED, timedelta(minutes=8), over_sla=False
    )
    assert on_claimed(mql, cfg) == tokyo(24, 12, 22).astimezone(UTC)
    mql.state = MqlState.LEAD
    assert card_sla(mql, cfg, tokyo(24, 10, 30)) is None
    with pytest.raises(ValueError, match="needs claimed_at"):
        on_claimed(Mql(lead_id=1, kind="t", score=1), cfg)
