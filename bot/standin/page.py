"""The Slack-like page of the stand-in, server-rendered: sidebar, channel or Home, open modal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

from bot.standin import html
from bot.standin.client import SlackClient
from bot.standin.html import Surface
from bot.standin.page_text import Words
from bot.standin.state import ApiCall, Ephemeral, Message, StandinError, View, Workspace

HOME = "home"
DM = "dm"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg")


@dataclass(frozen=True)
class Controls:
    """What the demo offers in its side panel (filled in by the demo, not by the stand-in)."""

    leads: list[tuple[str, str]]  # (lead id, shown name)
    event_types: list[str]
    clock: str
    last_result: str = ""


@dataclass
class Screen:
    """One user's view of the page: who they are, where they are, in which language."""

    state: Workspace
    client: SlackClient
    user_id: str
    where: str
    words: Words
    language: str
    people: list[tuple[str, str]]  # (user id, label shown in the person switcher)
    controls: Controls
    generation: int = 0

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.state.users[self.user_id].tz)

    def surface(self, target: dict[str, str], errors: dict[str, str] | None = None) -> Surface:
        return Surface(self.state, self.tz, target, errors or {}, self.words)

    def link(self, where: str) -> str:
        return f"/?as={escape(self.user_id)}&amp;c={escape(where)}"


def _time(ts: str | float, tz: ZoneInfo) -> tuple[str, str]:
    moment = datetime.fromtimestamp(float(ts), UTC).astimezone(tz)
    return moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M")


def _author(screen: Screen, user_id: str) -> str:
    user = screen.state.users.get(user_id)
    name = escape(user.real_name if user else user_id)
    if user is not None and user.is_bot:
        return f'<strong class="author">{name}</strong> <span class="badge">{screen.words["bot"]}</span>'
    return f'<strong class="author">{name}</strong>'


def _files(screen: Screen, message: Message) -> str:
    out = []
    for file_id in message.files:
        upload = screen.state.files.get(file_id)
        if upload is None:
            continue
        title = escape(upload.title or upload.filename)
        url = f"/files/{escape(file_id)}"
        if upload.filename.lower().endswith(IMAGE_SUFFIXES):
            alt = escape(upload.alt_txt or upload.title or upload.filename)
            out.append(
                f'<figure class="file"><img src="{url}" alt="{alt}" loading="lazy">'
                f"<figcaption>{title}</figcaption></figure>"
            )
        else:
            out.append(f'<p class="file">📎 <a href="{url}">{title}</a></p>')
    return "".join(out)


def _message(screen: Screen, message: Message, *, replies: list[Message] | None = None) -> str:
    iso, shown = _time(message.ts, screen.tz)
    target = {"channel": message.channel, "ts": message.ts}
    surface = screen.surface(target)
    body = html.blocks(message.blocks, surface) if message.blocks else ""
    if not body and message.text:
        body = f'<div class="b-text">{html.mrkdwn(message.text, surface)}</div>'
    edited = f' <span class="edited">{screen.words["edited"]}</span>' if message.edited else ""
    broadcast = ""
    if message.is_reply and message.reply_broadcast:
        broadcast = f' <span class="edited">{screen.words["also_sent"]}</span>'
    thread = ""
    if replies:
        count = (
            screen.words["reply"]
            if len(replies) == 1
            else screen.words["replies"].format(count=len(replies))
        )
        inner = "".join(_message(screen, r) for r in replies)
        thread = f'<details class="thread" open><summary>{count}</summary>{inner}</details>'
    return (
        f'<article class="msg" id="m{escape(message.ts.replace(".", ""))}" '
        f'data-ts="{escape(message.ts)}" aria-label="{escape(shown)}">'
        f"<header>{_author(screen, message.user)} "
        f'<time datetime="{iso}">{shown}</time>{edited}{broadcast}</header>'
        f'<div class="blocks">{body}{_files(screen, message)}</div>{thread}</article>'
    )


