"""Request conventions (auth, paths, bodies) and the `/_standin` control API."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace
from tests.bot.standin.conftest import Standin


@pytest.mark.parametrize(("token", "error"), [(None, "not_authed"), ("xoxb-wrong", "invalid_auth")])
async def test_token_is_checked(standin: Standin, token: str | None, error: str) -> None:
    client = AsyncWebClient(token=token, base_url=standin.server.base_url)

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_SDR", text="x")

    assert caught.value.response["error"] == error
    assert standin.state.messages("C_SDR") == []


async def test_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("chat.scheduleTeleport")

    assert caught.value.response["error"] == "unknown_method"


async def test_root_base_url_and_form_bodies_work(standin: Standin) -> None:
    # base_url without /api/, arguments form-encoded with the token in the body: older clients.
    async with httpx.AsyncClient(base_url=standin.server.url) as http:
        response = await http.post(
            "/chat.postMessage",
            data={
                "token": "xoxb-standin",
                "channel": "C_SDR",
                "text": "form",
                "blocks": '[{"type":"divider"}]',
            },
        )

    assert response.json()["ok"] is True
    assert standin.state.messages("C_SDR")[0].blocks == [{"type": "divider"}]


async def test_calls_record_what_slack_received(client: AsyncWebClient, state: Workspace) -> None:
    await client.chat_postMessage(channel="C_SDR", text="hello", thread_ts=None)
    with pytest.raises(SlackApiError):
        await client.users_info(user="U_GHOST")

    calls = [(c.method, c.args, c.status, c.error) for c in state.calls()]
    assert calls == [
        ("chat.postMessage", {"channel": "C_SDR", "text": "hello"}, 200, None),
        ("users.info", {"user": "U_GHOST"}, 200, "user_not_found"),
    ]


async def test_control_api_drives_a_separate_process(
    client: AsyncWebClient, standin: Standin
) -> None:
    async with httpx.AsyncClient(base_url=standin.server.url + "_standin/") as control:
        assert (await control.post("faults", json={"method": "auth.test", "status": 503})).json()[
            "pending"
        ] == {"auth.test": 1}
        with pytest.raises(SlackApiError):
            await client.auth_test()
        await client.chat_postMessage(channel="C_SDR", text="before reset")
        dump = (await control.get("state")).json()
        rendered = (await control.get("render/C_SDR")).text
        bad = await control.post("faults", json={"method": "auth.test", "status": 404})
        rate = await control.post("rate_limit", json={"enabled": True, "burst": 5})
        trigger = (await control.post("triggers", json={"user_id": "U_SATO"})).json()
        await control.post("reset")

    assert [m["text"] for m in dump["messages"]["C_SDR"]] == ["before reset"]
    assert dump["calls"][0]["status"] == 503
    assert "before reset" in rendered
    assert bad.status_code == 400
    assert bad.json()["detail"] == "fault: fault status must be 429, 500, 502, 503 or 504, got 404"
    assert rate.json() == {"ok": True}
    assert trigger["trigger_id"].count(".") == 2
    assert standin.state.messages("C_SDR") == []
    assert standin.state.calls() == []
    # Reset forgets activity, not configuration: the rate limit set above still holds.
    assert standin.state.rate_limiter.policy.burst == 5


async def test_reset_keeps_the_directory_and_drops_dms(
    client: AsyncWebClient, state: Workspace
) -> None:
    dm = await client.conversations_open(users="U_SATO")

    state.reset()

    assert dm["channel"]["id"] not in state.channels
    assert state.channels["C_SDR"].members[0] == "U_MQLBOT"
    assert state.calls() == []


async def test_response_url_replaces_posts_and_answers_ephemerally(standin: Standin) -> None:
    state = standin.state
    card = state.post_message("C_SDR", text="card")
    token = state.issue_response_url("C_SDR", "U_SATO", card.ts)
    url = f"{standin.server.url}_standin/respond/{token}"

    async with httpx.AsyncClient() as http:
        replaced = await http.post(url, json={"replace_original": True, "text": "claimed"})
        await http.post(url, json={"response_type": "in_channel", "text": "公開"})
        await http.post(url, json={"text": "just you"})
        expired = await http.post(f"{standin.server.url}_standin/respond/nope", json={"text": "x"})

    assert replaced.json() == {"ok": True}
    assert [m.text for m in state.messages("C_SDR")] == ["claimed", "公開"]
    assert [e.text for e in state.ephemerals("C_SDR", "U_SATO")] == ["just you"]
    assert (expired.status_code, expired.json()["error"]) == (404, "expired_url")
