"""Scheduled jobs by name, for the scheduler and for `mqlbot jobs run NAME [--at]`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.runtime import Runtime
from bot.settings import Settings

JobFn = Callable[[Runtime, datetime], Awaitable[dict[str, Any]]]


def registry() -> dict[str, JobFn]:
    """The jobs that exist, by name."""
    return {}


class JobNotAvailable(Exception):
    """The named job is not part of this build."""


async def run_job_once(settings: Settings, name: str, at: datetime | None) -> dict[str, Any]:
    """Run one job as if at `at` (default: now) and return its summary."""
    jobs = registry()
    if name not in jobs:
        raise JobNotAvailable(f"job {name!r} is not available yet")
    runtime = Runtime.build(settings)
    try:
        return await jobs[name](runtime, at or runtime.clock())
    finally:
        await runtime.close()
