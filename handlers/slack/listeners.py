"""Registers every Slack listener group on the Bolt app (one `register(app, deps)` per group)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.context import Deps
from handlers.slack import claim, commands, dispositions, flag, home, manager
from handlers.slack.ack_first import AckFirst


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach all listener groups to the app, each answered at its ack (see ack_first)."""
    answering = AckFirst(app)
    for group in (claim, dispositions, flag, manager, commands, home):
        group.register(answering, deps)
