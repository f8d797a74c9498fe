"""Registers every Slack listener group on the Bolt app (one `register(app, deps)` per group)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.context import Deps


def register(app: AsyncApp, deps: Deps) -> None:
    """Attach all listener groups to the app."""
    del app, deps  # listener groups are added here, one line each, as they are built
