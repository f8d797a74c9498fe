"""Block Kit to HTML as the Slack client draws it; what it cannot draw is shown as such."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from bot.standin.page_text import EN, Words
from bot.standin.render import _LINK, _rich_text
from bot.standin.state import JsonDict, Workspace

_PLACEHOLDER = re.compile("\x00(\\d+)\x00")
_FORMATS = (
    (re.compile(r"```(.+?)```", re.S), r"<pre>\1</pre>"),
    (re.compile(r"`([^`\n]+)`"), r"<code>\1</code>"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)\*(?![\w*])"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)_(?![\w_])"), r"<em>\1</em>"),
    (re.compile(r"(?<![\w~])~(?=\S)([^~\n]+?)~(?![\w~])"), r"<del>\1</del>"),
)
_QUOTE = re.compile(r"^&gt; ?(.*)$", re.M)
_EMOJI_CODE = re.compile(r":([a-z0-9_+-]+):")
# The emoji the bot writes as :shortcodes:; others stay as typed, as Slack shows unknown ones.
EMOJI = {
    "stopwatch": "⏱️",
    "rotating_light": "🚨",
    "repeat": "🔁",
    "white_check_mark": "✅",
    "warning": "⚠️",
    "bar_chart": "📊",
    "tada": "🎉",
    "wave": "👋",
}
_DATE_TOKENS = {
    "{date_num}": "%Y-%m-%d",
    "{date}": "%B %d, %Y",
    "{date_short}": "%b %d, %Y",
    "{date_long}": "%A, %B %d, %Y",
    "{date_pretty}": "%B %d, %Y",
    "{date_short_pretty}": "%b %d, %Y",
    "{date_long_pretty}": "%A, %B %d, %Y",
    "{time}": "%H:%M",
    "{time_secs}": "%H:%M:%S",
}


@dataclass
class Surface:
    """Where blocks are drawn: which workspace, whose time zone, and where clicks go.

    `target` is the `data-` attributes every interactive element carries, so the page's script
    knows which message or view the click came from. Modal inputs get `errors` under the field.
    """

    state: Workspace
    tz: ZoneInfo
    target: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    words: Words = field(default_factory=lambda: EN)
    file_url: Callable[[str], str] = lambda file_id: f"/files/{file_id}"


def mrkdwn(text: str, surface: Surface) -> str:
    """Slack's mrkdwn (mentions, links, dates, *bold*, _italic_, ~strike~, code, quotes) as HTML."""
    tokens: list[str] = []

    def keep(match: re.Match[str]) -> str:
        tokens.append(_link(match.group(1), match.group(2), surface))
        return f"\x00{len(tokens) - 1}\x00"

    held = _LINK.sub(keep, text)
    # Slack's own escapes become characters, then everything is escaped for HTML once.
    plain = held.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    out = escape(plain, quote=False)
    for pattern, replacement in _FORMATS:
        out = pattern.sub(replacement, out)
    out = _QUOTE.sub(r"<blockquote>\1</blockquote>", out)
    out = _EMOJI_CODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), out)
    out = out.replace("\n", "<br>")
    return _PLACEHOLDER.sub(lambda m: tokens[int(m.group(1))], out)


def _link(target: str, label: str | None, surface: Surface) -> str:
    state = surface.state
    if target.startswith("@"):
        user = state.users.get(target[1:])
        name = label or (user.name if user else target[1:])
        return f'<span class="mention">@{escape(name)}</span>'
    if target.startswith("#"):
        channel = state.channels.get(target[1:].split("|")[0])
        name = label or (channel.name if channel else target[1:])
        return f'<span class="mention">#{escape(name)}</span>'
    if target.startswith("!subteam^"):
        group = target.removeprefix("!subteam^")
        return f'<span class="mention">{escape(label or "@" + group)}</span>'
    if target.startswith("!date^"):
        return escape(_date(target, label, surface.tz))
    if target.startswith("!"):
        return f'<span class="mention">@{escape(target[1:].split("^")[0])}</span>'
    shown = label or target
    return (
        f'<a href="{escape(target)}" rel="noopener noreferrer" target="_blank">{escape(shown)}</a>'
    )


def _date(target: str, label: str | None, tz: ZoneInfo) -> str:
    """`<!date^1700000000^{date_short} {time}|fallback>` in the reader's time zone."""
    parts = target.split("^")
    try:
        moment = datetime.fromtimestamp(int(parts[1]), UTC).astimezone(tz)
    except (IndexError, ValueError):
        return label or target
    shown = parts[2] if len(parts) > 2 else "{date_num} {time}"
    for token, fmt in _DATE_TOKENS.items():
        shown = shown.replace(token, moment.strftime(fmt))
    return shown


