"""views.* methods: trigger ids, updates with hashes, home tabs."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.standin import Workspace
from tests.bot.standin.conftest import Standin


def modal(title: str = "Disqualify", *, external_id: str | None = None) -> dict[str, object]:
    view: dict[str, object] = {
        "type": "modal",
        "callback_id": "disqualify",
        "private_metadata": "mql-7",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "理由"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    if external_id:
        view["external_id"] = external_id
    return view


HOME = {
    "type": "home",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*Your MQLs*: 3"}}],
}


async def test_open_with_fresh_trigger(client: AsyncWebClient, state: Workspace) -> None:
    trigger = state.issue_trigger("U_SATO")

    answer = await client.views_open(trigger_id=trigger, view=modal())

    view = state.views[answer["view"]["id"]]
    assert view.user_id == "U_SATO"
    assert view.payload["private_metadata"] == "mql-7"
    assert answer["view"]["callback_id"] == "disqualify"
    assert answer["view"]["state"] == {"values": {}}
    assert answer["view"]["hash"] == view.hash


async def test_trigger_older_than_three_seconds_is_expired(
    client: AsyncWebClient, standin: Standin
) -> None:
    trigger = standin.state.issue_trigger("U_SATO")
    standin.clock.offset = 3.5

    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=modal())

    assert caught.value.response["error"] == "expired_trigger_id"
    assert standin.state.views == {}


async def test_unknown_and_reused_triggers(client: AsyncWebClient, state: Workspace) -> None:
    trigger = state.issue_trigger("U_SATO")
    await client.views_open(trigger_id=trigger, view=modal())
    errors = []
    for trigger_id in ("123.456.unknown", trigger):
        with pytest.raises(SlackApiError) as caught:
            await client.views_open(trigger_id=trigger_id, view=modal())
        errors.append(caught.value.response["error"])

    assert errors == ["expired_trigger_id", "exchanged_trigger_id"]


async def test_missing_trigger_is_invalid_arguments(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("views.open", json={"view": modal()})

    assert caught.value.response["error"] == "invalid_arguments"
    assert caught.value.response["response_metadata"]["messages"] == [
        "[ERROR] missing required field: trigger_id"
    ]


async def test_update_by_id_and_external_id_and_hash_conflict(
    client: AsyncWebClient, state: Workspace
) -> None:
    opened = await client.views_open(
        trigger_id=state.issue_trigger("U_SATO"), view=modal(external_id="dq-7")
    )
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]

    by_id = await client.views_update(view_id=view_id, view=modal("Step 2"), hash=first_hash)
    by_external = await client.views_update(external_id="dq-7", view=modal("Step 3"))
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id=view_id, view=modal("Late"), hash=first_hash)

    assert by_id["view"]["title"]["text"] == "Step 2"
    assert by_external["view"]["id"] == view_id
    assert caught.value.response["error"] == "hash_conflict"
    assert [p["title"]["text"] for p in state.views[view_id].history] == [
        "Disqualify",
        "Step 2",
        "Step 3",
    ]


async def test_update_unknown_view_is_not_found(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id="V404", view=modal())

    assert caught.value.response["error"] == "not_found"


async def test_publish_home_per_user_and_republish(
    client: AsyncWebClient, state: Workspace
) -> None:
    first = await client.views_publish(user_id="U_EMILY", view=HOME)
    again = await client.views_publish(user_id="U_EMILY", view=HOME, hash=first["view"]["hash"])

    assert first["view"]["id"] == again["view"]["id"]
    assert state.home_tabs["U_EMILY"].type == "home"
    assert len(state.home_tabs["U_EMILY"].history) == 2
    with pytest.raises(SlackApiError) as caught:
        await client.views_publish(user_id="U_NOBODY", view=HOME)
    assert caught.value.response["error"] == "user_not_found"


async def test_push_stacks_on_the_open_modal(client: AsyncWebClient, state: Workspace) -> None:
    opened = await client.views_open(trigger_id=state.issue_trigger("U_SATO"), view=modal())

    pushed = await client.views_push(trigger_id=state.issue_trigger("U_SATO"), view=modal("More"))

    assert pushed["view"]["previous_view_id"] == opened["view"]["id"]
    assert pushed["view"]["root_view_id"] == opened["view"]["id"]
