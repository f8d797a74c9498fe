"""SLA reminder decisions: each level once, at the right business minute, never outside hours."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.clock import BusinessCalendar
from scoring.sla import (
    Action,
    ReminderLevel,
    SlaSnapshot,
    SlaStatus,
    Stage,
    default_levels,
    due_levels,
    next_due_at,
    parse_levels,
    sla_status,
)

TOKYO_TZ = ZoneInfo("Asia/Tokyo")
TOKYO = BusinessCalendar.parse(
    timezone="Asia/Tokyo",
    business_hours="09:00-18:00",
    workdays="mon-fri",
    holidays=["JP", "12-29..01-03"],
)
DEFAULTS = default_levels(
    claim_within=timedelta(minutes=15),
    work_within=timedelta(hours=24),
    escalate_after=timedelta(hours=48),
    auto_assign=True,
)
THREE_UNCLAIMED = parse_levels(
    [
        {"stage": "unclaimed", "after": "15m", "action": "remind"},
        {"stage": "unclaimed", "after": "1h", "action": "remind"},
        {"stage": "unclaimed", "after": "48h", "action": "escalate", "auto_assign": "true"},
    ]
)


def tk(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO_TZ)


def run_nag(
    stage: Stage,
    started_at: datetime,
    levels: Sequence[ReminderLevel],
    ticks: Sequence[datetime],
) -> list[tuple[int, datetime]]:
    """A stand-in nag job: at each tick send what is due and record it, as the store would."""
    sent: set[int] = set()
    log: list[tuple[int, datetime]] = []
    for now in ticks:
        snapshot = SlaSnapshot(stage, started_at, frozenset(sent))
        due = due_levels(snapshot, levels, TOKYO, now)
        # The indexed query and the decision must agree, or a reminder is late or never sent.
        upcoming = next_due_at(snapshot, levels, TOKYO)
        assert bool(due) == (upcoming is not None and now >= upcoming and TOKYO.is_open(now))
        for level in due:
            sent.add(level.level)
            log.append((level.level, now))
    return log


def every_minute(start: datetime, end: datetime) -> list[datetime]:
    count = int((end - start) / timedelta(minutes=1))
    return [start + timedelta(minutes=n) for n in range(count + 1)]


def test_default_levels() -> None:
    levels = default_levels(
        claim_within=timedelta(minutes=15),
        work_within=timedelta(hours=24),
        escalate_after=timedelta(hours=48),
        auto_assign=True,
    )
    assert levels == (
        ReminderLevel(Stage.UNCLAIMED, 1, timedelta(minutes=15), Action.REMIND),
        ReminderLevel(Stage.UNCLAIMED, 2, timedelta(hours=48), Action.ESCALATE, auto_assign=True),
        ReminderLevel(Stage.UNWORKED, 1, timedelta(hours=24), Action.REMIND),
        ReminderLevel(Stage.UNWORKED, 2, timedelta(hours=48), Action.ESCALATE),
    )


@pytest.mark.parametrize(
    ("claim", "work", "escalate", "message"),
    [
        (15, 60, 15, "escalate_after (0:15:00) must be longer than claim_within (0:15:00)"),
        (15, 120, 60, "escalate_after (1:00:00) must be longer than work_within (2:00:00)"),
        (0, 60, 120, "sla claim_within: must be a positive duration"),
        (15, 60, -1, "sla escalate_after: must be a positive duration"),
    ],
)
def test_default_levels_validation(claim: int, work: int, escalate: int, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        default_levels(
            claim_within=timedelta(minutes=claim),
            work_within=timedelta(minutes=work),
            escalate_after=timedelta(minutes=escalate),
            auto_assign=False,
        )


def test_parse_levels_numbers_each_stage_in_time_order() -> None:
    levels = parse_levels(
        [
            {"stage": "unworked", "after": "2d", "action": "escalate"},
            {"stage": "unclaimed", "after": "1h", "action": "remind"},
            {"stage": "UNCLAIMED", "after": "15m", "action": "Remind"},
            {"stage": "unworked", "after": "4h", "action": "remind", "auto_assign": "false"},
        ]
    )
    assert levels == (
        ReminderLevel(Stage.UNCLAIMED, 1, timedelta(minutes=15), Action.REMIND),
        ReminderLevel(Stage.UNCLAIMED, 2, timedelta(hours=1), Action.REMIND),
        ReminderLevel(Stage.UNWORKED, 1, timedelta(hours=4), Action.REMIND),
        ReminderLevel(Stage.UNWORKED, 2, timedelta(days=2), Action.ESCALATE),
    )
    assert THREE_UNCLAIMED[2] == ReminderLevel(
        Stage.UNCLAIMED, 3, timedelta(hours=48), Action.ESCALATE, auto_assign=True
    )


def test_parse_levels_accepts_a_toml_boolean() -> None:
    levels = parse_levels(
        [{"stage": "unclaimed", "after": "1h", "action": "escalate", "auto_assign": True}]
    )
    assert levels[0].auto_assign is True


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"stage": "claimed", "after": "1h", "action": "remind"},
            "sla levels[1].stage 'claimed': expected one of unclaimed, unworked",
        ),
        (
            {"stage": "unclaimed", "after": "1h", "action": "shout"},
            "sla levels[1].action 'shout': expected one of remind, escalate",
        ),
        (
            {"stage": "unclaimed", "after": "1x", "action": "remind"},
            "sla levels[1].after: '1x' is not a duration",
        ),
        (
            {"stage": "unclaimed", "after": "0m", "action": "remind"},
            "sla levels[1].after '0m': must be a positive duration",
        ),
        ({"stage": "unclaimed", "action": "remind"}, "sla levels[1].after: required"),
        (
            {"stage": "unclaimed", "after": "1h", "action": "remind", "when": "x"},
            "sla levels[1]: unknown key(s) when",
        ),
        (
            {"stage": "unworked", "after": "1h", "action": "escalate", "auto_assign": "true"},
            "sla levels[1].auto_assign: only an unclaimed MQL can be auto-assigned",
        ),
        (
            {"stage": "unclaimed", "after": "1h", "action": "escalate", "auto_assign": "yes"},
            "sla levels[1].auto_assign 'yes': expected true or false",
        ),
        (
            {"stage": "unclaimed", "after": "15m", "action": "escalate"},
            "sla levels: two unclaimed levels at the same time (0:15:00)",
        ),
    ],
)
def test_parse_levels_errors_name_the_bad_entry(entry: dict[str, str], message: str) -> None:
    good = {"stage": "unclaimed", "after": "15m", "action": "remind"}
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_levels([good, entry])


def test_unclaimed_levels_fire_once_each_at_the_right_business_minute() -> None:
    # Posted Tuesday 10:00; ticks every minute for eight calendar days.
    log = run_nag(
        Stage.UNCLAIMED, tk(11, 24, 10), DEFAULTS, every_minute(tk(11, 24, 10), tk(12, 2))
    )
    # 48 business hours: 8 h Tue + 9 h Wed, Thu, Fri, Mon = 44 h, then 4 h on Tuesday 12-01.
    assert log == [(1, tk(11, 24, 10, 15)), (2, tk(12, 1, 13))]


def test_unworked_levels_use_their_own_times() -> None:
    # Claimed Friday 11-20 at 12:00; Monday 11-23 is a holiday: 6 h Fri + 9 h Tue + 9 h Wed
    # runs out at Wednesday's closing, so the owner hears of it at Thursday's opening.
    log = run_nag(
        Stage.UNWORKED, tk(11, 20, 12), DEFAULTS, every_minute(tk(11, 20, 12), tk(11, 30))
    )
    assert log == [(1, tk(11, 26, 9))]
    snapshot = SlaSnapshot(Stage.UNWORKED, tk(11, 20, 12), frozenset({1}))
    # 48 h: 6 h Fri, 9 h Tue-Fri (36 h), then 6 h on Monday 11-30.
    assert next_due_at(snapshot, DEFAULTS, TOKYO) == tk(11, 30, 15)


def test_nothing_is_sent_outside_business_hours() -> None:
    # Posted Friday 17:50: the weekend and Monday's holiday go by in silence.
    ticks = every_minute(tk(11, 20, 17, 50), tk(11, 24, 10))
    log = run_nag(Stage.UNCLAIMED, tk(11, 20, 17, 50), DEFAULTS, ticks)
    assert log == [(1, tk(11, 24, 9, 5))]
    closed = [t for t in ticks if not TOKYO.is_open(t)]
    snapshot = SlaSnapshot(Stage.UNCLAIMED, tk(11, 20, 17, 50), frozenset())
    assert closed
    assert all(due_levels(snapshot, DEFAULTS, TOKYO, t) == () for t in closed)


def test_a_level_due_at_closing_goes_out_at_the_next_opening() -> None:
    snapshot = SlaSnapshot(Stage.UNCLAIMED, tk(11, 24, 17, 45), frozenset())
    assert next_due_at(snapshot, DEFAULTS, TOKYO) == tk(11, 25, 9)
    assert next_due_at(snapshot, DEFAULTS, TOKYO).tzinfo is UTC  # type: ignore[union-attr]
    assert due_levels(snapshot, DEFAULTS, TOKYO, tk(11, 24, 18)) == ()
    assert due_levels(snapshot, DEFAULTS, TOKYO, tk(11, 25, 9)) == (DEFAULTS[0],)


def test_several_levels_spread_over_a_weekend_each_come_in_turn() -> None:
    # Business time stops on the weekend, so nothing piles up: Monday 09:05, then 09:50.
    ticks = every_minute(tk(11, 27, 17, 50), tk(11, 30, 12))
    log = run_nag(Stage.UNCLAIMED, tk(11, 27, 17, 50), THREE_UNCLAIMED, ticks)
    assert log == [(1, tk(11, 30, 9, 5)), (2, tk(11, 30, 9, 50))]


def test_catch_up_sends_only_the_highest_overdue_level_and_skips_the_rest() -> None:
    # The nag job was down from Friday 10:00 to Monday 09:00: 8 business hours have passed,
    # so both reminders are overdue. Only the 1 h one goes out; the 15 m one never does.
    ticks = [tk(11, 27, 10), *every_minute(tk(11, 30, 9), tk(12, 3, 18))]
    log = run_nag(Stage.UNCLAIMED, tk(11, 27, 10), THREE_UNCLAIMED, ticks)
    # 48 h: 8 h Fri + 9 h Mon-Wed (27 h) = 35 h, then 13 h: Thu 9 h, Fri 12-04 4 h -> 13:00.
    assert log == [(2, tk(11, 30, 9))]
    later = run_nag(
        Stage.UNCLAIMED, tk(11, 27, 10), THREE_UNCLAIMED, [tk(11, 30, 9), tk(12, 4, 13)]
    )
    assert later == [(2, tk(11, 30, 9)), (3, tk(12, 4, 13))]


def test_after_a_long_outage_only_the_escalation_goes_out() -> None:
    snapshot = SlaSnapshot(Stage.UNCLAIMED, tk(11, 2, 10), frozenset())
    assert due_levels(snapshot, THREE_UNCLAIMED, TOKYO, tk(11, 24, 10)) == (THREE_UNCLAIMED[2],)
    done = SlaSnapshot(Stage.UNCLAIMED, tk(11, 2, 10), frozenset({3}))
    assert due_levels(done, THREE_UNCLAIMED, TOKYO, tk(11, 24, 10)) == ()
    assert next_due_at(done, THREE_UNCLAIMED, TOKYO) is None


def test_a_stage_without_levels_is_never_due() -> None:
    only_unclaimed = tuple(lv for lv in DEFAULTS if lv.stage is Stage.UNCLAIMED)
    snapshot = SlaSnapshot(Stage.UNWORKED, tk(11, 2, 10), frozenset())
    assert due_levels(snapshot, only_unclaimed, TOKYO, tk(11, 24, 10)) == ()
    assert next_due_at(snapshot, only_unclaimed, TOKYO) is None
    assert sla_status(snapshot, only_unclaimed, TOKYO, tk(11, 2, 11)) == SlaStatus(
        Stage.UNWORKED, timedelta(hours=1), None, over=False
    )


@pytest.mark.parametrize(
    ("now", "minutes", "over"),
    [
        (tk(11, 24, 10, 14), 14, False),
        (tk(11, 24, 10, 15), 15, True),
        (tk(11, 24, 10, 22), 22, True),  # "unclaimed 22 min — over SLA"
        (tk(11, 24, 9), 0, False),  # before the stage started
        (tk(11, 24, 23), 480, True),  # the clock stopped at 18:00
        (tk(11, 25, 9, 30), 510, True),
    ],
)
def test_sla_status_for_the_card(now: datetime, minutes: int, over: bool) -> None:
    snapshot = SlaSnapshot(Stage.UNCLAIMED, tk(11, 24, 10), frozenset())
    status = sla_status(snapshot, DEFAULTS, TOKYO, now)
    assert status == SlaStatus(
        Stage.UNCLAIMED, timedelta(minutes=minutes), timedelta(minutes=15), over
    )
    assert status.elapsed_minutes == minutes


def test_naive_now_is_refused() -> None:
    snapshot = SlaSnapshot(Stage.UNCLAIMED, tk(11, 24, 10), frozenset())
    with pytest.raises(ValueError, match="a time zone is required"):
        due_levels(snapshot, DEFAULTS, TOKYO, datetime(2026, 11, 24, 12))
