"""Plain-text rendering of a stand-in channel (Block Kit included) for a terminal."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from bot.standin.emoji import emojize
from bot.standin.state import JsonDict, Message, View, Workspace

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]+))?>")
# Slack's *bold* and _italic_: the marker hugs the text and is not inside a word.
_BOLD = re.compile(r"(?<![A-Za-z0-9*])\*(?=\S)([^*\n]*?\S)\*(?![A-Za-z0-9*])")
_ITALIC = re.compile(r"(?<![A-Za-z0-9_])_(?=\S)([^_\n]*?\S)_(?![A-Za-z0-9_])")
_INDENT = "  "
_FIELD_GAP = 4
# What Slack's own interface writes around messages, in the reader's language.
_CHROME: Final = {
    "en": {
        "edited": "(edited)",
        "broadcast": "(also sent to the channel)",
        "only_you": "(only visible to you)",
        "image": "image",
    },
    "ja": {
        "edited": "（編集済み）",
        "broadcast": "（チャンネルにも投稿済み）",
        "only_you": "（あなただけに表示されています）",
        "image": "画像",
    },
}


@dataclass(frozen=True)
class Style:
    """How text is drawn: Slack's interface language, and ANSI bold/italic for a terminal."""

    language: str = "en"
    ansi: bool = False

    def bold(self, text: str) -> str:
        return f"\x1b[1m{text}\x1b[22m" if self.ansi else text

    def italic(self, text: str) -> str:
        return f"\x1b[3m{text}\x1b[23m" if self.ansi else text

    def chrome(self, key: str) -> str:
        return _CHROME.get(self.language, _CHROME["en"])[key]


PLAIN: Final = Style()


def display_width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _mrkdwn(text: str, state: Workspace | None, style: Style = PLAIN) -> str:
    """Slack mrkdwn as a reader sees it: `<@U…>`, `<#C…>`, `<!here>`, `<url|label>` resolved,
    *bold* and _italic_ drawn (markers dropped), `:shortcodes:` as emoji, escapes undone."""

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

    resolved = _LINK.sub(replace, text)
    resolved = _BOLD.sub(lambda m: style.bold(m.group(1)), resolved)
    resolved = _ITALIC.sub(lambda m: style.italic(m.group(1)), resolved)
    # Slack shows the three escaped characters of mrkdwn as themselves.
    resolved = resolved.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return emojize(resolved)


def _text(obj: Any, state: Workspace | None, style: Style = PLAIN) -> str:
    if isinstance(obj, dict):
        raw = str(obj.get("text", ""))
        if obj.get("type") == "mrkdwn":
            return _mrkdwn(raw, state, style)
        # plain_text turns shortcodes into emoji too, unless it says "emoji": false.
        return emojize(raw) if obj.get("emoji", True) else raw
    return ""


def _element(element: Any, state: Workspace | None, style: Style = PLAIN) -> str:
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind in ("button", "workflow_button"):
        return f"[ {_text(element.get('text'), state, style)} ]"
    if kind == "image":
        return f"[{style.chrome('image')}: {element.get('alt_text', '')}]"
    if kind == "overflow":
        return "[ … ]"
    placeholder = _text(element.get("placeholder"), state, style)
    return f"[ {placeholder or kind} ▾ ]"


def _fields(fields: list[Any], state: Workspace | None, style: Style) -> list[str]:
    """Section fields two to a row, as Slack lays them out, each field's lines under its first."""
    cells = [_text(f, state, style).splitlines() or [""] for f in fields]
    left = [line for cell in cells[::2] for line in cell]
    width = max((display_width(_visible(line)) for line in left), default=0) + _FIELD_GAP
    lines = []
    for index in range(0, len(cells), 2):
        first, second = cells[index], cells[index + 1] if index + 1 < len(cells) else []
        for row in range(max(len(first), len(second))):
            one = first[row] if row < len(first) else ""
            two = second[row] if row < len(second) else ""
            pad = " " * (width - display_width(_visible(one))) if two else ""
            lines.append((_INDENT + one + pad + two).rstrip())
    return lines


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _visible(text: str) -> str:
    return _ANSI.sub("", text)


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        if node.get("type") == "user":
            return "@" + str(node.get("user_id", ""))
        return "".join(_rich_text(child) for child in node.get("elements", []))
    return ""


