"""The App Home's content: load and render a user's tab, and queue rate-limited refreshes.

The listener (``handlers.slack.home``) publishes at once when a user opens the tab. Changes to
someone's MQLs refresh their tab through the outbox instead, at most one publish per user per
minute: ``enqueue_home_refresh`` renders the *current* state in the caller's transaction and
queues it under ``home:<user>:<minute>``. A second change in the
same minute replaces the waiting row's view; if that row is already sent or on its way, the
newest view waits in the next minute's row (due at that minute), so the last state always
arrives and never more than once a minute.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, overload

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.present.blocks import HOME_ITEMS, home_view
from handlers.present.cards import permalink
from handlers.present.catalog import catalog_of
from handlers.present.views import (
    CardState,
    HomeItem,
    HomeView,
    SdrCount,
    SlaStage,
    SlaView,
    TeamView,
    WeekFigures,
)
from scoring.digest import sla_cutoffs, stats_period
from scoring.sla import SlaSnapshot, Stage, sla_status
from store.funnel import sdr_funnel
from store.home import (
    MqlRow,
    claimed_by,
    overdue,
    owner_loads,
    owner_week,
    replace_pending_home,
    unclaimed,
)
from store.models import OutboxKind
from store.outbox import enqueue
from store.sdrs import away_sdrs

log = logging.getLogger(__name__)

REFRESH_BUCKET: Final = timedelta(minutes=1)
"""At most one queued App Home publish per user per bucket."""


class _Listed(Sequence[HomeItem]):
    """The first items of a list with the length of the whole list.

    The builder shows ``HOME_ITEMS`` and says "+N more" from ``len``: this gives it the true
    count without loading the rows it will not show.
    """

    def __init__(self, shown: Sequence[HomeItem], total: int) -> None:
        self._shown = list(shown)
        self._total = max(total, len(self._shown))

    def __len__(self) -> int:
        return self._total

    @overload
    def __getitem__(self, index: int) -> HomeItem: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[HomeItem]: ...
    def __getitem__(self, index: int | slice) -> HomeItem | Sequence[HomeItem]:
        if isinstance(index, slice):
            return self._shown[index]
        if not -self._total <= index < self._total:
            raise IndexError(index)
        if index >= len(self._shown) or index < 0:
            raise IndexError(f"item {index} of the list was not loaded")
        return self._shown[index]

    def __iter__(self) -> Iterator[HomeItem]:
        return iter(self._shown)


def week_start(now: datetime, deps: Deps) -> datetime:
    """Monday 00:00 of ``now``'s week in the SLA time zone (the App Home's "your week")."""
    local = now.astimezone(deps.config.timezone)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, datetime.min.time(), tzinfo=deps.config.timezone)


def _sla(row: MqlRow, deps: Deps, now: datetime) -> SlaView | None:
    if row.state == CardState.OPEN:
        snapshot = SlaSnapshot(Stage.UNCLAIMED, row.created_at, frozenset())
    elif row.state == CardState.CLAIMED and row.claimed_at is not None:
        snapshot = SlaSnapshot(Stage.UNWORKED, row.claimed_at, frozenset())
    else:
        return None
    status = sla_status(snapshot, deps.config.levels, deps.config.calendar, now)
    return SlaView(SlaStage(status.stage.value), status.elapsed, status.over)


def home_item(row: MqlRow, deps: Deps, now: datetime) -> HomeItem:
    """One listed MQL with its card link and SLA state as of ``now``."""
    return HomeItem(
        mql_id=str(row.mql_id),
        lead_name=row.name or "",
        company=row.company or "",
        score=round(row.score),
        state=CardState(row.state),
        created_at=row.created_at,
        owner_id=row.owner_id,
        permalink=permalink(row.slack_channel, row.slack_ts),
        sla=_sla(row, deps, now),
    )


def _items(rows: Sequence[MqlRow], total: int, deps: Deps, now: datetime) -> Sequence[HomeItem]:
    return _Listed([home_item(row, deps, now) for row in rows], total)


async def load_team(session: AsyncSession, deps: Deps, now: datetime) -> TeamView:
    """The managers' view: unclaimed MQLs, MQLs past their SLA, and each SDR's load."""
    cutoffs = sla_cutoffs(deps.config.levels, deps.config.calendar, now)
    open_rows, open_total = await unclaimed(session, limit=HOME_ITEMS)
    late_rows, late_total = await overdue(
        session,
        claim_cutoff=cutoffs.claim_cutoff,
        work_cutoff=cutoffs.work_cutoff,
        limit=HOME_ITEMS,
    )
    loads = {
        load.owner_id: load for load in await owner_loads(session, work_cutoff=cutoffs.work_cutoff)
    }
    away = await away_sdrs(session)
    # Configured SDRs with nothing on their plate are news for a manager too: list them at 0.
    per_sdr = [SdrCount(o, load.open, load.overdue, o in away) for o, load in loads.items()]
    per_sdr += [SdrCount(u, 0, 0, u in away) for u in deps.config.sdr_users if u not in loads]
    quarter = stats_period("quarter", now)
    return TeamView(
        unclaimed_count=open_total,
        unclaimed=_items(open_rows, open_total, deps, now),
        overdue=_items(late_rows, late_total, deps, now),
        per_sdr=per_sdr,
        funnel=await sdr_funnel(session, period=quarter, as_of=now),
    )


async def load_home(session: AsyncSession, deps: Deps, user_id: str, now: datetime) -> HomeView:
    """Everything ``user_id``'s tab shows as of ``now`` (a handful of indexed queries)."""
    rows, total = await claimed_by(session, owner_id=user_id, limit=HOME_ITEMS)
    week = await owner_week(session, owner_id=user_id, start=week_start(now, deps), end=now)
    median = week.median_claim_seconds
    is_manager = user_id in deps.config.managers
    return HomeView(
        user_id=user_id,
        is_manager=is_manager,
        my_open=_items(rows, total, deps, now),
        my_week=WeekFigures(
            claimed=week.claimed,
            sql=week.sql,
            lead=week.lead,
            recycled=week.recycled,
            disqualified=week.disqualified,
            median_time_to_claim=None if median is None else timedelta(seconds=median),
        ),
        team=await load_team(session, deps, now) if is_manager else None,
    )


