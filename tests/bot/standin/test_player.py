"""The user player: payloads Slack would send, signed so slack_sdk's verifier accepts them."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackUserPlayer, Workspace
from bot.standin.player import slack_signature

SECRET = "test-signing-secret"
CARD: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "New MQL: Aiko Sato"}},
    {
        "type": "section",
        "block_id": "who",
        "text": {"type": "mrkdwn", "text": "Example KK"},
        "accessory": {
            "type": "button",
            "action_id": "open_lead",
            "value": "crm-42",
            "text": {"type": "plain_text", "text": "詳細"},
        },
    },
    {
        "type": "actions",
        "block_id": "mql:7",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "value": "7",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Claim"},
            },
            {
                "type": "button",
                "action_id": "disqualify",
                "value": "7",
                "text": {"type": "plain_text", "text": "Disqualified"},
            },
        ],
    },
]
REASON_MODAL = {
    "type": "modal",
    "callback_id": "recycle",
    "private_metadata": "7",
    "title": {"type": "plain_text", "text": "Recycle"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {
                "type": "static_select",
                "action_id": "choice",
                "options": [
                    {"text": {"type": "plain_text", "text": "Timing"}, "value": "timing"},
                    {"text": {"type": "plain_text", "text": "予算"}, "value": "budget"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        },
        {
            "type": "input",
            "block_id": "back_on",
            "optional": True,
            "label": {"type": "plain_text", "text": "Back on"},
            "element": {"type": "datepicker", "action_id": "date"},
        },
    ],
}


class RecordingBot:
    """A stand-in for the bot's /slack/events: verifies like Bolt, records what arrived."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.app = FastAPI()
        verifier = SignatureVerifier(SECRET)

        @self.app.post("/slack/events")
        async def events(request: Request) -> Response:
            body = await request.body()
            if not verifier.is_valid_request(body, dict(request.headers)):
                return JSONResponse({"error": "invalid signature"}, status_code=401)
            if request.headers["content-type"] == "application/json":
                parsed: Any = json.loads(body)
            else:
                parsed = dict(parse_qsl(body.decode()))
                if "payload" in parsed:
                    parsed = json.loads(parsed["payload"])
            self.received.append({"body": parsed, "headers": dict(request.headers)})
            return JSONResponse({"ok": True})


@pytest.fixture
def bot() -> RecordingBot:
    return RecordingBot()


@pytest.fixture
async def player(bot: RecordingBot, state: Workspace) -> AsyncIterator[SlackUserPlayer]:
    transport = httpx.ASGITransport(app=bot.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        yield SlackUserPlayer("http://bot", SECRET, state, client=http)


def test_signature_matches_slack_sdk_verifier() -> None:
    body = b"payload=%7B%7D"
    timestamp = int(time.time())
    signature = slack_signature(SECRET, timestamp, body)

    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, str(timestamp), signature)
    assert signature == verifier.generate_signature(timestamp=str(timestamp), body=body)


def test_find_button_by_visible_label(player: SlackUserPlayer, state: Workspace) -> None:
    card = state.post_message("C_SDR", text="New MQL", blocks=CARD)

    assert player.find_button("C_SDR", card.ts, "Claim") == ("claim", "7", "mql:7")
    assert player.find_button("C_SDR", card.ts, "詳細") == ("open_lead", "crm-42", "who")
    with pytest.raises(LookupError) as caught:
        player.find_button("C_SDR", card.ts, "SQL")
    assert str(caught.value) == (
        f"no button labelled 'SQL' in message {card.ts} of C_SDR; "
        "buttons shown: '詳細', 'Claim', 'Disqualified'"
    )


def test_find_button_sees_the_latest_version(player: SlackUserPlayer, state: Workspace) -> None:
    card = state.post_message("C_SDR", text="New MQL", blocks=CARD)
    sql = {
        "type": "button",
        "action_id": "sql",
        "value": "7",
        "text": {"type": "plain_text", "text": "SQL"},
    }
    state.update_message("C_SDR", card.ts, blocks=[{"type": "actions", "elements": [sql]}])

    assert player.find_button("C_SDR", card.ts, "SQL") == ("sql", "7", "standin-block-0")
    with pytest.raises(LookupError):
        player.find_button("C_SDR", card.ts, "Claim")


async def test_click_sends_a_block_actions_payload_with_a_usable_trigger(
    player: SlackUserPlayer, bot: RecordingBot, state: Workspace, client: AsyncWebClient
) -> None:
    card = state.post_message("C_SDR", text="New MQL", blocks=CARD)

    response = await player.click("U_SATO", "C_SDR", card.ts, "Claim")

    assert (response.status, response.json()) == (200, {"ok": True})
    [arrived] = bot.received
    payload = arrived["body"]
    assert payload["type"] == "block_actions"
    assert payload["user"] == {
        "id": "U_SATO",
        "username": "sato",
        "name": "sato",
        "team_id": "T0STANDIN",
    }
    assert payload["team"] == {"id": "T0STANDIN", "domain": "standin"}
    assert payload["channel"] == {"id": "C_SDR", "name": "inside-sales"}
    assert payload["container"] == {
        "type": "message",
        "message_ts": card.ts,
        "channel_id": "C_SDR",
        "is_ephemeral": False,
    }
    assert payload["message"]["blocks"] == CARD
    [action] = payload["actions"]
    assert {k: action[k] for k in ("type", "action_id", "block_id", "value", "style")} == {
        "type": "button",
        "action_id": "claim",
        "block_id": "mql:7",
        "value": "7",
        "style": "primary",
    }
    assert action["text"] == {"type": "plain_text", "text": "Claim"}
    opened = await client.views_open(trigger_id=payload["trigger_id"], view=REASON_MODAL)
    assert state.views[opened["view"]["id"]].user_id == "U_SATO"


