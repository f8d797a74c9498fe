"""`mqlbot socket`: Slack over Socket Mode (no public URL) while the webhooks are served over HTTP."""

from __future__ import annotations

import asyncio

import uvicorn
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.runtime import Runtime
from bot.settings import Settings
from bot.slack_app import build_bolt_app
from bot.web import create_web_app
from bot.worker import background


async def _run(settings: Settings, host: str, port: int) -> None:
    assert settings.slack_app_token is not None
    runtime = Runtime.build(settings)
    bolt = build_bolt_app(runtime)
    web = create_web_app(runtime, background=lambda _app: background(runtime))
    server = uvicorn.Server(uvicorn.Config(web, host=host, port=port, log_level="info"))
    handler = AsyncSocketModeHandler(bolt, settings.slack_app_token.get_secret_value())
    try:
        await asyncio.gather(handler.start_async(), server.serve())  # type: ignore[no-untyped-call]
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
        await runtime.close()


def run_socket_mode(settings: Settings, *, host: str, port: int) -> None:
    """Run until interrupted."""
    asyncio.run(_run(settings, host, port))
