"""Duration strings such as ``200ms``, ``90s``, ``15m``, ``24h``, ``30d``, ``2w`` or ``1h30m`` as timedeltas."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {
    "ms": "milliseconds",
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhdw])")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|[smhdw]))+")


def parse_duration(text: str) -> timedelta:
    """Parse a duration string; raise ValueError naming the expected form when it is not one."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or not _WHOLE.fullmatch(compact):
        raise ValueError(
            f"{text!r} is not a duration: use a number and a unit, e.g. 90s, 15m, 24h, 30d"
        )
    total = timedelta()
    for amount, unit in _PART.findall(compact):
        total += timedelta(**{_UNITS[unit]: float(amount)})
    return total


def format_duration(delta: timedelta) -> str:
    """Write a timedelta back in the compact form parse_duration reads (largest exact unit)."""
    if delta.microseconds % 1000 == 0 and delta.microseconds:
        return f"{delta // timedelta(milliseconds=1)}ms"
    seconds = int(delta.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
