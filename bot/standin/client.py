"""What the Slack client does around the signed payloads: open modals, submit answers, commands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.standin.limits import view_errors
from bot.standin.player import BotResponse, SlackUserPlayer
from bot.standin.state import JsonDict, StandinError, View, Workspace


class InteractionError(Exception):
    """What the client could not do (unknown message, option not offered); shown to the user."""


@dataclass(frozen=True)
class Outcome:
    """What became of a user's interaction: the bot's HTTP status and any field errors."""

    status: int
    errors: Mapping[str, str]
    problem: str | None = None


class SlackClient:
    """Slack's front end for every stand-in user: each user's open modals, and their actions.

    A modal is open from the bot's `views.open` until a submission is answered without errors
    (or the user cancels); `views.push` stacks on it, `response_action` works as on Slack.
    """

    def __init__(self, state: Workspace, player: SlackUserPlayer) -> None:
        self.state = state
        self.player = player
        self._closed: set[str] = set()
        self._errors: dict[str, dict[str, str]] = {}
        self.revision = 0

    def _changed(self) -> None:
        self.revision += 1

    # ----- modals ----------------------------------------------------------------------------

    def open_modal(self, user_id: str) -> View | None:
        """The modal on top of the user's screen, if any."""
        modals = [
            v
            for v in list(self.state.views.values())
            if v.user_id == user_id and v.type == "modal" and v.id not in self._closed
        ]
        return modals[-1] if modals else None

    def errors_of(self, view: View) -> dict[str, str]:
        return self._errors.get(view.id, {})

    def close(self, view: View, *, all_of_stack: bool = False) -> None:
        self._closed.add(view.id)
        self._errors.pop(view.id, None)
        if all_of_stack:
            root = view.root_view_id or view.id
            self._closed.update(v.id for v in self.state.views.values() if v.root_view_id == root)
        self._changed()

    def _view(self, user_id: str, view_id: str) -> View:
        view = self.state.views.get(view_id)
        if view is None or view.user_id != user_id:
            raise InteractionError(f"no view {view_id} is open for {user_id}")
        return view

    async def submit(self, user_id: str, view_id: str, values: Mapping[str, Any]) -> Outcome:
        """Send the view_submission and do what the bot's answer says, as Slack would."""
        view = self._view(user_id, view_id)
        try:
            answer = await self.player.submit_view(user_id, view, _cleaned(values))
        except ValueError as exc:
            raise InteractionError(str(exc)) from exc
        return self._apply_submission_answer(view, answer)

    def _apply_submission_answer(self, view: View, answer: BotResponse) -> Outcome:
        if answer.status != 200:
            return Outcome(answer.status, {}, f"the bot answered HTTP {answer.status}")
        body: JsonDict = {}
        if answer.body.strip():
            try:
                parsed = answer.json()
            except ValueError:
                return Outcome(200, {}, "the bot answered with something that is not JSON")
            body = parsed if isinstance(parsed, dict) else {}
        action = body.get("response_action")
        if action == "errors":
            errors = {str(k): str(v) for k, v in dict(body.get("errors") or {}).items()}
            self._errors[view.id] = errors
            self._changed()
            return Outcome(200, errors)
        if action in ("update", "push"):
            payload = body.get("view")
            problems = view_errors(payload)
            if problems:
                return Outcome(200, {}, "; ".join(problems))
            assert isinstance(payload, dict)  # view_errors reports anything else
            if action == "update":
                self._errors.pop(view.id, None)
                self.state.update_view(view, payload, hash=None)
            else:
                self.state.push_view(view.user_id or "", payload, view)
            self._changed()
            return Outcome(200, {})
        self.close(view, all_of_stack=action == "clear")
        return Outcome(200, {})

    async def cancel(self, user_id: str, view_id: str) -> Outcome:
        """The user closes the modal; the bot hears of it only if it asked (notify_on_close)."""
        view = self._view(user_id, view_id)
        self.close(view)
        if view.payload.get("notify_on_close"):
            answer = await self.player.close_view(user_id, view)
            return Outcome(answer.status, {})
        return Outcome(200, {})

    # ----- messages, views and commands ------------------------------------------------------

    async def act(
        self,
        user_id: str,
        *,
        block_id: str,
        action_id: str,
        kind: str,
        value: str | None,
        label: str = "",
        channel: str | None = None,
        message_ts: str | None = None,
        view_id: str | None = None,
    ) -> Outcome:
        """A click on a button, or a choice in an overflow menu, select or date picker."""
        view: View | None = None
        if channel is not None and message_ts is not None:
            try:
                found = self.state.message(channel, message_ts)
            except StandinError as exc:
                raise InteractionError(f"message {message_ts}: {exc.error}") from exc
            elements = _elements(found.blocks)
        elif view_id is not None:
            view = self._view(user_id, view_id)
            elements = _elements(view.payload.get("blocks", []))
        else:
            raise InteractionError("an action needs a message or a view")
        # Slack sends what the user clicked, even if the message changed since they saw it.
        element = elements.get((block_id, action_id)) or {
            "type": kind,
            "action_id": action_id,
            "text": {"type": "plain_text", "text": label or action_id},
            "value": value or "",
            "options": [{"text": {"type": "plain_text", "text": label}, "value": value}],
        }
        action = _action(element, block_id, kind, value)
        answer = await self.player.block_action(
            user_id, action, channel=channel, message_ts=message_ts, view=view
        )
        return Outcome(answer.status, {})

    async def command(self, user_id: str, channel: str, line: str) -> Outcome:
        """A slash command typed in a channel; an answer in the HTTP body shows only to the user."""
        command, _, text = line.strip().partition(" ")
        answer = await self.player.slash_command(user_id, channel, command, text.strip())
        if answer.status == 200 and answer.body.strip():
            try:
                body = answer.json()
            except ValueError:
                body = {"text": answer.body}
            if isinstance(body, dict) and (body.get("text") or body.get("blocks")):
                self.state.post_ephemeral(
                    self.state.channel(channel).id,
                    user_id,
                    text=str(body.get("text") or ""),
                    blocks=body.get("blocks"),
                )
        return Outcome(answer.status, {})

    async def open_home(self, user_id: str) -> Outcome:
        answer = await self.player.app_home_opened(user_id)
        return Outcome(answer.status, {})


