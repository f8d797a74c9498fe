"""Registers every Slack listener group on the Bolt app (one `register(app, deps)` per group)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.context import Deps
from handlers.slack import claim, commands, dispositions, home, manager


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach all listener groups to the app."""
    claim.register(app, deps)
    dispositions.register(app, deps)
    manager.register(app, deps)
    commands.register(app, deps)
    home.register(app, deps)