async def test_submit_view_shapes_values_by_element_type(
    player: SlackUserPlayer, bot: RecordingBot, state: Workspace
) -> None:
    view = state.open_view("U_SATO", REASON_MODAL)

    await player.submit_view(
        "U_SATO", view.id, {"reason": "budget", "note": {"text": "来期に再検討"}}
    )

    payload = bot.received[0]["body"]
    assert payload["type"] == "view_submission"
    assert payload["view"]["id"] == view.id
    assert payload["view"]["private_metadata"] == "7"
    assert payload["view"]["callback_id"] == "recycle"
    assert payload["view"]["state"]["values"] == {
        "reason": {
            "choice": {
                "type": "static_select",
                "selected_option": {
                    "text": {"type": "plain_text", "text": "予算"},
                    "value": "budget",
                },
            }
        },
        "note": {"text": {"type": "plain_text_input", "value": "来期に再検討"}},
        "back_on": {"date": {"type": "datepicker", "selected_date": None}},
    }


async def test_submit_view_refuses_unknown_blocks_and_options(
    player: SlackUserPlayer, state: Workspace
) -> None:
    view = state.open_view("U_SATO", REASON_MODAL)

    with pytest.raises(ValueError, match="no input block with block_id why"):
        await player.submit_view("U_SATO", view.id, {"why": "x"})
    with pytest.raises(ValueError, match="option 'spam' is not offered"):
        await player.submit_view("U_SATO", view.id, {"reason": "spam"})


async def test_slash_command_fields(player: SlackUserPlayer, bot: RecordingBot) -> None:
    await player.slash_command("U_EMILY", "C_SDR", "/mql", "list mine")

    body = bot.received[0]["body"]
    assert {k: body[k] for k in ("command", "text", "user_id", "user_name", "channel_id")} == {
        "command": "/mql",
        "text": "list mine",
        "user_id": "U_EMILY",
        "user_name": "emily",
        "channel_id": "C_SDR",
    }
    assert body["response_url"].startswith("https://hooks.slack.com/actions/T0STANDIN/")
    assert body["trigger_id"].count(".") == 2


async def test_events_and_retries(
    player: SlackUserPlayer, bot: RecordingBot, state: Workspace
) -> None:
    await player.app_home_opened("U_TANAKA", event_id="Ev0001", event_time=1732492800)
    await player.event(
        {"type": "app_mention", "user": "U_SATO", "text": "hi"}, event_id="Ev0002", retry_num=1
    )

    first, retried = bot.received
    assert first["body"]["type"] == "event_callback"
    assert (first["body"]["event_id"], first["body"]["event_time"]) == ("Ev0001", 1732492800)
    dm = state.dm_channel("U_TANAKA")
    assert dm is not None
    assert first["body"]["event"]["channel"] == dm.id
    assert first["body"]["event"]["tab"] == "home"
    assert retried["headers"]["x-slack-retry-num"] == "1"
    assert retried["headers"]["x-slack-retry-reason"] == "http_timeout"


async def test_old_forged_and_unsigned_requests_are_rejected(
    player: SlackUserPlayer, bot: RecordingBot
) -> None:
    body = b'{"type":"url_verification","challenge":"c"}'
    six_minutes_ago = int(time.time()) - 360

    old = await player.send(body, content_type="application/json", timestamp=six_minutes_ago)
    forged = await player.send(body, content_type="application/json", signature="v0=" + "0" * 64)
    unsigned = await player.send(body, content_type="application/json", signed=False)
    fresh = await player.send(body, content_type="application/json")

    assert [old.status, forged.status, unsigned.status, fresh.status] == [401, 401, 401, 200]
    assert len(bot.received) == 1


def test_untouched_inputs_are_submitted_with_their_initial_values() -> None:
    from bot.standin.player import _state_values

    blocks = [
        {
            "type": "input",
            "block_id": "when",
            "element": {"type": "datepicker", "action_id": "date", "initial_date": "2027-02-22"},
        },
        {
            "type": "input",
            "block_id": "why",
            "element": {
                "type": "static_select",
                "action_id": "reason",
                "options": [
                    {"text": {"type": "plain_text", "text": "Timing"}, "value": "timing"},
                    {"text": {"type": "plain_text", "text": "Budget"}, "value": "budget"},
                ],
                "initial_option": {
                    "text": {"type": "plain_text", "text": "Timing"},
                    "value": "timing",
                },
            },
        },
        {
            "type": "input",
            "block_id": "note",
            "element": {"type": "plain_text_input", "action_id": "n"},
        },
    ]
    state = _state_values(blocks, {"why": "budget"})
    assert state["when"] == {"date": {"type": "datepicker", "selected_date": "2027-02-22"}}
    assert state["why"]["reason"]["selected_option"]["value"] == "budget"
    assert state["note"] == {"n": {"type": "plain_text_input", "value": None}}
