"""Rate limiting and injected faults, as slack_sdk sees them."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Fault, RateLimitPolicy, Workspace
from tests.bot.standin.conftest import TOKEN, Standin


async def test_rate_limit_answers_429_with_retry_after_per_channel(
    client: AsyncWebClient, state: Workspace
) -> None:
    # A refill of one token per 100 s keeps the bucket empty for the whole test.
    state.rate_limiter.configure(RateLimitPolicy(enabled=True, per_second=0.01, burst=2))
    await client.chat_postMessage(channel="C_SDR", text="1")
    await client.chat_postMessage(channel="C_SDR", text="2")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="#inside-sales", text="3")  # same bucket
    other_channel = await client.chat_postMessage(channel="C_MKT", text="digest")

    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "100"
    assert caught.value.response["error"] == "ratelimited"
    assert [m.text for m in state.messages("C_SDR")] == ["1", "2"]
    assert other_channel["ok"] is True
    assert [c.status for c in state.calls("chat.postMessage")] == [200, 200, 429, 200]


async def test_rate_limit_is_off_by_default(client: AsyncWebClient, state: Workspace) -> None:
    for i in range(10):
        await client.chat_postMessage(channel="C_SDR", text=str(i))

    assert len(state.messages("C_SDR")) == 10


@pytest.mark.parametrize(
    ("fault", "status", "error"),
    [
        (Fault.server_error(500), 500, "internal_error"),
        (Fault.server_error(503), 503, "service_unavailable"),
        (Fault.rate_limited(7), 429, "ratelimited"),
    ],
)
async def test_injected_fault_fails_the_next_call_only(
    client: AsyncWebClient, state: Workspace, fault: Fault, status: int, error: str
) -> None:
    state.faults.inject("chat.postMessage", fault)

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_SDR", text="first")
    second = await client.chat_postMessage(channel="C_SDR", text="second")

    assert caught.value.response.status_code == status
    assert caught.value.response["error"] == error
    assert second["ok"] is True
    assert [m.text for m in state.messages("C_SDR")] == ["second"]


async def test_429_fault_carries_its_retry_after(client: AsyncWebClient, state: Workspace) -> None:
    state.faults.inject("chat.update", Fault.rate_limited(7))
    posted = await client.chat_postMessage(channel="C_SDR", text="x")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="C_SDR", ts=posted["ts"], text="y")

    assert caught.value.response.headers["Retry-After"] == "7"


async def test_fault_count_and_wildcard(client: AsyncWebClient, state: Workspace) -> None:
    state.faults.inject("*", Fault.server_error(503), count=2)
    statuses = []
    for method in ("auth.test", "users.info", "auth.test"):
        try:
            await client.api_call(method, params={"user": "U_SATO"})
            statuses.append(200)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)

    assert statuses == [503, 503, 200]


async def test_slack_sdk_retry_handlers_recover(standin: Standin) -> None:
    client = AsyncWebClient(
        token=TOKEN,
        base_url=standin.server.base_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )
    standin.state.faults.inject("chat.postMessage", Fault.rate_limited(0))

    answer = await client.chat_postMessage(channel="C_SDR", text="after one retry")

    assert answer["ok"] is True
    assert [c.status for c in standin.state.calls("chat.postMessage")] == [429, 200]


async def test_delay_fault_makes_the_client_time_out(standin: Standin) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=standin.server.base_url, timeout=1)
    standin.state.faults.inject("auth.test", Fault.slow(1.5))

    with pytest.raises(asyncio.TimeoutError):
        await client.auth_test()


async def test_answer_lost_fault_applies_the_call_then_times_the_client_out(
    standin: Standin,
) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=standin.server.base_url, timeout=1)
    standin.state.faults.inject("chat.postMessage", Fault.answer_lost(1.5))

    with pytest.raises(asyncio.TimeoutError):
        await client.chat_postMessage(channel="C_SDR", text="sent but no answer")

    assert [m.text for m in standin.state.top_level("C_SDR")] == ["sent but no answer"]


async def test_down_mode_answers_503_until_over(client: AsyncWebClient, standin: Standin) -> None:
    standin.state.faults.down_for(30)
    with pytest.raises(SlackApiError) as caught:
        await client.auth_test()
    standin.clock.offset = 31

    answer = await client.auth_test()

    assert caught.value.response.status_code == 503
    assert answer["ok"] is True


def test_bad_fault_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="fault status must be 429, 500, 502, 503 or 504, got 404"):
        Fault(status=404)
    with pytest.raises(ValueError, match="a fault needs a status, a delay, or both"):
        Fault(status=None)
    with pytest.raises(ValueError, match="an after-effect fault holds a normal answer back"):
        Fault(status=500, delay=1, after_effect=True)
    with pytest.raises(ValueError, match="rate limit burst must be >= 1, got 0"):
        RateLimitPolicy(burst=0)
