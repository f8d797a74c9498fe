"""Plain-text rendering of a stand-in channel (Block Kit included) for a terminal."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.standin.state import JsonDict, Message, View, Workspace

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")
_INDENT = "  "


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _mrkdwn(text: str, state: Workspace | None) -> str:
    """Resolve Slack's `<@U…>`, `<#C…>`, `<!here>`, `<url|label>` and escapes into readable text."""

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user = state.users.get(target[1:]) if state else None
            return "@" + (label or (user.name if user else target[1:]))
        if target.startswith("#"):
            channel = state.channels.get(target[1:].split("|")[0]) if state else None
            return "#" + (label or (channel.name if channel else target[1:]))
        if target.startswith("!subteam^"):
            return label or "@" + target.removeprefix("!subteam^")
        if target.startswith("!"):
            return "@" + target[1:].split("^")[0]
        return label or target

    # Slack shows the three escaped characters of mrkdwn as themselves.
    resolved = _LINK.sub(replace, text)
    return resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, state: Workspace | None) -> str:
    if isinstance(obj, dict):
        raw = str(obj.get("text", ""))
        return _mrkdwn(raw, state) if obj.get("type") == "mrkdwn" else raw
    return ""


def _element(element: Any, state: Workspace | None) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind in ("button", "workflow_button"):
        return f"[ {_text(element.get('text'), state)} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ … ]"
    placeholder = _text(element.get("placeholder"), state)
    return f"[ {placeholder or kind} ▾ ]"


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "user":
            return "@" + str(node.get("user_id", ""))
        return "".join(_rich_text(child) for child in node.get("elements", []))
    return ""


def render_blocks(blocks: list[JsonDict], state: Workspace | None = None) -> list[str]:
    """One list of lines per message: headers underlined, buttons as `[ Claim ]`."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"), state)
            lines += [title, "━" * display_width(title)]
        elif kind == "section":
            if "text" in block:
                lines += _text(block["text"], state).splitlines() or [""]
            lines += [_INDENT + _text(f, state) for f in block.get("fields", [])]
            if "accessory" in block:
                lines.append(_INDENT + _element(block["accessory"], state))
        elif kind == "context":
            parts = [
                _element(e, state) if e.get("type") == "image" else _text(e, state)
                for e in block.get("elements", [])
                if isinstance(e, dict)
            ]
            lines.append("· " + "  ".join(parts))
        elif kind == "actions":
            lines.append("  ".join(_element(e, state) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "input":
            label = _text(block.get("label"), state)
            lines.append(f"{label}: {_element(block.get('element'), state)}")
        elif kind == "rich_text":
            lines += _rich_text(block).splitlines()
        elif kind == "markdown":
            lines += _mrkdwn(str(block.get("text", "")), state).splitlines()
    return lines


def _time(ts: str, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(float(ts), UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _message_lines(message: Message, state: Workspace, tz: ZoneInfo) -> list[str]:
    author = state.users.get(message.user)
    head = f"{author.real_name if author else message.user}  {_time(message.ts, tz)}"
    if message.edited:
        head += "  (edited)"
    if message.reply_broadcast and message.is_reply:
        head += "  (also sent to the channel)"
    body = render_blocks(message.blocks, state) if message.blocks else []
    if not body:
        body = _mrkdwn(message.text, state).splitlines()
    for file_id in message.files:
        upload = state.files.get(file_id)
        if upload is not None:
            body.append(f"📎 {upload.title or upload.filename} ({upload.filename})")
    return [head, *(_INDENT + line for line in body)]


def render_channel(
    state: Workspace, channel_id: str, *, for_user: str | None = None, tz: str = "UTC"
) -> str:
    """The channel as a reader sees it: latest version of each message, threads indented.

    With `for_user`, that user's ephemeral messages are shown too.
    """
    zone = ZoneInfo(tz)
    channel = state.channel(channel_id)
    title = f"@{channel.im_user}" if channel.is_im else f"#{channel.name}"
    lines = [title, "═" * max(20, display_width(title))]
    for message in state.top_level(channel.id):
        if message.is_reply:
            continue
        lines += _message_lines(message, state, zone)
        for reply in state.replies(channel.id, message.ts):
            lines += ["    │ " + line for line in _message_lines(reply, state, zone)]
        lines.append("")
    if for_user is not None:
        for ephemeral in state.ephemerals(channel.id, for_user):
            lines.append(f"(only visible to you)  {_time(ephemeral.ts, zone)}")
            body = (
                render_blocks(ephemeral.blocks, state)
                or _mrkdwn(ephemeral.text, state).splitlines()
            )
            lines += [_INDENT + line for line in body]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_view(view: View | JsonDict, state: Workspace | None = None) -> str:
    """A modal or home tab as text: title, blocks, then the submit/close buttons."""
    payload = view.payload if isinstance(view, View) else view
    title = _text(payload.get("title"), state) or str(payload.get("type", "view"))
    lines = [title, "═" * max(20, display_width(title))]
    lines += render_blocks(list(payload.get("blocks", [])), state)
    buttons = [f"[ {_text(payload[k], state)} ]" for k in ("close", "submit") if k in payload]
    if buttons:
        lines += ["", "  ".join(buttons)]
    return "\n".join(lines) + "\n"
