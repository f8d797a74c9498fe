"""The Bolt AsyncApp: signature checking, the global error handler and the listener groups."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltError
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.runtime import Runtime
from handlers.slack import listeners

log = logging.getLogger(__name__)


class _UnusedTokenNotice(logging.Filter):
    """Drops Bolt's "`token` will be unused" warning, logged at every start otherwise.

    Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client, and then
    warns that the token goes unused; the bot's client is built from that very token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


log.addFilter(_UnusedTokenNotice())


async def _on_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    # Known problems are answered to the user by the listeners themselves; anything reaching
    # here is a bug or an outage: log it with its traceback and the request type, never swallow.
    kind = body.get("type") or body.get("command") or "unknown"
    logger.error("unhandled error in Slack listener (%s)", kind, exc_info=error)


def build_bolt_app(runtime: Runtime) -> AsyncApp:
    """The Bolt app for HTTP mode; refuses to build without a signing secret."""
    settings = runtime.settings
    if settings.slack_signing_secret is None:
        raise BoltError("SLACK_SIGNING_SECRET is required for the Slack endpoint")
    app = AsyncApp(
        client=runtime.slack,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        logger=log,
    )
    app.error(_on_error)
    listeners.register(app, runtime.deps)
    return app
