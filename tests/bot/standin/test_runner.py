"""Running the stand-in in a background thread, as the demo and benchmarks do."""

from __future__ import annotations

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import StandinServer, Workspace


def test_sync_context_manager_serves_and_stops() -> None:
    server = StandinServer(Workspace.seeded(team_id="T_OTHER"))
    with server:
        base_url = server.base_url
        answer = httpx.post(
            base_url + "auth.test", headers={"Authorization": "Bearer xoxb-standin"}
        )

    assert base_url == f"http://127.0.0.1:{server.port}/api/"
    assert answer.json()["team_id"] == "T_OTHER"
    with pytest.raises(httpx.ConnectError):
        httpx.post(base_url + "auth.test")


async def test_async_context_manager_with_custom_token() -> None:
    async with StandinServer(token="xoxb-custom") as server:
        answer = await AsyncWebClient(token="xoxb-custom", base_url=server.base_url).auth_test()

    assert answer["user_id"] == "U_MQLBOT"


def test_port_before_start_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="the stand-in is not running: call start"):
        _ = StandinServer().port