def _ephemeral(screen: Screen, ephemeral: Ephemeral) -> str:
    iso, shown = _time(ephemeral.ts, screen.tz)
    surface = screen.surface({"channel": ephemeral.channel, "ts": ephemeral.ts})
    body = html.blocks(ephemeral.blocks, surface) or html.mrkdwn(ephemeral.text, surface)
    return (
        f'<article class="msg ephemeral" data-ts="{escape(ephemeral.ts)}">'
        f'<header><span class="only-you">👁 {screen.words["only_you"]}</span> '
        f"{_author(screen, screen.state.bot_user_id)} "
        f'<time datetime="{iso}">{shown}</time></header>'
        f'<div class="blocks">{body}</div></article>'
    )


def _refusal(screen: Screen, call: ApiCall) -> str:
    iso, shown = _time(call.at, screen.tz)
    return (
        f'<article class="msg refused" role="alert"><header>'
        f'<strong class="author">{screen.words["refused_here"]}</strong> '
        f'<time datetime="{iso}">{shown}</time></header>'
        f"<p><code>{escape(call.method)}</code> → {_describe(call)}</p></article>"
    )


def _describe(call: ApiCall) -> str:
    detail = [str(e) for e in call.detail.get("errors", [])]
    detail += [str(m) for m in call.detail.get("response_metadata", {}).get("messages", [])]
    if call.detail.get("detail"):
        detail.append(str(call.detail["detail"]))
    items = "".join(f"<li>{escape(d)}</li>" for d in detail)
    return f"<code>{escape(call.error or '')}</code>" + (f"<ul>{items}</ul>" if items else "")


def refusals(state: Workspace) -> list[ApiCall]:
    """Requests the stand-in answered with a Slack error, oldest first."""
    return [c for c in state.calls() if c.error and c.error != "ratelimited"]


def _channel_of(state: Workspace, call: ApiCall) -> str | None:
    """The channel a refused call meant (a user id means the bot's DM with them)."""
    ref = str(call.args.get("channel") or "")
    if ref in state.users:
        dm = state.dm_channel(ref)
        return dm.id if dm else None
    try:
        return state.channel(ref).id if ref else None
    except StandinError:
        return None


def _channel_pane(screen: Screen, channel_id: str) -> str:
    state = screen.state
    channel = state.channel(channel_id)
    if screen.user_id not in channel.members:
        return f'<p class="empty">{screen.words["not_member"]}</p>'
    timeline: list[tuple[float, str]] = []
    for message in state.top_level(channel.id):
        if message.is_reply:
            continue
        replies = state.replies(channel.id, message.ts)
        timeline.append((float(message.ts), _message(screen, message, replies=replies)))
    for ephemeral in state.ephemerals(channel.id, screen.user_id):
        timeline.append((float(ephemeral.ts), _ephemeral(screen, ephemeral)))
    for call in refusals(state):
        if _channel_of(state, call) == channel.id:
            timeline.append((call.at, _refusal(screen, call)))
    timeline.sort(key=lambda item: item[0])
    if not timeline:
        return f'<p class="empty">{screen.words["no_messages"]}</p>'
    return "".join(part for _, part in timeline)


def _home_pane(screen: Screen) -> str:
    home = screen.state.home_tabs.get(screen.user_id)
    if home is None:
        return f'<p class="empty">{screen.words["no_home"]}</p>'
    surface = screen.surface({"view": home.id})
    return f'<div class="home">{html.blocks(list(home.payload.get("blocks", [])), surface)}</div>'


def title(screen: Screen) -> str:
    if screen.where == HOME:
        return f"mqlbot · {screen.words['home']}"
    if screen.where == DM:
        return f"mqlbot · {screen.words['messages']}"
    return f"#{screen.state.channel(screen.where).name}"


