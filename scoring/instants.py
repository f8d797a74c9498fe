"""Instants as integer microseconds since the Unix epoch, the engine's exact internal time unit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def to_us(at: datetime) -> int:
    """Microseconds since the epoch of a tz-aware datetime (exact: integers, not floats).

    Integers keep the inactivity boundary exact: float seconds near 1.8e9 cannot tell
    "exactly 30 days" from "30 days minus a rounding error".
    """
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """The UTC datetime for microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=us)


def span_us(span: timedelta) -> int:
    """A timedelta as whole microseconds."""
    return span // MICROSECOND
