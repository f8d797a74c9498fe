"""The Slack app manifests agree with the Bolt app: commands, events, interactivity and scopes."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.runtime import Runtime
from bot.settings import load_settings
from bot.slack_app import build_bolt_app
from handlers.present.actions import ActionId
from handlers.present.blocks.command import SUBCOMMANDS
from manifests import load_manifest

ROOT: Final = Path(__file__).resolve().parents[1]
# Where the bot calls the Slack Web API (the stand-in is a Slack of its own, not the bot).
SOURCES: Final = [
    p for d in ("bot", "handlers") for p in (ROOT / d).rglob("*.py") if "standin" not in p.parts
]
_CALL: Final = re.compile(
    r"\.((?:chat|conversations|views|users|usergroups|files|auth|reactions|team|pins|bookmarks)"
    r"_[A-Za-z0-9_]+)\("
)
# What each Web API method needs (docs.slack.dev, method reference). Channels may be public or
# private, so channel reads need both the channels: and the groups: scope.
SCOPES: Final[dict[str, frozenset[str]]] = {
    "chat.postMessage": frozenset({"chat:write"}),
    "chat.postEphemeral": frozenset({"chat:write"}),
    "chat.update": frozenset({"chat:write"}),
    "chat.delete": frozenset({"chat:write"}),
    "chat.getPermalink": frozenset(),
    "conversations.open": frozenset({"im:write"}),
    "conversations.members": frozenset({"channels:read", "groups:read"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    "conversations.history": frozenset({"channels:history", "groups:history"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    "users.info": frozenset({"users:read"}),
    "usergroups.users.list": frozenset({"usergroups:read"}),
    "files.upload.v2": frozenset({"files:write"}),
    "views.open": frozenset(),
    "views.update": frozenset(),
    "views.push": frozenset(),
    "views.publish": frozenset(),
    "auth.test": frozenset(),
}
MANIFESTS: Final = {"http": False, "socket": True}


def called_methods() -> dict[str, list[str]]:
    """Web API method → the files calling it, found in the bot's source."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for name in _CALL.findall(path.read_text(encoding="utf-8")):
            method = name.replace("_", ".")
            found.setdefault(method, []).append(str(path.relative_to(ROOT)))
    return found


def _constraints(listener: Any, name: str) -> Iterator[str]:
    """The string a Bolt builtin matcher was built with (``command``, ``event_type``…)."""
    for matcher in listener.matchers:
        stack = [getattr(matcher, "func", None)]
        while stack:
            fn = stack.pop()
            closure = getattr(fn, "__closure__", None)
            if fn is None or not closure:
                continue
            for var, cell in zip(fn.__code__.co_freevars, closure, strict=True):
                value = cell.cell_contents
                if var == name and isinstance(value, str):
                    yield value
                elif callable(value):
                    stack.append(value)


@pytest.fixture
async def app(config_file: Path, sqlite_url: str) -> AsyncIterator[AsyncApp]:
    settings = load_settings(
        config_file,
        database_url=sqlite_url,
        SLACK_BOT_TOKEN="xoxb-manifest-test",
        SLACK_SIGNING_SECRET="manifest-test-secret",
    )
    runtime = Runtime.build(settings)
    yield build_bolt_app(runtime)
    await runtime.close()


def registered(app: AsyncApp, name: str) -> set[str]:
    return {value for listener in app._async_listeners for value in _constraints(listener, name)}


async def handled(app: AsyncApp, body: dict[str, Any]) -> bool:
    """Whether some listener of the app takes this request (Bolt's own matching)."""
    request = AsyncBoltRequest(body=body, mode="socket_mode")
    response = BoltResponse(status=200)
    for listener in app._async_listeners:
        if await listener.async_matches(req=request, resp=response):
            return True
    return False


@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
async def test_slash_commands_are_the_registered_ones(app: AsyncApp, socket: bool) -> None:
    manifest = load_manifest(socket_mode=socket)
    commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    assert commands == registered(app, "command") == {"/mql"}
    for command in commands:
        body = {"command": command, "text": "", "user_id": "U1", "team_id": "T1"}
        assert await handled(app, body), f"no listener takes {command}"


@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
def test_the_usage_hint_names_every_sub_command(socket: bool) -> None:
    (mql,) = load_manifest(socket_mode=socket)["features"]["slash_commands"]
    hint = mql["usage_hint"]
    assert [sub for sub in SUBCOMMANDS if sub not in hint] == []


@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
async def test_bot_events_are_the_registered_ones(app: AsyncApp, socket: bool) -> None:
    events = set(load_manifest(socket_mode=socket)["settings"]["event_subscriptions"]["bot_events"])
    assert events == registered(app, "event_type") == {"app_home_opened"}
    for event in events:
        body = {"type": "event_callback", "event": {"type": event, "user": "U1"}, "team_id": "T1"}
        assert await handled(app, body), f"no listener takes {event}"


BUTTONS: Final = (
    ActionId.CLAIM,
    ActionId.DISPOSITION_SQL,
    ActionId.DISPOSITION_LEAD,
    ActionId.DISPOSITION_RECYCLED,
    ActionId.DISPOSITION_DISQUALIFIED,
    ActionId.MANAGER_MENU,
    ActionId.RECYCLE_REASON,
    ActionId.HOME_OPEN_CARD,
)
MODALS: Final = tuple(a for a in ActionId if a.name.endswith("_MODAL"))


@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
def test_interactivity_is_on(socket: bool) -> None:
    assert load_manifest(socket_mode=socket)["settings"]["interactivity"]["is_enabled"] is True


@pytest.mark.parametrize("action", BUTTONS)
async def test_every_interactive_element_has_a_listener(app: AsyncApp, action: ActionId) -> None:
    body = {
        "type": "block_actions",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "actions": [{"action_id": action.value, "block_id": "b", "type": "button"}],
    }
    assert await handled(app, body)


@pytest.mark.parametrize("callback", MODALS)
async def test_every_modal_has_a_submission_listener(app: AsyncApp, callback: ActionId) -> None:
    body = {
        "type": "view_submission",
        "user": {"id": "U1"},
        "team": {"id": "T1"},
        "view": {"callback_id": callback.value, "type": "modal", "state": {"values": {}}},
    }
    assert await handled(app, body)


def test_home_tab_is_enabled_in_both_manifests() -> None:
    for socket in MANIFESTS.values():
        assert load_manifest(socket_mode=socket)["features"]["app_home"]["home_tab_enabled"]


def test_the_source_scan_finds_the_calls_it_should() -> None:
    methods = called_methods()
    assert {"chat.postMessage", "views.publish", "files.upload.v2"} <= set(methods)
    unknown = sorted(set(methods) - set(SCOPES))
    assert unknown == [], f"add the scopes of {unknown} to SCOPES (called in {methods})"


@pytest.mark.parametrize(
    "method",
    sorted(called_methods()),
)
@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
def test_scopes_cover_every_web_api_method_the_bot_calls(method: str, socket: bool) -> None:
    scopes = set(load_manifest(socket_mode=socket)["oauth_config"]["scopes"]["bot"])
    assert sorted(SCOPES[method] - scopes) == []


@pytest.mark.parametrize("socket", MANIFESTS.values(), ids=MANIFESTS.keys())
def test_slash_commands_have_the_commands_scope(socket: bool) -> None:
    manifest = load_manifest(socket_mode=socket)
    assert manifest["features"]["slash_commands"]
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]


async def test_the_probe_tells_an_unhandled_request_apart(app: AsyncApp) -> None:
    body = {"command": "/nosuch", "text": "", "user_id": "U1", "team_id": "T1"}
    assert await handled(app, body) is False