async def render_home(
    session: AsyncSession, deps: Deps, user_id: str, now: datetime
) -> dict[str, Any]:
    """The ``views.publish`` view of ``user_id``'s tab as of ``now``."""
    view = await load_home(session, deps, user_id, now)
    return home_view(view, catalog_of(deps), now)


def _bucket(now: datetime) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return (now - (now - epoch) % REFRESH_BUCKET).astimezone(UTC)


def refresh_key(user_id: str, bucket: datetime) -> str:
    """The outbox dedupe key of a user's tab refresh in one time bucket."""
    return f"home:{user_id}:{bucket.astimezone(UTC):%Y%m%dT%H%MZ}"


async def enqueue_home_refresh(session: AsyncSession, deps: Deps, user_id: str) -> int | None:
    """Queue a refresh of ``user_id``'s Home tab with its state as of now, in the caller's transaction.

    Call it after the change is written (the view is rendered from this session). Returns the
    new outbox row id, or None when a waiting row of this user took the newer view instead.
    """
    view = await render_home(session, deps, user_id, deps.clock())
    return await _queue_home(session, deps, user_id, view)


async def _queue_home(
    session: AsyncSession, deps: Deps, user_id: str, view: dict[str, Any]
) -> int | None:
    payload = {"user_id": user_id, "view": view}
    queued = deps.queued_at()
    bucket = _bucket(queued)
    for due in (bucket, bucket + REFRESH_BUCKET):
        key = refresh_key(user_id, due)
        row_id = await enqueue(
            session, dedupe_key=key, kind=OutboxKind.HOME, payload=payload, now=max(queued, due)
        )
        if row_id is not None:
            return row_id
        if await replace_pending_home(session, dedupe_key=key, payload=payload):
            return None
    # Both this and the next minute's rows are on their way already: the next change queues again.
    log.info("home refresh of %s skipped: two publishes already under way", user_id)
    return None


async def enqueue_home_refreshes(
    session: AsyncSession, deps: Deps, user_ids: Iterable[str | None], *, managers: bool = True
) -> None:
    """Refresh each named user's tab (None and repeats are skipped) and, by default, every manager's
    (their team view counts every MQL).

    Every view is rendered before the first row is written: a manager's row is shared by every
    change made in the same minute, on every replica, and its lock lasts until the commit.
    Rendering while holding one made all the team's changes wait in line behind each other.
    Call it last in the transaction.
    """
    wanted = {u for u in user_ids if u}
    if managers:
        wanted |= deps.config.managers
    now = deps.clock()
    views = [
        (user_id, await render_home(session, deps, user_id, now)) for user_id in sorted(wanted)
    ]
    for user_id, view in views:
        await _queue_home(session, deps, user_id, view)
