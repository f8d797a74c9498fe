"""The retry policy: what a failed send means (retry, when, or give up) and the backoff between tries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError

# Slack errors worth another attempt: Slack's own trouble, and credentials an operator can fix.
TRANSIENT_ERRORS = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
    }
)


@dataclass(frozen=True)
class Delivered:
    """Slack (or the CRM) accepted the row; `found` when it was already there from a lost attempt."""

    channel: str | None = None
    ts: str | None = None
    found: bool = False


@dataclass(frozen=True)
class Retry:
    """Try again later: after exactly `after` when given (Retry-After), else after a backoff."""

    error: str
    after: timedelta | None = None
    rate_limited: bool = False
    # No answer came (timeout, cut connection): the call may have taken effect.
    in_doubt: bool = False


@dataclass(frozen=True)
class GiveUp:
    """A permanent error: the row is dead-lettered at once."""

    error: str


Outcome = Delivered | Retry | GiveUp


class PayloadError(ValueError):
    """The row's payload cannot be sent as it is (a bug in whoever queued it)."""


class TargetNotReady(Exception):
    """The message an update or reply belongs to has no Slack ts yet."""


class WebhookError(Exception):
    """The CRM answered the outbound webhook with a non-2xx status."""

    def __init__(self, status: int, retry_after: str | None) -> None:
        super().__init__(f"CRM webhook answered HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def backoff_delay(attempt: int, *, base: timedelta, cap: timedelta, jitter: float) -> timedelta:
    """Exponential backoff for the `attempt`-th failure, with `jitter` in [0, 1) spreading the
    delay over its upper half so that replicas do not retry in lockstep."""
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if not 0 <= jitter < 1:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    ceiling: timedelta = min(cap, base * (2 ** min(attempt - 1, 30)))
    return ceiling * (0.5 + jitter / 2)


def _retry_after(value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return timedelta(seconds=max(0.0, seconds))


def classify(exc: BaseException) -> Outcome:
    """Turn a failed call into the decision: retry (when, and whether it was a rate limit) or give up."""
    if isinstance(exc, SlackApiError):
        response: Any = exc.response
        status = int(getattr(response, "status_code", None) or getattr(response, "status", 0) or 0)
        data = getattr(response, "data", None)
        error = data.get("error") if isinstance(data, dict) else None
        headers = getattr(response, "headers", None) or {}
        after = _retry_after(headers.get("Retry-After"))
        what = f"{error or 'HTTP ' + str(status)}"
        if status == 429 or error == "ratelimited":
            return Retry(f"rate limited: {what}", after or timedelta(seconds=1), rate_limited=True)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return Retry(f"Slack answered {status}: {what}", after)
        detail = (
            data.get("errors") or data.get("response_metadata") if isinstance(data, dict) else None
        )
        return GiveUp(f"{what}{' ' + json.dumps(detail, ensure_ascii=False) if detail else ''}")
    if isinstance(exc, WebhookError):
        if exc.status == 429:
            after = _retry_after(exc.retry_after) or timedelta(seconds=1)
            return Retry(str(exc), after, rate_limited=True)
        if exc.status >= 500 or exc.status == 408:
            return Retry(str(exc), _retry_after(exc.retry_after))
        return GiveUp(str(exc))
    if isinstance(exc, PayloadError | SlackRequestError):
        return GiveUp(f"bad payload: {exc}")
    if isinstance(exc, TargetNotReady):
        return Retry(str(exc))
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        # Only a refused connection proves the request never left; anything else may have landed.
        unsent = isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError)
        error = f"network error: {type(exc).__name__}: {exc}".rstrip(": ")
        return Retry(error, in_doubt=not unsent)
    return Retry(f"unexpected error: {type(exc).__name__}: {exc}")


def call_outcome(exc: BaseException | None) -> str:
    """The `outcome` label of a Web API call in the metrics: ok, ratelimited, server_error…"""
    if exc is None:
        return "ok"
    decision = classify(exc)
    if isinstance(decision, Retry) and decision.rate_limited:
        return "ratelimited"
    if isinstance(exc, SlackApiError):
        return "server_error" if isinstance(decision, Retry) else "error"
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return "network_error"
    return "error"
