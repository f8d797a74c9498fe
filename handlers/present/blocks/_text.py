"""Escaping, deliberate truncation and the Block Kit limits the builders respect."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

# Block Kit limits (docs.slack.dev, Block Kit reference).
MAX_MESSAGE_BLOCKS: Final = 50
MAX_VIEW_BLOCKS: Final = 100
MAX_SECTION_TEXT: Final = 3000
MAX_FIELD_TEXT: Final = 2000
MAX_HEADER_TEXT: Final = 150
MAX_BUTTON_TEXT: Final = 75
MAX_OPTION_TEXT: Final = 75
MAX_CONTEXT_ELEMENTS: Final = 10
MAX_MODAL_TITLE: Final = 24
MAX_LABEL: Final = 2000
MAX_HINT: Final = 2000
MAX_PLACEHOLDER: Final = 150
MAX_URL: Final = 3000
MAX_SELECT_OPTIONS: Final = 100
# Fallback text: Slack truncates beyond 40,000 characters; notifications want it short.
MAX_FALLBACK_TEXT: Final = 3000

ELLIPSIS: Final = "…"
DASH: Final = "—"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Plain text cut to ``limit`` characters with an ellipsis when it was longer."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def clip_mrkdwn(text: str, limit: int) -> str:
    """Mrkdwn cut to ``limit`` characters without breaking an ``&amp;`` entity or a ``<…>`` link."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    # A cut inside *bold* would leave a stray asterisk; Slack then shows it literally, harmless.
    return cut.rstrip() + ELLIPSIS


def esc(text: str | None, limit: int) -> str:
    """User text for mrkdwn: cut to ``limit`` characters *before* escaping (entities stay whole)."""
    if not text or not text.strip():
        return DASH
    return escape(clip(" ".join(text.split()), limit))


def plain_text(text: str, limit: int) -> dict[str, Any]:
    """A plain_text object, never empty, never over ``limit``."""
    value = clip(text, limit) if text.strip() else DASH
    return {"type": "plain_text", "text": value, "emoji": True}


def mrkdwn_text(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    """A mrkdwn object, never empty, never over ``limit``."""
    value = clip_mrkdwn(text, limit) if text.strip() else DASH
    return {"type": "mrkdwn", "text": value}


def link(url: str | None, label: str) -> str:
    """``<url|label>`` with an escaped label, or just the label when the URL is missing or unsafe."""
    if not url or len(url) > MAX_URL or any(c in url for c in "<>| \n"):
        return escape(label)
    return f"<{url}|{escape(label)}>"


def lines_within(lines: Sequence[str], limit: int, more: str, *, hidden: int = 0) -> str:
    """Join as many whole lines as fit in ``limit`` characters, then a "+N more" line.

    ``more`` is a template with ``{count}``: the number of lines left out here plus ``hidden``
    (lines the caller already left out). Each line should already be clipped to a sane length.
    """
    shown: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        after = len(lines) - index - 1 + hidden
        reserve = len(more.format(count=after)) + 1 if after else 0
        needed = len(line) + (1 if shown else 0)
        if used + needed + reserve > limit:
            shown.append(more.format(count=len(lines) - index + hidden))
            return clip_mrkdwn("\n".join(shown), limit)
        shown.append(line)
        used += needed
    if hidden:
        shown.append(more.format(count=hidden))
    return clip_mrkdwn("\n".join(shown), limit)
