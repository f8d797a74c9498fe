"""How the sender drains: its [sender] settings plus the knobs tests and benchmarks turn."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.settings import Settings


@dataclass(frozen=True)
class SenderOptions:
    """How the sender drains: the [sender] settings plus knobs tests and benchmarks turn."""

    max_attempts: int = 8
    per_channel_interval: timedelta = timedelta(seconds=1)
    poll_interval: timedelta = timedelta(milliseconds=200)
    # Longer than any one send (HTTP timeout included), so a live sender never loses its lease.
    lease: timedelta = timedelta(seconds=60)
    http_timeout: float = 20.0
    batch: int = 32
    concurrency: int = 8
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_cap: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.lease.total_seconds() <= self.http_timeout:
            raise ValueError(
                f"sender lease ({self.lease}) must be longer than the HTTP timeout "
                f"({self.http_timeout}s), or a slow answer could be sent twice"
            )
        if self.batch < 1 or self.concurrency < 1:
            raise ValueError("sender batch and concurrency must be >= 1")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SenderOptions:
        s = settings.sender
        return replace(
            cls(
                max_attempts=s.max_attempts,
                per_channel_interval=s.per_channel_interval,
                poll_interval=s.poll_interval,
            ),
            **overrides,
        )
