"""The sender's parts: error classification, backoff, the signed CRM webhook, in-doubt updates."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.sender import (
    MARKER_KEY,
    GiveUp,
    PayloadError,
    Retry,
    Sender,
    TargetNotReady,
    WebhookError,
    backoff_delay,
    classify,
    drain_once,
    run_sender,
    sign_webhook,
)
from bot.sender.deliveries import DELIVERIES
from bot.standin import StandinServer, Workspace
from bot.worker import loops
from store.models import OutboxKind
from store.outbox import card_target
from tests.bot.test_sender import FAST, SDR, TOKEN, make_runtime, queue, rows


def slack_error(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> SlackApiError:
    response = AsyncSlackResponse(
        client=AsyncWebClient(),
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=body,
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError("failed", response)  # type: ignore[no-untyped-call]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (slack_error(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}),
         Retry("rate limited: ratelimited", timedelta(seconds=7), rate_limited=True)),
        (slack_error(200, {"ok": False, "error": "ratelimited"}),
         Retry("rate limited: ratelimited", timedelta(seconds=1), rate_limited=True)),
        (slack_error(500, {"ok": False, "error": "internal_error"}),
         Retry("Slack answered 500: internal_error")),
        (slack_error(503, {}, {"Retry-After": "2"}),
         Retry("Slack answered 503: HTTP 503", timedelta(seconds=2))),
        (slack_error(200, {"ok": False, "error": "invalid_auth"}),
         Retry("Slack answered 200: invalid_auth")),
        (slack_error(200, {"ok": False, "error": "channel_not_found"}),
         GiveUp("channel_not_found")),
        (slack_error(200, {"ok": False, "error": "not_in_channel"}), GiveUp("not_in_channel")),
        (slack_error(200, {"ok": False, "error": "msg_too_long"}), GiveUp("msg_too_long")),
        (WebhookError(429, "3"), Retry("CRM webhook answered HTTP 429", timedelta(seconds=3),
                                       rate_limited=True)),
        (WebhookError(502, None), Retry("CRM webhook answered HTTP 502")),
        (WebhookError(404, None), GiveUp("CRM webhook answered HTTP 404")),
        (PayloadError("a post needs a channel"), GiveUp("bad payload: a post needs a channel")),
        (TargetNotReady("target card:1 has no Slack message yet"),
         Retry("target card:1 has no Slack message yet")),
        # No answer: the call may have taken effect, so the next attempt looks first.
        (aiohttp.ServerDisconnectedError(), Retry("network error: ServerDisconnectedError: "
                                                  "Server disconnected", in_doubt=True)),
        (TimeoutError(), Retry("network error: TimeoutError", in_doubt=True)),
        (ConnectionRefusedError(), Retry("network error: ConnectionRefusedError")),
    ],
)  # fmt: skip
def test_errors_are_classified(exc: BaseException, expected: object) -> None:
    assert classify(exc) == expected


@pytest.mark.parametrize(
    ("attempt", "jitter", "seconds"),
    [(1, 0.0, 0.5), (1, 0.5, 0.75), (3, 0.0, 2.0), (4, 0.999, 7.996), (20, 0.0, 150.0)],
)
def test_backoff_doubles_up_to_the_cap_with_jitter_over_the_upper_half(
    attempt: int, jitter: float, seconds: float
) -> None:
    delay = backoff_delay(attempt, base=timedelta(seconds=1), cap=timedelta(minutes=5),
                          jitter=jitter)  # fmt: skip
    assert delay == timedelta(seconds=seconds)


@pytest.mark.parametrize(("attempt", "jitter"), [(0, 0.5), (1, 1.0), (1, -0.1)])
def test_backoff_refuses_nonsense(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError, match=r"attempt must be|jitter must be"):
        backoff_delay(attempt, base=timedelta(seconds=1), cap=timedelta(minutes=5), jitter=jitter)


def test_the_worker_runs_the_sender() -> None:
    assert ("sender", run_sender) in loops()


def test_webhook_signature_matches_the_inbound_scheme() -> None:
    body = b'{"mql":1}'
    expected = hmac.new(b"s3cret", b'1700000000.{"mql":1}', hashlib.sha256).hexdigest()
    assert sign_webhook("s3cret", 1700000000, body) == {
        "X-MQLBot-Timestamp": "1700000000",
        "X-MQLBot-Signature": f"sha256={expected}",
    }


class Crm:
    """A CRM endpoint recording what it received and answering with the queued statuses."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((dict(request.headers), await request.read()))
        return web.Response(status=self.statuses.pop(0) if self.statuses else 204)


