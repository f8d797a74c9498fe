"""What the driver did and saw, kept for the invariant check: requests, clicks, faults, refusals."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    """One HTTP answer the bot gave (to a tool or to Slack), with when and which replica."""

    at: float
    replica: int
    what: str
    status: int  # 0: no answer (connection refused or cut, timeout)
    seconds: float = 0.0  # how long the caller waited
    error: str = ""  # why there was no answer


@dataclass(frozen=True)
class Click:
    """One Claim click on a card in a claim round."""

    round_id: int
    mql_id: int
    user: str
    at: float
    replica: int
    status: int


@dataclass(frozen=True)
class Refusal:
    """Bad input: what was sent, the status it must get, the status it got."""

    what: str
    expected: int
    got: int


@dataclass
class Record:
    """Everything the run observed; `started` is the monotonic-free wall time of the start."""

    started: float = field(default_factory=time.time)
    answers: list[Answer] = field(default_factory=list)
    # Logical events (tool, id) the tool sent and got a 2xx for, and those it never did.
    events_sent: set[str] = field(default_factory=set)
    events_acked: set[str] = field(default_factory=set)
    webhook_retries: int = 0
    batch_replays: list[tuple[int, int, int]] = field(default_factory=list)  # size, accepted, dup
    clicks: list[Click] = field(default_factory=list)
    rounds: int = 0
    # (mql id, actor, disposition, status of the submission, replica, at)
    submissions: list[tuple[int, str, str, int, int, float]] = field(default_factory=list)
    intrusions: list[tuple[int, str, float]] = field(default_factory=list)  # non-owner submits
    manager_actions: list[tuple[int, str, str, float]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    # (user, when, the ephemeral text they must then see): refused clicks are explained.
    must_tell: list[tuple[str, float, str]] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    # Wall-time windows in which a fault made a failed answer unavoidable: (start, end, why,
    # the replica it concerns or None for all). A replica's window ends at its kill -9: what it
    # acknowledged just before may never have been done.
    unavoidable: list[tuple[float, float, str, int | None]] = field(default_factory=list)
    jobs: list[tuple[str, str]] = field(default_factory=list)  # (job, summary)
    waits_given_up: int = 0

    def now(self) -> float:
        return time.time() - self.started

    def answered(self, replica: int, what: str, status: int, *, since: float | None = None,
                 error: BaseException | None = None) -> None:  # fmt: skip
        now = time.time()
        waited = now - since if since is not None else 0.0
        self.answers.append(Answer(now, replica, what, status, waited,
                                   type(error).__name__ if error else ""))  # fmt: skip

    def fault(self, what: str) -> None:
        self.faults.append((self.now(), what))

    def excused(self, at: float, replica: int | None = None) -> str | None:
        """The fault window an answer at `at` (wall time) from `replica` falls in, if any."""
        for start, end, why, concerns in self.unavoidable:
            if concerns is not None and replica is not None and concerns != replica:
                continue
            if start <= at <= end:
                return why
        return None