def text(obj: Any, surface: Surface) -> str:
    """A text object as HTML: mrkdwn formatted, plain_text escaped."""
    if not isinstance(obj, dict):
        return ""
    raw = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(raw, surface)
    return escape(raw).replace("\n", "<br>")


def _plain(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def unrenderable(what: str, part: Any, surface: Surface) -> str:
    """Never dropped silently: a visible note with the JSON the page could not draw."""
    raw = escape(json.dumps(part, ensure_ascii=False, indent=1))
    title = surface.words["cannot_show"].format(what=what)
    return (
        f'<div class="unrenderable" role="note"><strong>{escape(title)}</strong>'
        f"<details><summary>Block Kit JSON</summary><pre>{raw}</pre></details></div>"
    )


def _data(surface: Surface, element: JsonDict, block_id: str) -> str:
    attrs = {
        **surface.target,
        "block": block_id,
        "action": str(element.get("action_id", "")),
        "kind": str(element.get("type", "")),
    }
    return " ".join(f'data-{k}="{escape(v)}"' for k, v in attrs.items())


def _options(element: JsonDict) -> list[JsonDict]:
    found = [o for o in element.get("options", []) if isinstance(o, dict)]
    for group in element.get("option_groups", []):
        found += [o for o in group.get("options", []) if isinstance(o, dict)]
    return found


def _option_tags(element: JsonDict, selected: set[str]) -> str:
    return "".join(
        f'<option value="{escape(str(o.get("value", "")))}"'
        f"{' selected' if str(o.get('value')) in selected else ''}>"
        f"{escape(_plain(o.get('text')))}</option>"
        for o in _options(element)
    )


def _users_options(surface: Surface, selected: set[str]) -> str:
    people = [u for u in surface.state.users.values() if not u.is_bot]
    return "".join(
        f'<option value="{escape(u.id)}"{" selected" if u.id in selected else ""}>'
        f"{escape(u.real_name)} (@{escape(u.name)})</option>"
        for u in people
    )


def element(
    el: Any, surface: Surface, block_id: str, *, in_input: bool = False, dispatch: bool = False
) -> str:
    """One interactive or image element; in a modal's input block it becomes a form field.

    `dispatch` marks an input whose changes Slack reports at once (`dispatch_action`).
    """
    if not isinstance(el, dict):
        return unrenderable("element", el, surface)
    kind = str(el.get("type", ""))
    data = _data(surface, el, block_id) + (' data-dispatch="true"' if dispatch else "")
    name = f'name="{escape(block_id)}"' if in_input else ""
    described = ""
    if in_input and block_id in surface.errors:
        described = f' aria-invalid="true" aria-describedby="err-{escape(block_id)}"'
    field_id = f'id="field-{escape(block_id)}"' if in_input else ""
    if kind in ("button", "workflow_button"):
        style = f" btn-{escape(str(el['style']))}" if el.get("style") else ""
        value = escape(str(el.get("value", "")))
        url = f' data-url="{escape(str(el["url"]))}"' if el.get("url") else ""
        return (
            f'<button type="button" class="btn{style}" {data} data-value="{value}"{url}>'
            f"{escape(_plain(el.get('text')))}</button>"
        )
    if kind == "image":
        return (
            f'<img class="inline-img" src="{escape(str(el.get("image_url", "")))}" '
            f'alt="{escape(str(el.get("alt_text", "")))}">'
        )
    if kind == "overflow":
        label = escape(surface.words["more_actions"])
        return (
            f'<select class="overflow" aria-label="{label}" {data}>'
            f'<option value="">⋯</option>{_option_tags(el, set())}</select>'
        )
    if kind in ("static_select", "external_select", "users_select", "radio_buttons"):
        initial = el.get("initial_option")
        chosen = {str(initial.get("value"))} if isinstance(initial, dict) else set()
        if el.get("initial_user"):
            chosen = {str(el["initial_user"])}
        placeholder = escape(_plain(el.get("placeholder")) or surface.words["select"])
        options = (
            _users_options(surface, chosen) if kind == "users_select" else _option_tags(el, chosen)
        )
        label = "" if in_input else f' aria-label="{placeholder}"'
        return (
            f'<select class="select" {field_id} {name} {data}{label}{described}>'
            f'<option value="">{placeholder}</option>{options}</select>'
        )
    if kind in ("multi_static_select", "multi_users_select", "checkboxes"):
        chosen = {str(o.get("value")) for o in el.get("initial_options", []) if isinstance(o, dict)}
        chosen |= {str(u) for u in el.get("initial_users", [])}
        options = (
            _users_options(surface, chosen)
            if kind == "multi_users_select"
            else _option_tags(el, chosen)
        )
        return f'<select multiple class="select" {field_id} {name} {data}{described}>{options}</select>'
    if kind == "datepicker":
        value = escape(str(el.get("initial_date", "")))
        label = "" if in_input else f' aria-label="{escape(surface.words["date"])}"'
        return f'<input type="date" {field_id} {name} value="{value}" {data}{label}{described}>'
    if kind == "timepicker":
        value = escape(str(el.get("initial_time", "")))
        return f'<input type="time" {field_id} {name} value="{value}" {data}{described}>'
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        value = escape(str(el.get("initial_value", "")))
        placeholder = escape(_plain(el.get("placeholder")))
        limits = ""
        if el.get("max_length"):
            limits += f' maxlength="{int(el["max_length"])}"'
        if kind == "plain_text_input" and el.get("multiline"):
            return (
                f'<textarea {field_id} {name} rows="4" placeholder="{placeholder}"{limits} {data}'
                f"{described}>{value}</textarea>"
            )
        html_type = {"email_text_input": "email", "url_text_input": "url"}.get(kind, "text")
        return (
            f'<input type="{html_type}" {field_id} {name} value="{value}" '
            f'placeholder="{placeholder}"{limits} {data}{described}>'
        )
    return unrenderable(f"{kind} element", el, surface)


def blocks(items: list[JsonDict], surface: Surface) -> str:
    """Every block of a message, modal or Home tab, in order."""
    return "".join(block(b, i, surface) for i, b in enumerate(items))


def block(b: Any, index: int, surface: Surface) -> str:
    if not isinstance(b, dict):
        return unrenderable("block", b, surface)
    kind = b.get("type")
    block_id = str(b.get("block_id") or f"standin-block-{index}")
    if kind == "header":
        return f'<h3 class="b-header">{text(b.get("text"), surface)}</h3>'
    if kind == "divider":
        return '<hr class="b-divider">'
    if kind == "section":
        body = f'<div class="b-text">{text(b["text"], surface)}</div>' if "text" in b else ""
        fields = "".join(
            f'<div class="b-field">{text(f, surface)}</div>' for f in b.get("fields", [])
        )
        if fields:
            body += f'<div class="b-fields">{fields}</div>'
        accessory = ""
        if "accessory" in b:
            accessory = (
                f'<div class="b-accessory">{element(b["accessory"], surface, block_id)}</div>'
            )
        return f'<div class="b-section"><div class="b-body">{body}</div>{accessory}</div>'
    if kind == "context":
        parts = "".join(
            element(e, surface, block_id)
            if isinstance(e, dict) and e.get("type") == "image"
            else f"<span>{text(e, surface)}</span>"
            for e in b.get("elements", [])
        )
        return f'<div class="b-context">{parts}</div>'
    if kind == "actions":
        parts = "".join(element(e, surface, block_id) for e in b.get("elements", []))
        return f'<div class="b-actions">{parts}</div>'
    if kind == "image":
        title = f"<figcaption>{text(b['title'], surface)}</figcaption>" if "title" in b else ""
        src = escape(str(b.get("image_url", "")))
        alt = escape(str(b.get("alt_text", "")))
        return f'<figure class="b-image"><img src="{src}" alt="{alt}">{title}</figure>'
    if kind == "input":
        return _input(b, block_id, surface)
    if kind == "markdown":
        return f'<div class="b-text">{mrkdwn(str(b.get("text", "")), surface)}</div>'
    if kind == "rich_text":
        return f'<div class="b-text">{escape(_rich_text(b))}</div>'
    return unrenderable(f"{kind} block", b, surface)


def _input(b: JsonDict, block_id: str, surface: Surface) -> str:
    optional = bool(b.get("optional"))
    label = escape(_plain(b.get("label")))
    marker = (
        f' <span class="optional">{escape(surface.words["optional"])}</span>' if optional else ""
    )
    hint = f'<div class="hint">{text(b["hint"], surface)}</div>' if "hint" in b else ""
    error = surface.errors.get(block_id)
    shown = (
        f'<div class="field-error" id="err-{escape(block_id)}" role="alert">{escape(error)}</div>'
        if error
        else ""
    )
    required = "" if optional else ' data-required="true"'
    dispatch = bool(b.get("dispatch_action"))
    return (
        f'<div class="b-input"{required} data-block-id="{escape(block_id)}">'
        f'<label for="field-{escape(block_id)}">{label}{marker}</label>'
        f"{element(b.get('element'), surface, block_id, in_input=True, dispatch=dispatch)}"
        f"{shown}{hint}</div>"
    )