def _cleaned(values: Mapping[str, Any]) -> dict[str, Any]:
    """Empty form fields are what Slack reports for an untouched input: nothing."""
    return {k: (None if v in ("", []) else v) for k, v in values.items()}


def _elements(blocks: list[JsonDict]) -> dict[tuple[str, str], JsonDict]:
    found: dict[tuple[str, str], JsonDict] = {}
    for index, block in enumerate(blocks):
        block_id = str(block.get("block_id") or f"standin-block-{index}")
        candidates = list(block.get("elements", [])) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):  # a section's accessory, an input's element
            if isinstance(block.get(key), dict):
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict):
                found[(block_id, str(element.get("action_id", "")))] = element
    return found


def _action(element: JsonDict, block_id: str, kind: str, value: str | None) -> JsonDict:
    """The `actions[0]` Slack reports for this element holding `value`."""
    real_kind = str(element.get("type", kind))
    action: JsonDict = {
        "type": real_kind,
        "action_id": str(element.get("action_id", "")),
        "block_id": block_id,
    }
    if real_kind == "button":
        action["text"] = element.get("text")
        action["value"] = str(element.get("value", ""))
        if "style" in element:
            action["style"] = element["style"]
        return action
    if real_kind in ("overflow", "static_select", "radio_buttons", "external_select"):
        options = [o for o in element.get("options", []) if isinstance(o, dict)]
        for group in element.get("option_groups", []):
            options += [o for o in group.get("options", []) if isinstance(o, dict)]
        chosen = next((o for o in options if str(o.get("value")) == value), None)
        if chosen is None:
            raise InteractionError(f"option {value!r} is not offered by {action['action_id']!r}")
        action["selected_option"] = chosen
        return action
    if real_kind == "users_select":
        action["selected_user"] = value
        return action
    if real_kind == "datepicker":
        action["selected_date"] = value
        return action
    raise InteractionError(f"this page cannot send an action for a {real_kind!r} element")
