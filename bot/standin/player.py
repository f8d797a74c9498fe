"""Plays Slack users against the bot: signed clicks, modal submissions, commands and events."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.standin.state import Clock, JsonDict, View, Workspace

FORM = "application/x-www-form-urlencoded"
# Slack still sends the legacy verification token in every payload; Bolt ignores it.
VERIFICATION_TOKEN = "standin-verification-token"  # noqa: S105 (a fake, not a secret)


@dataclass(frozen=True)
class BotResponse:
    """What the bot answered to a request Slack (the player) sent it."""

    status: int
    body: str
    headers: Mapping[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Button:
    """A button found by its visible label."""

    action_id: str
    value: str
    block_id: str
    element: JsonDict


def slack_signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's v0 request signature: `v0=` + hex HMAC-SHA256 of `v0:{ts}:{body}`."""
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def _buttons(message_blocks: list[JsonDict]) -> list[Button]:
    found: list[Button] = []
    for index, block in enumerate(message_blocks):
        # Slack gives every block an id; blocks sent without one get a stable stand-in id.
        block_id = str(block.get("block_id") or f"standin-block-{index}")
        candidates = list(block.get("elements", [])) if block.get("type") == "actions" else []
        if block.get("type") == "section" and isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("type") == "button":
                found.append(
                    Button(
                        action_id=str(element.get("action_id", "")),
                        value=str(element.get("value", "")),
                        block_id=block_id,
                        element=element,
                    )
                )
    return found


def _label(button: Button) -> str:
    text = button.element.get("text")
    return str(text.get("text", "")).strip() if isinstance(text, dict) else ""


