"""The background half of the bot: the Slack sender and the scheduler, run inside `serve` or alone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from bot.runtime import Runtime
from bot.scheduler import scheduler_loop
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.sender import SenderOptions

log = logging.getLogger(__name__)

# Long-running loops started by `background`; each takes the runtime and a stop event.
Loop = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


def loops() -> list[tuple[str, Loop]]:
    """The background loops of a worker, in start order."""
    from bot.sender import run_sender

    return [("scheduler", scheduler_loop), ("sender", run_sender)]


@asynccontextmanager
async def background(
    runtime: Runtime, *, only: frozenset[str] | None = None
) -> AsyncIterator[None]:
    """Run the background loops (all, or those named in `only`) until the block exits, then stop
    them and wait for them."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(loop(runtime, stop), name=f"mqlbot-{name}")
        for name, loop in loops()
        if only is None or name in only
    ]
    try:
        yield
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                try:
                    await asyncio.wait_for(task, timeout=10)
                except TimeoutError:
                    log.warning("background loop %s did not stop in time", task.get_name())


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM."""
    import signal

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def run_until_signalled(runtime: Runtime) -> None:
    """`mqlbot worker`: run the background loops until SIGINT or SIGTERM."""
    stop = _stop_on_signals()
    try:
        async with background(runtime):
            log.info("worker running: %s", ", ".join(name for name, _ in loops()) or "nothing")
            await stop.wait()
    finally:
        await runtime.close()


async def run_sender_until_signalled(settings: Settings, options: SenderOptions) -> None:
    """`mqlbot sender`: the sender alone, drained with ``options``, until SIGINT or SIGTERM."""
    from bot.sender import Sender

    runtime = Runtime.build(settings)
    stop = _stop_on_signals()
    try:
        async with Sender(runtime, options) as sender:
            await sender.run(stop)
    finally:
        await runtime.close()
