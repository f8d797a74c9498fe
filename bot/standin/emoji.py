"""Slack emoji shortcodes as the characters Slack shows for them (the bot's and other common ones)."""

from __future__ import annotations

import re
from typing import Final

EMOJI: Final[dict[str, str]] = {
    # Used by the bot's messages.
    "rotating_light": "🚨",
    "stopwatch": "⏱️",
    "repeat": "🔁",
    # Common in Slack messages people and other apps write.
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "warning": "⚠️",
    "no_entry": "⛔",
    "bell": "🔔",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "calendar": "📆",
    "date": "📅",
    "memo": "📝",
    "email": "📧",
    "envelope": "✉️",
    "bar_chart": "📊",
    "chart_with_upwards_trend": "📈",
    "chart_with_downwards_trend": "📉",
    "recycle": "♻️",
    "arrows_counterclockwise": "🔄",
    "link": "🔗",
    "paperclip": "📎",
    "mag": "🔍",
    "bust_in_silhouette": "👤",
    "busts_in_silhouette": "👥",
    "office": "🏢",
    "fire": "🔥",
    "star": "⭐",
    "tada": "🎉",
    "eyes": "👀",
    "wave": "👋",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "information_source": "ℹ️",
    "red_circle": "🔴",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
}
_SHORTCODE: Final = re.compile(r":([a-z0-9_+-]+):")


def emojize(text: str) -> str:
    """Replace the known ``:shortcode:``s by their emoji; unknown ones stay as written."""
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
