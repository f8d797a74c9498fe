"""Which SLA reminders and escalations are due for an MQL, on the business-hours clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from scoring.clock import BusinessCalendar, add_business_time, business_elapsed
from scoring.durations import parse_duration


class Stage(StrEnum):
    """The stage whose neglect is being timed."""

    UNCLAIMED = "unclaimed"  # posted, nobody has clicked Claim
    UNWORKED = "unworked"  # claimed, no disposition yet


class Action(StrEnum):
    """What a reminder level does."""

    REMIND = "remind"  # unclaimed: the SDRs in the card's thread; unworked: a DM to the owner
    ESCALATE = "escalate"  # the managers are told


@dataclass(frozen=True)
class ReminderLevel:
    """One reminder: sent once, ``after`` business time since the stage started.

    ``level`` numbers the levels of one stage 1, 2, … in order of ``after``; the same number
    exists in both stages, so a sent reminder is unique per (MQL, stage, level).
    """

    stage: Stage
    level: int
    after: timedelta
    action: Action
    auto_assign: bool = False  # assign the MQL to an SDR by round robin (unclaimed only)


@dataclass(frozen=True)
class SlaSnapshot:
    """What the store knows about an MQL's current stage."""

    stage: Stage
    started_at: datetime  # unclaimed: when the card was posted; unworked: when it was claimed
    sent_levels: frozenset[int]  # levels of this stage already sent (or skipped, see due_levels)


