"""Answer Slack the moment a listener acks; the rest of the listener's work goes on in a task.

Bolt runs with `process_before_response=True` (its default asyncio runner polls for the ack every
10 ms, which alone broke the click-to-ack goal). In that mode Bolt answers only when the listener
returns, so a listener slowed by the database could miss Slack's 3-second deadline. Registering
through `AckFirst` restores "ack first, then the work" for every listener without polling: the
wrapper returns to Bolt as soon as `ack()` has been called, or when the listener finishes, whichever
comes first. A listener without an `ack` parameter (events) is answered at once.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

log = logging.getLogger(__name__)

Listener = Callable[..., Coroutine[Any, Any, None]]
Register = Callable[[Listener], Any]


class ListenerApp(Protocol):
    """The part of Bolt's AsyncApp the listener groups use to register themselves."""

    def action(self, constraints: Any) -> Register: ...

    def view(self, constraints: Any) -> Register: ...

    def command(self, command: Any) -> Register: ...

    def event(self, event: Any) -> Register: ...


class AckFirst:
    """Registers listeners on a Bolt app so that each is answered at its ack."""

    def __init__(self, app: ListenerApp) -> None:
        self._app = app
        self._working: set[asyncio.Task[None]] = set()

    def action(self, constraints: Any) -> Register:
        return self._wrapping(self._app.action(constraints))

    def view(self, constraints: Any) -> Register:
        return self._wrapping(self._app.view(constraints))

    def command(self, command: Any) -> Register:
        return self._wrapping(self._app.command(command))

    def event(self, event: Any) -> Register:
        return self._wrapping(self._app.event(event))

    def _wrapping(self, register: Register) -> Register:
        def decorator(listener: Listener) -> Listener:
            register(self._wrap(listener))
            return listener

        return decorator

    def _wrap(self, listener: Listener) -> Listener:
        # functools.wraps keeps the listener's parameter names visible to Bolt, which injects
        # arguments by name (it unwraps before reading the signature).
        @functools.wraps(listener)
        async def answered_at_ack(**kwargs: Any) -> None:
            acked = asyncio.Event()
            original = kwargs.get("ack")
            if original is not None:

                async def ack(*args: Any, **ack_kwargs: Any) -> Any:
                    try:
                        return await original(*args, **ack_kwargs)
                    finally:
                        acked.set()

                kwargs["ack"] = ack
            else:
                acked.set()
            work = asyncio.create_task(listener(**kwargs))
            waiting = asyncio.create_task(acked.wait())
            done, _ = await asyncio.wait({work, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if work in done:
                work.result()  # errors before or at the ack reach Bolt's error handler
                return
            self._working.add(work)
            work.add_done_callback(functools.partial(self._finished, name=listener.__name__))

        return answered_at_ack

    def _finished(self, task: asyncio.Task[None], *, name: str) -> None:
        self._working.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # After the ack no HTTP answer is left to carry the error: log it with its traceback,
            # as Bolt's global error handler would.
            log.error("Slack listener %s failed after its ack", name, exc_info=error)