def pane(screen: Screen) -> str:
    """The main column: the channel's messages, the bot's DM, or the Home tab."""
    if screen.where == HOME:
        body = _home_pane(screen)
    elif screen.where == DM:
        dm = screen.state.dm_channel(screen.user_id)
        body = (
            _channel_pane(screen, dm.id)
            if dm
            else f'<p class="empty">{screen.words["no_messages"]}</p>'
        )
    else:
        body = _channel_pane(screen, screen.where)
    return f'<h2 class="pane-title">{escape(title(screen))}</h2><div class="messages" role="log" aria-live="polite">{body}</div>'


def sidebar(screen: Screen) -> str:
    def item(where: str, label: str) -> str:
        current = ' aria-current="page"' if where == screen.where else ""
        return f'<li><a href="{screen.link(where)}"{current}>{escape(label)}</a></li>'

    channels = [
        c
        for c in screen.state.channels.values()
        if not (c.is_im or c.is_mpim) and screen.user_id in c.members
    ]
    w = screen.words
    return (
        f'<h2 class="side-title">{w["channels"]}</h2><ul>'
        + "".join(item(c.id, f"# {c.name}") for c in channels)
        + f'</ul><h2 class="side-title">{w["apps"]}: mqlbot</h2><ul>'
        + item(HOME, w["home"])
        + item(DM, w["messages"])
        + "</ul>"
    )


def modal(screen: Screen) -> tuple[str, str]:
    """(key, HTML) of the user's open modal; the key changes only when the modal does."""
    view = screen.client.open_modal(screen.user_id)
    if view is None:
        return "", ""
    errors = screen.client.errors_of(view)
    key = f"{view.id}:{view.hash}:{sorted(errors.items())}"
    return key, _modal(screen, view, errors)


def _modal(screen: Screen, view: View, errors: dict[str, str]) -> str:
    p = view.payload
    surface = screen.surface({"view": view.id}, errors)
    w = screen.words
    heading = escape(str((p.get("title") or {}).get("text", "")))
    close = escape(str((p.get("close") or {}).get("text", "")) or w["cancel"])
    submit = ""
    if p.get("submit"):
        submit = f'<button type="submit" class="btn btn-primary">{escape(str(p["submit"].get("text", w["submit"])))}</button>'
    general = "".join(
        f'<p class="field-error" role="alert">{escape(v)}</p>'
        for k, v in errors.items()
        if not any(b.get("block_id") == k for b in p.get("blocks", []))
    )
    return (
        f'<div class="backdrop"><div class="modal" role="dialog" aria-modal="true" '
        f'aria-labelledby="modal-title" data-view="{escape(view.id)}">'
        f'<form class="modal-form" data-view="{escape(view.id)}" novalidate>'
        f'<h2 id="modal-title">{heading}</h2><div class="modal-body">'
        f"{html.blocks(list(p.get('blocks', [])), surface)}{general}</div>"
        f'<footer><button type="button" class="btn" data-cancel="{escape(view.id)}">{close}</button>'
        f"{submit}</footer></form></div></div>"
    )


def controls(screen: Screen) -> str:
    """The demo's forms (drawn once, so a half-filled form survives updates) and its status."""
    w = screen.words
    c = screen.controls
    leads = "".join(f'<option value="{escape(i)}">{escape(n)}</option>' for i, n in c.leads)
    types = "".join(f'<option value="{escape(t)}">{escape(t)}</option>' for t in c.event_types)
    steps = "".join(
        f'<button type="button" class="btn" data-advance="{key}">{w[label]}</button>'
        for key, label in ADVANCES
    )
    return (
        f'<h2 class="side-title">{w["controls"]}</h2>'
        f'<form class="control" data-control="event"><fieldset><legend>{w["sample_event"]}</legend>'
        f'<label>{w["lead"]} <select name="lead">{leads}</select></label>'
        f'<label>{w["event_type"]} <select name="type">{types}</select></label>'
        f'<button type="submit" class="btn">{w["send"]}</button></fieldset></form>'
        f'<form class="control" data-control="burst"><fieldset><legend>{w["burst"]}</legend>'
        f'<label>{w["burst_count"]} <input type="number" name="count" value="20" min="1" '
        f'max="200"></label><button type="submit" class="btn">{w["send"]}</button></fieldset></form>'
        f'<fieldset class="control"><legend>{w["advance"]}</legend>{steps}</fieldset>'
        f'<output id="notice" role="status"></output>'
        f'<div id="status">{status(screen)}</div>'
    )


