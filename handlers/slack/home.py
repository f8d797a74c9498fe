"""The App Home listener: publish a user's tab when they open it, and ack its link buttons."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from handlers.context import Deps
from handlers.present.actions import ActionId
from handlers.present.home import render_home
from handlers.slack.ack_first import ListenerApp
from store.home import first_delivery

log = logging.getLogger(__name__)


class HomePublisher(Protocol):
    """The one Web API method the tab needs (slack_sdk's AsyncWebClient, or a test fake)."""

    async def views_publish(self, *, user_id: str, view: dict[str, Any]) -> Any: ...


async def on_app_home_opened(
    event: dict[str, Any], body: dict[str, Any], client: HomePublisher, deps: Deps
) -> bool:
    """Publish the user's Home tab; returns whether it did.

    Only the Home tab (not Messages), and once per Events API delivery: Slack redelivers an
    event it got no 2xx for within 3 s even while the first attempt is still running, so the
    ``event_id`` is recorded (committed) before any work and a redelivery does nothing.
    """
    if event.get("tab", "home") != "home":
        return False
    user_id = str(event.get("user") or "")
    if not user_id:
        log.warning("app_home_opened without a user: ignored")
        return False
    now = deps.clock()
    event_id = str(body.get("event_id") or "")
    if event_id:
        async with deps.sessions() as session, session.begin():
            if not await first_delivery(session, event_id=event_id, now=now):
                return False
    async with deps.sessions() as session:
        view = await render_home(session, deps, user_id, now)
    await client.views_publish(user_id=user_id, view=view)
    return True


async def on_open_card(ack: Callable[[], Awaitable[Any]]) -> None:
    """The tab's "Open card" link button: Slack opens the URL itself but still sends the click."""
    await ack()


def register(app: ListenerApp, deps: Deps) -> None:
    """Listen to ``app_home_opened`` and the tab's link buttons."""

    async def app_home_opened(
        event: dict[str, Any], body: dict[str, Any], client: HomePublisher
    ) -> None:
        await on_app_home_opened(event, body, client, deps)

    app.event("app_home_opened")(app_home_opened)
    app.action(ActionId.HOME_OPEN_CARD.value)(on_open_card)