@dataclass(frozen=True)
class SlaStatus:
    """The SLA figures a card shows; wording and units are left to the message layer."""

    stage: Stage
    elapsed: timedelta  # business time since the stage started
    threshold: timedelta | None  # the stage's first level, i.e. its SLA; None without levels
    over: bool  # elapsed has reached the threshold

    @property
    def elapsed_minutes(self) -> int:
        """Whole business minutes elapsed (rounded down)."""
        return int(self.elapsed // timedelta(minutes=1))


_E = TypeVar("_E", bound=StrEnum)
_LEVEL_KEYS = frozenset({"stage", "after", "action", "auto_assign"})


def default_levels(
    *,
    claim_within: timedelta,
    work_within: timedelta,
    escalate_after: timedelta,
    auto_assign: bool,
) -> tuple[ReminderLevel, ...]:
    """The two-level policy of the ``[sla]`` settings.

    Unclaimed: remind the SDRs at ``claim_within``, escalate (and auto-assign when enabled) at
    ``escalate_after``. Unworked: remind the owner at ``work_within``, escalate at
    ``escalate_after``. All are business time measured from the start of that stage (posting,
    then the claim), so ``escalate_after`` must exceed both reminder times.
    """
    for name, value in (
        ("claim_within", claim_within),
        ("work_within", work_within),
        ("escalate_after", escalate_after),
    ):
        if value <= timedelta():
            raise ValueError(f"sla {name}: must be a positive duration, got {value}")
    for name, value in (("claim_within", claim_within), ("work_within", work_within)):
        if escalate_after <= value:
            raise ValueError(
                f"sla escalate_after ({escalate_after}) must be longer than {name} ({value}): "
                "both are measured from the start of the stage"
            )
    return (
        ReminderLevel(Stage.UNCLAIMED, 1, claim_within, Action.REMIND),
        ReminderLevel(Stage.UNCLAIMED, 2, escalate_after, Action.ESCALATE, auto_assign),
        ReminderLevel(Stage.UNWORKED, 1, work_within, Action.REMIND),
        ReminderLevel(Stage.UNWORKED, 2, escalate_after, Action.ESCALATE),
    )


def parse_levels(raw: Sequence[Mapping[str, str | bool]]) -> tuple[ReminderLevel, ...]:
    """Levels from configuration entries ``{stage, after, action[, auto_assign]}``.

    Levels are numbered per stage in order of ``after``; ValueError names the bad entry.
    """
    parsed: list[tuple[Stage, timedelta, Action, bool]] = []
    for index, entry in enumerate(raw):
        where = f"sla levels[{index}]"
        unknown = sorted(set(entry) - _LEVEL_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")
        stage = _choice(Stage, entry, "stage", where)
        action = _choice(Action, entry, "action", where)
        after_text = _text(entry, "after", where)
        try:
            after = parse_duration(after_text)
        except ValueError as exc:
            raise ValueError(f"{where}.after: {exc}") from exc
        if after <= timedelta():
            raise ValueError(f"{where}.after {after_text!r}: must be a positive duration")
        auto_assign = _flag(entry.get("auto_assign", False), where)
        if auto_assign and stage is not Stage.UNCLAIMED:
            raise ValueError(f"{where}.auto_assign: only an unclaimed MQL can be auto-assigned")
        parsed.append((stage, after, action, auto_assign))
    levels: list[ReminderLevel] = []
    for stage in Stage:
        mine = sorted((p for p in parsed if p[0] is stage), key=lambda p: p[1])
        for number, (_, after, action, auto_assign) in enumerate(mine, start=1):
            if levels and levels[-1].stage is stage and levels[-1].after == after:
                raise ValueError(f"sla levels: two {stage} levels at the same time ({after})")
            levels.append(ReminderLevel(stage, number, after, action, auto_assign))
    return tuple(levels)


def due_levels(
    snapshot: SlaSnapshot,
    levels: Sequence[ReminderLevel],
    cal: BusinessCalendar,
    now: datetime,
) -> tuple[ReminderLevel, ...]:
    """The reminder to send at ``now``: none, or the single highest level whose time has come.

    Nothing is due while the calendar is closed. Levels at or below the highest one already
    sent never fire: when several are overdue at once (the first tick after a weekend, or
    after an outage), only the highest goes out and the lower ones are skipped for good, so
    nobody gets a burst of stale reminders. Record the returned level as sent.
    """
    if not cal.is_open(now):
        return ()
    pending = _pending(snapshot, levels)
    if not pending:
        return ()
    elapsed = business_elapsed(cal, snapshot.started_at, now)
    ready = [level for level in pending if level.after <= elapsed]
    return (ready[-1],) if ready else ()


def next_due_at(
    snapshot: SlaSnapshot, levels: Sequence[ReminderLevel], cal: BusinessCalendar
) -> datetime | None:
    """When (UTC) the next level can go out, within business hours; None when none is left.

    Store it indexed: the nag tick then asks only for rows with ``next_due_at <= now``.
    """
    pending = _pending(snapshot, levels)
    if not pending:
        return None
    due = add_business_time(cal, snapshot.started_at, pending[0].after)
    # A level that falls due exactly at closing time goes out at the next opening.
    return cal.next_opening(due)


def sla_status(
    snapshot: SlaSnapshot,
    levels: Sequence[ReminderLevel],
    cal: BusinessCalendar,
    now: datetime,
) -> SlaStatus:
    """Business time spent in the stage so far and whether it is over the stage's SLA."""
    elapsed = business_elapsed(cal, snapshot.started_at, now)
    mine = _stage_levels(snapshot.stage, levels)
    threshold = mine[0].after if mine else None
    over = threshold is not None and elapsed >= threshold
    return SlaStatus(snapshot.stage, elapsed, threshold, over)


def _stage_levels(stage: Stage, levels: Sequence[ReminderLevel]) -> list[ReminderLevel]:
    return sorted((level for level in levels if level.stage is stage), key=lambda lv: lv.after)


def _pending(snapshot: SlaSnapshot, levels: Sequence[ReminderLevel]) -> list[ReminderLevel]:
    """The stage's levels above every level already sent, in order of time."""
    highest_sent = max(snapshot.sent_levels, default=0)
    return [lv for lv in _stage_levels(snapshot.stage, levels) if lv.level > highest_sent]


def _text(entry: Mapping[str, str | bool], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}.{key}: required, as a string")
    return value.strip()


def _choice(kind: type[_E], entry: Mapping[str, str | bool], key: str, where: str) -> _E:
    text = _text(entry, key, where).lower()
    try:
        return kind(text)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in kind)
        raise ValueError(f"{where}.{key} {text!r}: expected one of {allowed}") from exc


def _flag(value: str | bool, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = value.strip().lower()
    if text not in {"true", "false"}:
        raise ValueError(f"{where}.auto_assign {value!r}: expected true or false")
    return text == "true"