ADVANCES = (("20m", "plus_20m"), ("1d", "plus_1d"), ("1w", "plus_1w"), ("90d", "plus_90d"))


def status(screen: Screen) -> str:
    """The demo clock, the last control's result and what Slack refused lately."""
    w = screen.words
    c = screen.controls
    refused = "".join(
        f"<li><code>{escape(call.method)}</code> {_describe(call)}</li>"
        for call in refusals(screen.state)[-5:]
    )
    out = (
        f'<p>{w["clock"]}: <time id="clock">{escape(c.clock)}</time></p>'
        f'<h3 class="side-title">{w["last_result"]}</h3>'
        f'<output id="result">{escape(c.last_result)}</output>'
    )
    if refused:
        out += f'<h3 class="side-title">{w["refused"]}</h3><ul class="refusals">{refused}</ul>'
    return out


def parts(screen: Screen) -> dict[str, str | int]:
    """What the page's script swaps in on every change."""
    key, dialog = modal(screen)
    return {
        "generation": screen.generation,
        "sidebar": sidebar(screen),
        "pane": pane(screen),
        "status": status(screen),
        "modal_key": key,
        "modal": dialog,
        "title": title(screen),
    }


def document(screen: Screen) -> str:
    """The whole page, usable as it is; the script then keeps it live."""
    w = screen.words
    lang = "ja" if screen.language == "ja" else "en"
    people = "".join(
        f'<option value="{escape(uid)}"{" selected" if uid == screen.user_id else ""}>{escape(label)}</option>'
        for uid, label in screen.people
    )
    languages = "".join(
        f'<button type="button" class="btn" data-language="{code}" aria-pressed="{str(code == screen.language).lower()}">{label}</button>'
        for code, label in (("en", "English"), ("ja", "日本語"))
    )
    key, dialog = modal(screen)
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title(screen))} · {w["title"]}</title>
<link rel="stylesheet" href="/static/page.css">
</head>
<body data-user="{escape(screen.user_id)}" data-where="{escape(screen.where)}" data-generation="{screen.generation}" data-required="{escape(w["required"])}" data-only-commands="{escape(w["only_commands"])}">
<header class="topbar">
<strong class="brand">{w["title"]}</strong>
<form class="switcher" method="get" action="/">
<label for="as">{w["acting_as"]}</label>
<select id="as" name="as">{people}</select>
<input type="hidden" name="c" value="{escape(screen.where)}">
<noscript><button type="submit" class="btn">{w["switch"]}</button></noscript>
</form>
<div class="languages" role="group" aria-label="{w["language"]}">{languages}</div>
</header>
<div class="app">
<nav class="sidebar" id="sidebar" aria-label="{w["channels"]}">{sidebar(screen)}</nav>
<main class="main">
<div id="pane" class="pane">{pane(screen)}</div>
<form id="composer" class="composer">
<label for="command" class="visually-hidden">{w["composer"]}</label>
<input id="command" name="command" autocomplete="off" placeholder="{escape(w["composer_hint"])}">
<button type="submit" class="btn btn-primary">{w["send"]}</button>
</form>
</main>
<aside class="controls" id="controls" aria-label="{w["controls"]}">{controls(screen)}</aside>
</div>
<div id="modal" data-key="{escape(key)}">{dialog}</div>
<script src="/static/page.js"></script>
</body>
</html>
"""
