"""The card's "Not a real MQL" flag: modal at once, owner or manager only, once, on the card and thread."""

from __future__ import annotations

from typing import Any

from handlers.present.actions import ActionId, BlockId
from handlers.slack.flag import handle_flag_button, handle_flag_submission
from store.engine import SessionFactory
from store.models import MqlState
from tests.handlers.slack.changes_builders import (
    MANAGER,
    SDR_A,
    SDR_B,
    Ack,
    FakeSlack,
    add_mql,
    audit,
    button_labels,
    card_text,
    click,
    deps,
    load,
    outbox,
    select_value,
    submission,
)


def reason(key: str) -> dict[str, Any]:
    return select_value(BlockId.FLAG_BAD_REASON.value, ActionId.FLAG_BAD_REASON, key)


async def submit(
    sessions: SessionFactory, slack: FakeSlack, user: str, mql_id: int, key: str
) -> Ack:
    ack = Ack(slack)
    body = submission(user, ActionId.FLAG_BAD_MODAL, str(mql_id), reason(key))
    await handle_flag_submission(ack=ack, body=body, client=slack, deps=deps(sessions))
    return ack


async def test_the_button_opens_the_reason_modal_at_once(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    body = click(SDR_A, ActionId.FLAG_BAD.value, str(mql_id), trigger="T0FLAG")
    await handle_flag_button(ack=Ack(slack), body=body, client=slack, deps=deps(sessions))
    assert [name for name, _ in slack.calls] == ["ack", "views.open"]
    [opened] = slack.called("views.open")
    view = opened["view"]
    assert (view["callback_id"], view["private_metadata"]) == ("mql_flag_bad_modal", str(mql_id))
    options = view["blocks"][0]["element"]["options"]
    assert [o["value"] for o in options] == ["no_fit", "no_intent", "duplicate", "bad_data"]


async def test_the_owner_flags_it_and_the_card_and_thread_say_so(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions, state=MqlState.SQL, owner_id=SDR_A)
    slack = FakeSlack()
    ack = await submit(sessions, slack, SDR_A, mql_id, "no_fit")
    assert ack.calls == [{}]
    mql = await load(sessions, mql_id)
    assert (mql.bad_reason, mql.bad_by, mql.version, mql.state) == ("no_fit", SDR_A, 2, "sql")
    (update,) = await outbox(sessions, "update")
    assert "Flagged not a real MQL: No fit (wrong company or role) (<@U0SDRA>)" in card_text(update)
    assert "Not a real MQL" not in button_labels(update)
    (reply,) = await outbox(sessions, "reply")
    assert reply.payload["text"] == (
        "<@U0SDRA> flagged this as not a real MQL: No fit (wrong company or role). "
        "Marketing's calibration counts it."
    )
    assert ("U0SDRA", "flag_bad", "sql", "sql") in await audit(sessions)
    # A second submission (double click) changes nothing.
    await submit(sessions, slack, SDR_A, mql_id, "duplicate")
    assert (await load(sessions, mql_id)).bad_reason == "no_fit"
    assert len(await outbox(sessions, "reply")) == 1


async def test_another_sdr_may_not_but_a_manager_may(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    await submit(sessions, slack, SDR_B, mql_id, "no_fit")
    assert (await load(sessions, mql_id)).bad_reason is None
    [told] = slack.called("chat.postEphemeral")
    assert (told["user"], told["text"]) == (SDR_B, "Only the owner or a manager can flag this MQL.")
    await submit(sessions, slack, MANAGER, mql_id, "bad_data")
    assert (await load(sessions, mql_id)).bad_by == MANAGER


async def test_a_reason_never_offered_is_refused_in_the_modal(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    ack = await submit(sessions, FakeSlack(), SDR_A, mql_id, "hacker")
    assert ack.calls == [
        {"response_action": "errors",
         "errors": {"mql_flag_bad_reason_block": "Choose one of the listed reasons."}}
    ]  # fmt: skip
    assert (await load(sessions, mql_id)).bad_reason is None
