"""Rate limits and injected faults that make the stand-in misbehave the way Slack can."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

ANY_METHOD = "*"


@dataclass(frozen=True)
class Fault:
    """One injected failure: an HTTP status (500, 503, 429) and/or a delay before answering.

    `status=None` with a delay answers normally, only late (for timeout tests). With
    `after_effect`, the call takes effect first and only its answer is held back: the classic
    "sent but no answer" case of a client that times out.
    """

    status: int | None = 500
    retry_after: int | None = None
    delay: float = 0.0
    after_effect: bool = False

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in (429, 500, 502, 503, 504):
            raise ValueError(f"fault status must be 429, 500, 502, 503 or 504, got {self.status}")
        if self.delay < 0:
            raise ValueError(f"fault delay must be >= 0 seconds, got {self.delay}")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"fault retry_after must be >= 0 seconds, got {self.retry_after}")
        if self.status is None and self.delay == 0:
            raise ValueError("a fault needs a status, a delay, or both")
        if self.after_effect and (self.status is not None or self.delay == 0):
            raise ValueError("an after-effect fault holds a normal answer back: no status, a delay")

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        return cls(status=status)

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def slow(cls, seconds: float) -> Fault:
        return cls(status=None, delay=seconds)

    @classmethod
    def answer_lost(cls, seconds: float) -> Fault:
        """The call takes effect, then the answer waits `seconds` (past the client's timeout)."""
        return cls(status=None, delay=seconds, after_effect=True)


@dataclass
class _Queued:
    fault: Fault
    remaining: int


class FaultPlan:
    """Faults queued per API method (or `*` for any method), plus a whole-API outage window."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._queues: dict[str, deque[_Queued]] = {}
        self._down_until: float | None = None

    def inject(self, method: str, fault: Fault, *, count: int = 1) -> None:
        """Make the next `count` calls to `method` (or `*`) fail with `fault`."""
        if count < 1:
            raise ValueError(f"fault count must be >= 1, got {count}")
        if not method:
            raise ValueError(
                "fault method must be a Slack method name such as chat.postMessage or *"
            )
        with self._lock:
            self._queues.setdefault(method, deque()).append(_Queued(fault, count))

    def down_for(self, seconds: float) -> None:
        """Answer every API call with HTTP 503 for the next `seconds`."""
        if seconds <= 0:
            raise ValueError(f"down_for needs a positive number of seconds, got {seconds}")
        with self._lock:
            self._down_until = self._clock() + seconds

    def is_down(self) -> bool:
        with self._lock:
            return self._down_until is not None and self._clock() < self._down_until

    def take(self, method: str) -> Fault | None:
        """Consume and return the fault due for this call, if any (specific method first)."""
        with self._lock:
            for key in (method, ANY_METHOD):
                queue = self._queues.get(key)
                if not queue:
                    continue
                head = queue[0]
                head.remaining -= 1
                if head.remaining == 0:
                    queue.popleft()
                return head.fault
        return None

    def pending(self) -> dict[str, int]:
        """How many injected failures are still queued, per method."""
        with self._lock:
            return {m: sum(q.remaining for q in qs) for m, qs in self._queues.items() if qs}

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()
            self._down_until = None


@dataclass(frozen=True)
class RateLimitPolicy:
    """Token bucket per (method, channel); off unless `enabled` (unit tests want no throttling)."""

    enabled: bool = False
    per_second: float = 1.0
    burst: int = 3
    methods: frozenset[str] = field(default_factory=lambda: frozenset({"chat.postMessage"}))

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError(f"rate limit per_second must be > 0, got {self.per_second}")
        if self.burst < 1:
            raise ValueError(f"rate limit burst must be >= 1, got {self.burst}")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Slack's per-channel posting limit: about one message a second with a small burst."""

    def __init__(self, clock: Clock, policy: RateLimitPolicy | None = None) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self.policy = policy or RateLimitPolicy()

    def configure(self, policy: RateLimitPolicy) -> None:
        with self._lock:
            self.policy = policy
            self._buckets.clear()

    def check(self, method: str, channel: str) -> int | None:
        """Take a token; return None when allowed, else the Retry-After seconds to answer."""
        policy = self.policy
        if not policy.enabled or method not in policy.methods:
            return None
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((method, channel))
            if bucket is None:
                bucket = _Bucket(tokens=float(policy.burst), updated=now)
                self._buckets[(method, channel)] = bucket
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(policy.burst), bucket.tokens + elapsed * policy.per_second)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            # Slack sends whole seconds; never 0, or clients would hammer straight back.
            return max(1, math.ceil((1.0 - bucket.tokens) / policy.per_second))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
