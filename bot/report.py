"""`mqlbot report …`: the funnel and the threshold calibration for analysts, as text to print."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from bot.runtime import Runtime
from bot.settings import Settings

DEFAULT_DAYS: Final = 90


def parse_bound(text: str, tz: ZoneInfo, *, end: bool) -> datetime:
    """A day in the SLA time zone (an end day is included) or an ISO instant with its offset."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1) if end else day, time(), tzinfo=tz)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a date (YYYY-MM-DD) nor an ISO-8601 instant"
        ) from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (e.g. 2026-11-24T09:00:00+09:00)")
    return moment


def period_of(
    settings: Settings, start: str | None, end: str | None, now: datetime
) -> tuple[datetime, datetime]:
    """The report's ``[from, to)``; ValueError naming the bad bound."""
    tz = ZoneInfo(settings.sla.timezone)
    to = now if end is None else parse_bound(end, tz, end=True)
    since = (
        to - timedelta(days=DEFAULT_DAYS) if start is None else parse_bound(start, tz, end=False)
    )
    if to <= since:
        raise ValueError(f"--to ({to.isoformat()}) must be after --from ({since.isoformat()})")
    return since, to


async def funnel_text(
    settings: Settings, start: str | None, end: str | None, by: str, fmt: str
) -> str:
    from handlers.funnel import funnel_figures
    from handlers.present.funnel_report import format_report

    runtime = Runtime.build(settings)
    try:
        now = runtime.clock()
        since, to = period_of(settings, start, end, now)
        report, _ = await funnel_figures(runtime.deps, since, to, by=by, as_of=now)
        return format_report(report, fmt)
    finally:
        await runtime.close()


async def calibration_text(settings: Settings, days: int | None, fmt: str) -> str:
    from handlers.funnel import calibration_figures
    from handlers.present.funnel_report import format_calibration

    runtime = Runtime.build(settings)
    try:
        return format_calibration(
            await calibration_figures(runtime.deps, runtime.clock(), days=days), fmt
        )
    finally:
        await runtime.close()