def render_blocks(
    blocks: list[JsonDict], state: Workspace | None = None, style: Style = PLAIN
) -> list[str]:
    """One list of lines per message: headers underlined, fields in columns, buttons `[ Claim ]`."""
    lines: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"), state, style)
            lines += [style.bold(title), "━" * display_width(title)]
        elif kind == "section":
            if "text" in block:
                lines += _text(block["text"], state, style).splitlines() or [""]
            lines += _fields(block.get("fields", []), state, style)
            if "accessory" in block:
                lines.append(_INDENT + _element(block["accessory"], state, style))
        elif kind == "context":
            parts = [
                _element(e, state, style) if e.get("type") == "image" else _text(e, state, style)
                for e in block.get("elements", [])
                if isinstance(e, dict)
            ]
            lines.append("· " + "  ".join(parts))
        elif kind == "actions":
            lines.append("  ".join(_element(e, state, style) for e in block.get("elements", [])))
        elif kind == "divider":
            lines.append("─" * 40)
        elif kind == "image":
            lines.append(f"[{style.chrome('image')}: {block.get('alt_text', '')}]")
        elif kind == "input":
            label = _text(block.get("label"), state, style)
            lines.append(f"{label}: {_element(block.get('element'), state, style)}")
        elif kind == "rich_text":
            lines += _rich_text(block).splitlines()
        elif kind == "markdown":
            lines += _mrkdwn(str(block.get("text", "")), state, style).splitlines()
    return lines


def _time(ts: str, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(float(ts), UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _message_lines(message: Message, state: Workspace, tz: ZoneInfo, style: Style) -> list[str]:
    author = state.users.get(message.user)
    head = f"{style.bold(author.real_name if author else message.user)}  {_time(message.ts, tz)}"
    if message.edited:
        head += "  " + style.chrome("edited")
    if message.reply_broadcast and message.is_reply:
        head += "  " + style.chrome("broadcast")
    body = render_blocks(message.blocks, state, style) if message.blocks else []
    if not body:
        body = _mrkdwn(message.text, state, style).splitlines()
    for file_id in message.files:
        upload = state.files.get(file_id)
        if upload is not None:
            body.append(f"📎 {upload.title or upload.filename} ({upload.filename})")
    return [head, *(_INDENT + line for line in body)]


def render_channel(
    state: Workspace,
    channel_id: str,
    *,
    for_user: str | None = None,
    tz: str = "UTC",
    style: Style = PLAIN,
) -> str:
    """The channel as a reader sees it: latest version of each message, threads indented.

    With `for_user`, that user's ephemeral messages are shown too. ``style`` sets the language of
    Slack's own labels ("(edited)") and whether bold and italic are drawn with ANSI codes.
    """
    zone = ZoneInfo(tz)
    channel = state.channel(channel_id)
    title = f"@{channel.im_user}" if channel.is_im else f"#{channel.name}"
    lines = [style.bold(title), "═" * max(20, display_width(title))]
    for message in state.top_level(channel.id):
        if message.is_reply:
            continue
        lines += _message_lines(message, state, zone, style)
        for reply in state.replies(channel.id, message.ts):
            lines += ["    │ " + line for line in _message_lines(reply, state, zone, style)]
        lines.append("")
    if for_user is not None:
        for ephemeral in state.ephemerals(channel.id, for_user):
            lines.append(f"{style.chrome('only_you')}  {_time(ephemeral.ts, zone)}")
            body = (
                render_blocks(ephemeral.blocks, state, style)
                or _mrkdwn(ephemeral.text, state, style).splitlines()
            )
            lines += [_INDENT + line for line in body]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_view(view: View | JsonDict, state: Workspace | None = None, style: Style = PLAIN) -> str:
    """A modal or home tab as text: title, blocks, then the submit/close buttons."""
    payload = view.payload if isinstance(view, View) else view
    title = _text(payload.get("title"), state, style) or str(payload.get("type", "view"))
    lines = [style.bold(title), "═" * max(20, display_width(title))]
    lines += render_blocks(list(payload.get("blocks", [])), state, style)
    buttons = [
        f"[ {_text(payload[k], state, style)} ]" for k in ("close", "submit") if k in payload
    ]
    if buttons:
        lines += ["", "  ".join(buttons)]
    return "\n".join(lines) + "\n"