class SlackUserPlayer:
    """Sends the bot exactly what Slack would when a user clicks, submits, types or opens.

    Requests are signed with `signing_secret` and posted to `<bot_url>/slack/events`.
    `response_url_base` is the stand-in's root URL, so the bot's `respond()` lands in `state`.
    """

    def __init__(
        self,
        bot_url: str,
        signing_secret: str,
        state: Workspace,
        *,
        client: httpx.AsyncClient | None = None,
        events_path: str = "/slack/events",
        response_url_base: str | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.url = bot_url.rstrip("/") + events_path
        self.signing_secret = signing_secret
        self.state = state
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._owns_client = client is None
        self.response_url_base = response_url_base.rstrip("/") if response_url_base else None
        self.clock = clock

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> SlackUserPlayer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ----- raw requests ----------------------------------------------------------------------

    def signed_headers(
        self, body: bytes, *, timestamp: int | None = None, content_type: str = FORM
    ) -> dict[str, str]:
        """Headers Slack adds; pass an old `timestamp` to build a replayed request."""
        ts = int(self.clock()) if timestamp is None else timestamp
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": slack_signature(self.signing_secret, ts, body),
        }

    async def send(
        self,
        body: bytes,
        *,
        content_type: str = FORM,
        timestamp: int | None = None,
        signature: str | None = None,
        signed: bool = True,
        extra_headers: Mapping[str, str] | None = None,
    ) -> BotResponse:
        """POST a body to the bot. `signature` forges one; `signed=False` sends no signature."""
        if signed:
            headers = self.signed_headers(body, timestamp=timestamp, content_type=content_type)
            if signature is not None:
                headers["X-Slack-Signature"] = signature
        else:
            headers = {"Content-Type": content_type}
        headers.update(extra_headers or {})
        response = await self._client.post(self.url, content=body, headers=headers)
        return BotResponse(response.status_code, response.text, dict(response.headers))

    async def send_payload(self, payload: JsonDict, **kwargs: Any) -> BotResponse:
        """An interactivity payload, form-encoded as `payload=<json>` like Slack sends it."""
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)}).encode()
        return await self.send(body, **kwargs)

    # ----- shared payload parts --------------------------------------------------------------

    def _team(self) -> JsonDict:
        return {"id": self.state.team_id, "domain": self.state.team_domain}

    def _user(self, user_id: str) -> JsonDict:
        user = self.state.user(user_id)
        return {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": self.state.team_id,
        }

    def _response_url(self, channel_id: str, user_id: str, message_ts: str | None) -> str:
        token = self.state.issue_response_url(channel_id, user_id, message_ts)
        if self.response_url_base is None:
            # Shaped like Slack's, but nothing answers it: pass response_url_base to use it.
            return f"https://hooks.slack.com/actions/{self.state.team_id}/{token}"
        return f"{self.response_url_base}/_standin/respond/{token}"

    # ----- buttons ---------------------------------------------------------------------------

    def buttons(self, channel: str, ts: str) -> list[Button]:
        """Buttons of the latest version of a message, in display order."""
        return _buttons(self.state.message(channel, ts).blocks)

    def find_button(self, channel: str, ts: str, label: str) -> tuple[str, str, str]:
        """(action_id, value, block_id) of the button showing `label` in the message now."""
        buttons = self.buttons(channel, ts)
        for button in buttons:
            if _label(button) == label.strip():
                return button.action_id, button.value, button.block_id
        shown = ", ".join(repr(_label(b)) for b in buttons) or "none"
        raise LookupError(
            f"no button labelled {label!r} in message {ts} of {channel}; buttons shown: {shown}"
        )

    async def click_button(
        self,
        user_id: str,
        channel: str,
        message_ts: str,
        action_id: str,
        value: str,
        block_id: str | None = None,
    ) -> BotResponse:
        """A `block_actions` payload for a click on a message button."""
        message = self.state.message(channel, message_ts)
        match = next((b for b in _buttons(message.blocks) if b.action_id == action_id), None)
        element = match.element if match else {}
        action: JsonDict = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id or (match.block_id if match else "standin-block"),
            "text": element.get("text", {"type": "plain_text", "text": action_id}),
            "value": value,
        }
        if "style" in element:
            action["style"] = element["style"]
        return await self.block_action(user_id, action, channel=channel, message_ts=message_ts)

    async def block_action(
        self,
        user_id: str,
        action: JsonDict,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        view: View | None = None,
    ) -> BotResponse:
        """A `block_actions` payload for one interaction with an element of a message or view.

        `action` is the element's part (type, action_id, block_id, value or selected_…); the
        surface is the message (`channel`, `message_ts`) or the view (modal or Home tab).
        """
        s = self.state
        payload: JsonDict = {
            "type": "block_actions",
            "user": self._user(user_id),
            "api_app_id": s.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": s.issue_trigger(user_id),
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": [{**action, "action_ts": f"{self.clock():.6f}"}],
        }
        if view is not None:
            payload["container"] = {
                "type": "view",
                "view_id": view.id,
                "is_ephemeral": False,
            }
            payload["view"] = view.to_api(s.team_id, s.app_id, s.bot_id)
            return await self.send_payload(payload)
        if channel is None or message_ts is None:
            raise ValueError("a block action needs a message (channel and message_ts) or a view")
        message = s.message(channel, message_ts)
        channel_obj = s.channel(channel)
        container: JsonDict = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_obj.id,
            "is_ephemeral": False,
        }
        if message.thread_ts:
            container["thread_ts"] = message.thread_ts
        payload["container"] = container
        payload["channel"] = {"id": channel_obj.id, "name": channel_obj.name}
        payload["message"] = message.to_api(s.team_id, s.app_id)
        payload["response_url"] = self._response_url(channel_obj.id, user_id, message_ts)
        return await self.send_payload(payload)

    async def click(self, user_id: str, channel: str, message_ts: str, label: str) -> BotResponse:
        """Click the button showing `label`, as a user would."""
        action_id, value, block_id = self.find_button(channel, message_ts, label)
        return await self.click_button(user_id, channel, message_ts, action_id, value, block_id)

    # ----- modals ----------------------------------------------------------------------------

    def _view(self, view: str | View | JsonDict) -> JsonDict:
        s = self.state
        if isinstance(view, str):
            found = s.views.get(view)
            if found is None:
                raise LookupError(f"no view {view} was opened on the stand-in")
            return found.to_api(s.team_id, s.app_id, s.bot_id)
        if isinstance(view, View):
            return view.to_api(s.team_id, s.app_id, s.bot_id)
        return dict(view)

    async def submit_view(
        self, user_id: str, view_id_or_view: str | View | JsonDict, values: Mapping[str, Any]
    ) -> BotResponse:
        """A `view_submission` payload.

        `values` maps block_id to either {action_id: value} or, for a block with one element,
        the plain value; plain values are shaped by element type (select → selected_option …).
        Input blocks not named are sent empty, as Slack does.
        """
        view = self._view(view_id_or_view)
        view["state"] = {"values": _state_values(view.get("blocks", []), values)}
        payload: JsonDict = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.state.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": self.state.issue_trigger(user_id),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.send_payload(payload)

    async def close_view(self, user_id: str, view_id_or_view: str | View | JsonDict) -> BotResponse:
        """A `view_closed` payload (sent only for views with notify_on_close)."""
        payload: JsonDict = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user_id),
            "api_app_id": self.state.app_id,
            "token": VERIFICATION_TOKEN,
            "view": self._view(view_id_or_view),
            "is_cleared": False,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.send_payload(payload)

    # ----- slash commands and events ---------------------------------------------------------

    async def slash_command(
        self, user_id: str, channel: str, command: str, text: str = ""
    ) -> BotResponse:
        """A slash command, form-encoded field by field as Slack sends it."""
        user = self.state.user(user_id)
        channel_obj = self.state.channel(channel)
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.state.team_id,
            "team_domain": self.state.team_domain,
            "channel_id": channel_obj.id,
            "channel_name": "directmessage" if channel_obj.is_im else channel_obj.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text,
            "api_app_id": self.state.app_id,
            "is_enterprise_install": "false",
            "response_url": self._response_url(channel_obj.id, user.id, None),
            "trigger_id": self.state.issue_trigger(user.id),
        }
        return await self.send(urlencode(fields).encode())

    async def event(
        self,
        event: JsonDict,
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> BotResponse:
        """An Events API `event_callback`; `retry_num` marks a redelivery like Slack's retries."""
        envelope: JsonDict = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.state.team_id,
            "api_app_id": self.state.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": event_time if event_time is not None else int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.state.team_id,
                    "user_id": self.state.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_urlsafe(12),
        }
        extra: dict[str, str] = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope, ensure_ascii=False).encode()
        return await self.send(body, content_type="application/json", extra_headers=extra)

    async def app_home_opened(self, user_id: str, **kwargs: Any) -> BotResponse:
        """The user opens the bot's Home tab."""
        self.state.user(user_id)
        channel, _ = self.state.open_conversation([user_id])
        event: JsonDict = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel.id,
            "tab": "home",
            "event_ts": f"{self.clock():.6f}",
        }
        home = self.state.home_tabs.get(user_id)
        if home is not None:
            s = self.state
            event["view"] = home.to_api(s.team_id, s.app_id, s.bot_id)
        return await self.event(event, **kwargs)

    async def url_verification(self, challenge: str) -> BotResponse:
        body = json.dumps(
            {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        ).encode()
        return await self.send(body, content_type="application/json")


def _state_values(blocks: list[JsonDict], values: Mapping[str, Any]) -> JsonDict:
    inputs = {
        str(b.get("block_id")): b
        for b in blocks
        if b.get("type") == "input" and isinstance(b.get("element"), dict)
    }
    unknown = [k for k in values if k not in inputs]
    if unknown:
        raise ValueError(
            f"no input block with block_id {', '.join(unknown)}; input blocks: {', '.join(inputs)}"
        )
    result: JsonDict = {}
    for block_id, block in inputs.items():
        element = block["element"]
        action_id = str(element.get("action_id", ""))
        # An input the user left alone is reported with its initial value, as Slack does.
        given = values.get(block_id, _initial(element))
        if isinstance(given, Mapping):
            result[block_id] = {
                a: (dict(v) if isinstance(v, Mapping) else _shape(element, v))
                for a, v in given.items()
            }
        else:
            result[block_id] = {action_id: _shape(element, given)}
    return result


_INITIAL_FIELDS = (
    "initial_value",
    "initial_date",
    "initial_time",
    "initial_date_time",
    "initial_user",
    "initial_users",
    "initial_conversation",
    "initial_channel",
)


def _initial(element: JsonDict) -> Any:
    """The value an untouched element holds: its initial option(s), date, text, user..."""
    if isinstance(element.get("initial_option"), dict):
        return element["initial_option"].get("value")
    if isinstance(element.get("initial_options"), list):
        return [o.get("value") for o in element["initial_options"] if isinstance(o, dict)]
    for name in _INITIAL_FIELDS:
        if name in element:
            return element[name]
    return None


def _option(element: JsonDict, value: Any) -> JsonDict:
    for option in element.get("options", []):
        if isinstance(option, dict) and option.get("value") == value:
            return dict(option)
    for group in element.get("option_groups", []):
        for option in group.get("options", []):
            if option.get("value") == value:
                return dict(option)
    if element.get("type") in ("external_select", "multi_external_select"):
        return {"text": {"type": "plain_text", "text": str(value)}, "value": str(value)}
    offered = [o.get("value") for o in element.get("options", []) if isinstance(o, dict)]
    raise ValueError(f"option {value!r} is not offered; options: {offered}")


def _shape(element: JsonDict, value: Any) -> JsonDict:
    """The state value Slack reports for an element of this type holding `value`."""
    kind = str(element.get("type"))
    shaped: JsonDict = {"type": kind}
    if kind in ("static_select", "external_select", "radio_buttons"):
        shaped["selected_option"] = None if value is None else _option(element, value)
    elif kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        shaped["selected_options"] = [_option(element, v) for v in (value or [])]
    elif kind == "users_select":
        shaped["selected_user"] = value
    elif kind == "multi_users_select":
        shaped["selected_users"] = list(value or [])
    elif kind == "conversations_select":
        shaped["selected_conversation"] = value
    elif kind == "channels_select":
        shaped["selected_channel"] = value
    elif kind == "datepicker":
        shaped["selected_date"] = value
    elif kind == "timepicker":
        shaped["selected_time"] = value
    elif kind == "datetimepicker":
        shaped["selected_date_time"] = value
    else:
        shaped["value"] = value
    return shaped
