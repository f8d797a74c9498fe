"""Block Kit limits: each violation answered as Slack does, through slack_sdk over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace


def plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text)}


def button(label: str, action_id: str = "a", value: str = "v") -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": action_id, "value": value}


def actions(*elements: dict[str, Any], block_id: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "actions", "elements": list(elements)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


CASES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("51 blocks", [section("x")] * 51, "no more than 50 items allowed [json-pointer:/blocks]"),
    (
        "section text 3001",
        [section("あ" * 3001)],
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        "empty section text",
        [section("")],
        "must be at least 1 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        "header 151",
        [{"type": "header", "text": plain("h" * 151)}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        "header in mrkdwn",
        [{"type": "header", "text": mrkdwn("*MQL*")}],
        "must be a valid enum value (plain_text expected, got 'mrkdwn') "
        "[json-pointer:/blocks/0/text/type]",
    ),
    (
        "button text 76",
        [actions(button("b" * 76))],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    (
        "button text in mrkdwn",
        [actions({"type": "button", "text": mrkdwn("*Claim*"), "action_id": "claim"})],
        "must be a valid enum value (plain_text expected, got 'mrkdwn') "
        "[json-pointer:/blocks/0/elements/0/text/type]",
    ),
    (
        "button value 2001",
        [actions(button("Claim", value="v" * 2001))],
        "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    (
        "action_id 256",
        [actions(button("Claim", action_id="a" * 256))],
        "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
    (
        "block_id 256",
        [actions(button("Claim"), block_id="b" * 256)],
        "must be less than 256 characters [json-pointer:/blocks/0/block_id]",
    ),
    (
        "duplicate block_id",
        [actions(button("A", "a"), block_id="card"), actions(button("B", "b"), block_id="card")],
        "duplicate block_id: card [json-pointer:/blocks/1/block_id]",
    ),
    (
        "duplicate action_id",
        [actions(button("Claim", "claim")), actions(button("Claim again", "claim"))],
        "duplicate action_id: claim [json-pointer:/blocks/1/elements/0/action_id]",
    ),
    (
        "26 action elements",
        [actions(*(button(str(i), f"a{i}") for i in range(26)))],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "11 context elements",
        [{"type": "context", "elements": [mrkdwn(str(i)) for i in range(11)]}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "11 section fields",
        [{"type": "section", "fields": [mrkdwn(str(i)) for i in range(11)]}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    (
        "field text 2001",
        [{"type": "section", "fields": [mrkdwn("f" * 2001)]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    (
        "unknown text type",
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        "must be a valid enum value (plain_text or mrkdwn expected, got 'markdown') "
        "[json-pointer:/blocks/0/text/type]",
    ),
    (
        "unknown block type",
        [{"type": "card"}],
        "unsupported type: card [json-pointer:/blocks/0/type]",
    ),
]


@pytest.mark.parametrize(("blocks", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
async def test_message_limit_violation(
    client: AsyncWebClient, state: Workspace, blocks: list[dict[str, Any]], expected: str
) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_SDR", text="fallback", blocks=blocks)

    assert caught.value.response["error"] == "invalid_blocks"
    assert caught.value.response["errors"] == [expected]
    assert state.messages("C_SDR") == []


async def test_limits_apply_to_updates_too(client: AsyncWebClient, state: Workspace) -> None:
    posted = await client.chat_postMessage(channel="C_SDR", text="ok", blocks=[section("ok")])

    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(
            channel="C_SDR", ts=posted["ts"], text="ok", blocks=[section("x" * 3001)]
        )

    assert caught.value.response["error"] == "invalid_blocks"
    assert state.message("C_SDR", posted["ts"]).blocks == [section("ok")]


async def test_exactly_at_the_limits_is_accepted(client: AsyncWebClient) -> None:
    blocks = [section("s" * 3000), {"type": "header", "text": plain("h" * 150)}]
    blocks.append(actions(*(button("b" * 75, f"a{i}", "v" * 2000) for i in range(25))))
    blocks += [section(str(i)) for i in range(47)]

    answer = await client.chat_postMessage(channel="C_SDR", text="t" * 40_000, blocks=blocks)

    assert len(answer["message"]["blocks"]) == 50


async def test_message_text_over_40000_is_too_long(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel="C_SDR", text="t" * 40_001)

    assert caught.value.response["error"] == "msg_too_long"


async def test_blocks_without_text_are_accepted(client: AsyncWebClient, state: Workspace) -> None:
    await client.api_call("chat.postMessage", json={"channel": "C_SDR", "blocks": [section("x")]})

    assert state.messages("C_SDR")[0].text == ""


async def test_modal_title_over_24(client: AsyncWebClient, state: Workspace) -> None:
    view = {"type": "modal", "title": plain("リサイクル理由" + "あ" * 18), "blocks": []}

    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=state.issue_trigger("U_SATO"), view=view)

    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]


async def test_home_tab_over_100_blocks(client: AsyncWebClient) -> None:
    ok = await client.views_publish(
        user_id="U_SATO", view={"type": "home", "blocks": [section("x")] * 100}
    )
    with pytest.raises(SlackApiError) as caught:
        await client.views_publish(
            user_id="U_SATO", view={"type": "home", "blocks": [section("x")] * 101}
        )

    assert len(ok["view"]["blocks"]) == 100
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


async def test_modal_with_input_needs_submit(client: AsyncWebClient, state: Workspace) -> None:
    view = {
        "type": "modal",
        "title": plain("Recycle"),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Reason"),
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }

    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=state.issue_trigger("U_SATO"), view=view)

    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] submit is required when an input block is within the blocks array "
        "[json-pointer:/view/submit]"
    ]
