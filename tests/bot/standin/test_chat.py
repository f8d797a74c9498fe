"""chat.* methods through slack_sdk over real HTTP, checked against the stand-in's state."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace

CARD: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "新しいMQL: 佐藤 愛子"}},
    {
        "type": "actions",
        "block_id": "card_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "value": "mql-1",
                "text": {"type": "plain_text", "text": "Claim"},
            }
        ],
    },
]


async def test_post_message_is_stored_with_blocks_and_returned(
    client: AsyncWebClient, state: Workspace
) -> None:
    answer = await client.chat_postMessage(channel="C_SDR", text="New MQL", blocks=CARD)

    assert answer["channel"] == "C_SDR"
    assert answer["message"]["text"] == "New MQL"
    assert answer["message"]["bot_id"] == "B_MQLBOT"
    [message] = state.messages("C_SDR")
    assert (message.ts, message.user, message.text) == (answer["ts"], "U_MQLBOT", "New MQL")
    assert message.blocks == CARD
    assert state.calls("chat.postMessage")[0].args["channel"] == "C_SDR"


async def test_channel_can_be_named_and_user_id_posts_to_their_dm(
    client: AsyncWebClient, state: Workspace
) -> None:
    by_name = await client.chat_postMessage(channel="#marketing", text="digest")
    to_user = await client.chat_postMessage(channel="U_SATO", text="こんにちは")

    assert by_name["channel"] == "C_MKT"
    dm = state.dm_channel("U_SATO")
    assert dm is not None
    assert to_user["channel"] == dm.id
    assert [m.text for m in state.messages(dm.id)] == ["こんにちは"]


async def test_ts_values_are_unique_and_increasing(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel="C_SDR", text=str(i)))["ts"] for i in range(5)]

    assert len(set(stamps)) == 5
    assert stamps == sorted(stamps, key=float)
    assert all(len(ts.split(".")[1]) == 6 for ts in stamps)


async def test_thread_reply_and_broadcast(client: AsyncWebClient, state: Workspace) -> None:
    parent = await client.chat_postMessage(channel="C_SDR", text="card")
    reply = await client.chat_postMessage(channel="C_SDR", text="reminder", thread_ts=parent["ts"])
    loud = await client.chat_postMessage(
        channel="C_SDR", text="escalation", thread_ts=reply["ts"], reply_broadcast=True
    )

    assert [m.text for m in state.replies("C_SDR", parent["ts"])] == ["reminder", "escalation"]
    assert state.message("C_SDR", loud["ts"]).thread_ts == parent["ts"]
    assert [m.text for m in state.top_level("C_SDR")] == ["card", "escalation"]
    assert reply["message"]["thread_ts"] == parent["ts"]


async def test_unfurl_flags_are_recorded(client: AsyncWebClient, state: Workspace) -> None:
    answer = await client.chat_postMessage(
        channel="C_SDR", text="https://example.com", unfurl_links=False, unfurl_media=False
    )

    message = state.message("C_SDR", answer["ts"])
    assert (message.unfurl_links, message.unfurl_media) == (False, False)


async def test_update_keeps_history_and_blocks_when_omitted(
    client: AsyncWebClient, state: Workspace
) -> None:
    posted = await client.chat_postMessage(channel="C_SDR", text="v1", blocks=CARD)
    claimed = [{"type": "section", "text": {"type": "mrkdwn", "text": "Claimed by <@U_SATO>"}}]

    await client.chat_update(channel="C_SDR", ts=posted["ts"], text="v2", blocks=claimed)
    answer = await client.chat_update(channel="C_SDR", ts=posted["ts"], text="v3")

    message = state.message("C_SDR", posted["ts"])
    assert [v.text for v in message.history] == ["v1", "v2", "v3"]
    assert message.blocks == claimed  # chat.update without blocks keeps the old ones
    assert message.edited
    assert answer["text"] == "v3"
    assert "edited" in answer["message"]


@pytest.mark.parametrize(
    ("channel", "error"), [("C_SDR", "message_not_found"), ("C_NOPE", "channel_not_found")]
)
async def test_update_errors(client: AsyncWebClient, channel: str, error: str) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=channel, ts="1.000001", text="x")

    assert caught.value.response["error"] == error


async def test_update_of_a_users_message_is_refused(
    client: AsyncWebClient, state: Workspace
) -> None:
    human = state.post_message("C_SDR", user="U_SATO", text="I'll take it")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel="C_SDR", ts=human.ts, text="edited by bot")

    assert caught.value.response["error"] == "cant_update_message"
    assert state.message("C_SDR", human.ts).text == "I'll take it"


async def test_post_errors_channel_not_found_not_in_channel_no_text(
    client: AsyncWebClient,
) -> None:
    errors = []
    # api_call directly: slack_sdk itself warns about a missing text before sending.
    for body in (
        {"channel": "C_NOPE", "text": "x"},
        {"channel": "C_GENERAL", "text": "x"},
        {"channel": "C_SDR"},
    ):
        with pytest.raises(SlackApiError) as caught:
            await client.api_call("chat.postMessage", json=body)
        errors.append(caught.value.response["error"])

    assert errors == ["channel_not_found", "not_in_channel", "no_text"]


async def test_reply_to_unknown_thread_is_refused(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_SDR", text="x", thread_ts="1.000001")

    assert caught.value.response["error"] == "thread_not_found"


async def test_ephemeral_goes_to_members_only(client: AsyncWebClient, state: Workspace) -> None:
    answer = await client.chat_postEphemeral(
        channel="C_SDR", user="U_TANAKA", text="すでに佐藤さんが担当しています"
    )
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postEphemeral(channel="C_SDR", user="U_OLIVIA", text="x")

    [ephemeral] = state.ephemerals("C_SDR", "U_TANAKA")
    assert (ephemeral.ts, ephemeral.text) == (
        answer["message_ts"],
        "すでに佐藤さんが担当しています",
    )
    assert caught.value.response["error"] == "user_not_in_channel"
    assert state.messages("C_SDR") == []


async def test_permalink_for_message_and_reply(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C_SDR", text="card")
    reply = await client.chat_postMessage(channel="C_SDR", text="r", thread_ts=parent["ts"])

    top = await client.chat_getPermalink(channel="C_SDR", message_ts=parent["ts"])
    threaded = await client.chat_getPermalink(channel="C_SDR", message_ts=reply["ts"])

    digits = parent["ts"].replace(".", "")
    assert top["permalink"] == f"https://standin.slack.com/archives/C_SDR/p{digits}"
    assert threaded["permalink"].endswith(f"?thread_ts={parent['ts']}&cid=C_SDR")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_getPermalink(channel="C_SDR", message_ts="1.000001")
    assert caught.value.response["error"] == "message_not_found"


async def test_delete_removes_the_message(client: AsyncWebClient, state: Workspace) -> None:
    posted = await client.chat_postMessage(channel="C_SDR", text="oops")

    await client.chat_delete(channel="C_SDR", ts=posted["ts"])

    assert state.messages("C_SDR") == []