@pytest.fixture
async def crm() -> AsyncIterator[Crm]:
    endpoint = Crm()
    app = web.Application()
    app.router.add_post("/hooks/mqlbot", endpoint.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    endpoint.url = f"http://127.0.0.1:{port}/hooks/mqlbot"
    yield endpoint
    await runner.cleanup()


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    with StandinServer(Workspace.seeded(), token=TOKEN) as running:
        yield running


@pytest.fixture
def slack(server: StandinServer) -> Workspace:
    server.state.reset()
    return server.state


async def test_webhook_is_signed_and_carries_the_delivery_key(
    sqlite_url: str, server: StandinServer, crm: Crm, now: datetime
) -> None:
    runtime = make_runtime(sqlite_url, server.base_url, crm={"webhook_url": crm.url},
                           crm_webhook_secret="s3cret")  # fmt: skip
    try:
        await queue(runtime.sessions, now, "mql:1:sql", "webhook",
                    payload={"mql_id": 1, "state": "sql", "by": "U_SATO"})  # fmt: skip
        crm.statuses = [503]
        first = await drain_once(runtime, now=now, options=FAST)
        [after_first] = await rows(runtime.sessions)
        second = await drain_once(runtime, now=after_first.next_attempt_at, options=FAST)
        [row] = await rows(runtime.sessions)
    finally:
        await runtime.close()
    assert (first.retried, second.sent, row.status) == (1, 1, "sent")
    assert len(crm.requests) == 2
    headers, body = crm.requests[1]
    assert json.loads(body) == {"mql_id": 1, "state": "sql", "by": "U_SATO"}
    timestamp = headers["X-MQLBot-Timestamp"]
    mac = hmac.new(b"s3cret", f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert headers["X-MQLBot-Signature"] == f"sha256={mac}"
    assert headers["X-MQLBot-Delivery"] == "mql:1:sql"


async def test_webhook_without_a_secret_goes_unsigned_with_a_warning(
    sqlite_url: str, server: StandinServer, crm: Crm, now: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    runtime = make_runtime(sqlite_url, server.base_url, crm={"webhook_url": crm.url})
    try:
        await queue(runtime.sessions, now, "mql:1:lead", "webhook", payload={"mql_id": 1})
        with caplog.at_level(logging.WARNING, logger="bot.sender"):
            await drain_once(runtime, now=now, options=FAST)
    finally:
        await runtime.close()
    [(headers, _)] = crm.requests
    assert "X-MQLBot-Signature" not in headers
    assert [r.getMessage() for r in caplog.records] == [
        "crm webhook_url is set but MQLBOT_CRM_WEBHOOK_SECRET is not: "
        "state changes go to the CRM unsigned"
    ]


async def test_webhook_refused_by_the_crm_is_dead_lettered(
    sqlite_url: str, server: StandinServer, crm: Crm, now: datetime
) -> None:
    runtime = make_runtime(sqlite_url, server.base_url, crm={"webhook_url": crm.url},
                           crm_webhook_secret="s3cret")  # fmt: skip
    try:
        await queue(runtime.sessions, now, "mql:1:x", "webhook", payload={"mql_id": 1})
        crm.statuses = [400]
        await drain_once(runtime, now=now, options=FAST)
        [row] = await rows(runtime.sessions)
    finally:
        await runtime.close()
    assert (row.status, row.last_error) == ("dead", "CRM webhook answered HTTP 400")


async def test_in_doubt_update_already_on_the_card_is_not_sent_again(
    sqlite_url: str, server: StandinServer, slack: Workspace, now: datetime
) -> None:
    runtime = make_runtime(sqlite_url, server.base_url)
    target = card_target(4)
    try:
        await queue(runtime.sessions, now, "card:4", "post", channel=SDR, target_key=target,
                    payload={"text": "v1"})  # fmt: skip
        await drain_once(runtime, now=now, options=FAST)
        await queue(runtime.sessions, now, "card:4:v2", "update", target_key=target,
                    payload={"text": "v2"})  # fmt: skip
        await Sender(runtime, FAST, worker_id="lost").claim(now, 10)
        [card] = slack.top_level(SDR)
        # Slack applied the update; the answer never reached the sender that died.
        await AsyncWebClient(token=TOKEN, base_url=server.base_url).chat_update(
            channel=SDR, ts=card.ts, text="v2", blocks=[],
            metadata={"event_type": "mqlbot_outbox", "event_payload": {MARKER_KEY: "card:4:v2"}},
        )  # fmt: skip
        updates_before = len(slack.calls("chat.update"))

        report = await drain_once(runtime, now=now + timedelta(minutes=1), options=FAST)
        statuses = [r.status for r in await rows(runtime.sessions)]
    finally:
        await runtime.close()
    assert report.recovered == 1
    assert len(slack.calls("chat.update")) == updates_before
    assert statuses == ["sent", "sent"]


def test_every_outbox_kind_has_its_delivery() -> None:
    assert set(DELIVERIES) == set(OutboxKind)
