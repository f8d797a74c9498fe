"""conversations.*, users.info and usergroups.users.list."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace


async def test_open_creates_one_dm_per_user(client: AsyncWebClient, state: Workspace) -> None:
    first = await client.conversations_open(users="U_SATO")
    again = await client.conversations_open(users=["U_SATO"])

    dm_id = first["channel"]["id"]
    assert dm_id.startswith("D")
    assert again["channel"]["id"] == dm_id
    assert again["already_open"] is True
    assert state.channels[dm_id].members == ["U_SATO", "U_MQLBOT"]


async def test_open_several_users_is_a_group_dm(client: AsyncWebClient) -> None:
    answer = await client.conversations_open(users="U_SATO,U_SUZUKI", return_im=True)

    assert answer["channel"]["id"].startswith("G")
    assert answer["channel"]["is_mpim"] is True


async def test_open_unknown_user(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_open(users="U_GHOST")

    assert caught.value.response["error"] == "user_not_found"


async def test_info(client: AsyncWebClient) -> None:
    answer = await client.conversations_info(channel="C_SDR", include_num_members=True)

    assert answer["channel"]["name"] == "inside-sales"
    assert answer["channel"]["is_member"] is True
    assert answer["channel"]["num_members"] == 6
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_info(channel="C_NOPE")
    assert caught.value.response["error"] == "channel_not_found"


async def test_members_are_paginated_with_cursors(client: AsyncWebClient) -> None:
    pages: list[list[str]] = []
    cursor = None
    while True:
        answer = await client.conversations_members(channel="C_SDR", limit=4, cursor=cursor)
        pages.append(answer["members"])
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert pages == [
        ["U_MQLBOT", "U_SATO", "U_TANAKA", "U_EMILY"],
        ["U_SUZUKI", "U_JAMES"],
    ]


async def test_members_with_a_bad_cursor(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_members(channel="C_SDR", cursor="not-a-cursor!")

    assert caught.value.response["error"] == "invalid_cursor"


async def test_users_info_japanese_and_english(client: AsyncWebClient) -> None:
    sato = await client.users_info(user="U_SATO")
    james = await client.users_info(user="U_JAMES")

    assert (sato["user"]["real_name"], sato["user"]["tz"]) == ("佐藤 愛子", "Asia/Tokyo")
    assert sato["user"]["profile"]["display_name"] == "sato"
    assert (james["user"]["real_name"], james["user"]["tz"]) == ("James Wilson", "Europe/London")
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U_GHOST")
    assert caught.value.response["error"] == "user_not_found"


async def test_usergroup_members(client: AsyncWebClient) -> None:
    answer = await client.usergroups_users_list(usergroup="S_SDR")

    assert answer["users"] == ["U_SATO", "U_TANAKA", "U_EMILY"]
    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_users_list(usergroup="S_NONE")
    assert caught.value.response["error"] == "no_such_subteam"
