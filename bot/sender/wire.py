"""What a delivery sends through: the sender's Slack client and HTTP session, every call counted."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime import Runtime
from bot.sender.policy import call_outcome


@dataclass(frozen=True)
class Wire:
    """The sender's own connections (a Slack client without slack_sdk's retries) and the runtime."""

    client: AsyncWebClient
    http: aiohttp.ClientSession
    runtime: Runtime

    async def api(self, method: str, call: Awaitable[Any]) -> Any:
        """Await one Web API call, counted in the metrics by method and outcome."""
        try:
            response = await call
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError):
                self.runtime.metrics.slack_calls.labels(
                    method=method, outcome=call_outcome(exc)
                ).inc()
            raise
        self.runtime.metrics.slack_calls.labels(method=method, outcome="ok").inc()
        return response
