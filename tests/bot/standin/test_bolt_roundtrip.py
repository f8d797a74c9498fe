"""A real slack_bolt AsyncApp, unchanged, against the stand-in and driven by the player."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import SlackUserPlayer
from tests.bot.standin.conftest import TOKEN, Standin

SECRET = "bolt-signing-secret"
CLAIM_CARD = [
    {
        "type": "actions",
        "block_id": "mql:9",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "value": "9",
                "text": {"type": "plain_text", "text": "担当する"},
            }
        ],
    }
]
NOTE_MODAL = {
    "type": "modal",
    "callback_id": "note",
    "title": {"type": "plain_text", "text": "メモ"},
    "submit": {"type": "plain_text", "text": "保存"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "text"},
        }
    ],
}


@pytest.fixture
async def bolt(standin: Standin) -> AsyncIterator[tuple[SlackUserPlayer, list[Any]]]:
    submitted: list[Any] = []
    app = AsyncApp(
        token=TOKEN,
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=standin.server.base_url),
        process_before_response=True,
    )

    @app.action("claim")
    async def claim(ack: Any, body: Any, client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=NOTE_MODAL)
        who = body["user"]["id"]
        await client.chat_update(
            channel=body["channel"]["id"],
            ts=body["message"]["ts"],
            text=f"Claimed by <@{who}>",
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": f"担当: <@{who}>"}}],
        )
        await respond(text="あなたの担当です", response_type="ephemeral", replace_original=False)

    @app.view("note")
    async def note(ack: Any, view: Any) -> None:
        await ack()
        submitted.append(view["state"]["values"])

    web = FastAPI()
    handler = AsyncSlackRequestHandler(app)

    @web.post("/slack/events")
    async def events(request: Request) -> Response:
        return await handler.handle(request)

    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        player = SlackUserPlayer(
            "http://bot",
            SECRET,
            standin.state,
            client=http,
            response_url_base=standin.server.url,
        )
        yield player, submitted


async def test_click_modal_update_respond_and_submit(
    bolt: tuple[SlackUserPlayer, list[Any]], standin: Standin
) -> None:
    player, submitted = bolt
    state = standin.state
    card = state.post_message("C_SDR", text="New MQL", blocks=CLAIM_CARD)

    clicked = await player.click("U_SATO", "C_SDR", card.ts, "担当する")
    [view] = state.views.values()
    submitted_answer = await player.submit_view("U_SATO", view.id, {"note": "来週電話"})

    assert clicked.status == 200
    assert submitted_answer.status == 200
    assert state.message("C_SDR", card.ts).text == "Claimed by <@U_SATO>"
    assert [e.text for e in state.ephemerals("C_SDR", "U_SATO")] == ["あなたの担当です"]
    assert submitted == [{"note": {"text": {"type": "plain_text_input", "value": "来週電話"}}}]
    assert [c.method for c in state.calls()] == [
        "auth.test",
        "views.open",
        "chat.update",
        "response_url",
    ]
