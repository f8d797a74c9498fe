"""Managers' overflow against real SQLite and a fake Slack: release, reassign, reopen, refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.dispositions import DISPOSITIONS, LOCKED_STATES, DispositionSpec
from handlers.present.actions import ActionId, BlockId, ManagerAction, manager_value
from handlers.slack.manager import handle_menu, handle_reassign
from store import claims
from store.engine import SessionFactory
from store.models import MqlState
from tests.handlers.slack.changes_builders import (
    CHANNEL,
    MANAGER,
    NOW,
    SDR_A,
    SDR_B,
    Ack,
    FakeSlack,
    add_mql,
    audit,
    button_labels,
    deps,
    lead_stage,
    load,
    outbox,
    overflow,
    submission,
)


async def menu(sessions: SessionFactory, slack: FakeSlack, user: str, value: str) -> None:
    await handle_menu(ack=Ack(slack), body=overflow(user, value), client=slack, deps=deps(sessions))


async def reassign(sessions: SessionFactory, slack: FakeSlack, user: str, mql: str, to: str) -> Ack:
    ack = Ack(slack)
    values = {BlockId.REASSIGN_USER.value: {ActionId.REASSIGN_USER.value: {"selected_user": to}}}
    body = submission(user, ActionId.REASSIGN_MODAL, mql, values)
    await handle_reassign(ack=ack, body=body, client=slack, deps=deps(sessions))
    return ack


async def test_a_manager_releases_a_claim_and_the_claim_button_returns(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, manager_value(ManagerAction.RELEASE, str(mql_id)))

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.claimed_at, mql.claim_business_seconds) == (
        MqlState.OPEN,
        None,
        None,
        None,
    )
    # The unclaimed clock resumes from the MQL's creation: its first level is 15 min after it.
    assert mql.nag_due_at == NOW + timedelta(minutes=12)
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == (
        "<@U0MGR> released the claim of <@U0SDRA>: this MQL is open again."
    )
    [update] = await outbox(sessions, "update")
    assert button_labels(update) == ["Claim"]
    assert await audit(sessions) == [(MANAGER, "release", "claimed", "open")]
    assert slack.ephemerals() == []


@pytest.mark.parametrize("action", list(ManagerAction))
async def test_anyone_else_is_refused_whatever_the_payload_says(
    sessions: SessionFactory, action: ManagerAction
) -> None:
    mql_id = await add_mql(sessions, state=MqlState.DISQUALIFIED, owner_id=SDR_A)
    slack = FakeSlack()
    await menu(sessions, slack, SDR_A, manager_value(action, str(mql_id)))

    assert slack.ephemerals() == [(CHANNEL, SDR_A, "Only managers can do that.")]
    assert slack.called("views.open") == []
    assert (await load(sessions, mql_id)).version == 1


async def test_a_non_manager_submitting_a_reassign_modal_is_refused(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    await reassign(sessions, slack, SDR_B, str(mql_id), SDR_B)

    assert slack.ephemerals() == [(CHANNEL, SDR_B, "Only managers can do that.")]
    assert (await load(sessions, mql_id)).owner_id == SDR_A


async def test_reassign_opens_the_modal_then_moves_the_claim(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, manager_value(ManagerAction.REASSIGN, str(mql_id)))
    [opened] = slack.called("views.open")
    assert opened["view"]["callback_id"] == ActionId.REASSIGN_MODAL.value
    assert opened["view"]["private_metadata"] == str(mql_id)

    ack = await reassign(sessions, slack, MANAGER, str(mql_id), SDR_B)

    assert ack.calls == [{}]
    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id) == (MqlState.CLAIMED, SDR_B)
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0MGR> reassigned this MQL from <@U0SDRA> to <@U0SDRB>."
    assert await audit(sessions) == [(MANAGER, "reassign", "claimed", "claimed")]
    [hook] = await outbox(sessions, "webhook")
    assert (hook.payload["previous_owner"], hook.payload["owner"]) == (SDR_A, SDR_B)


async def test_assigning_an_open_mql_claims_it_for_the_new_owner(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await reassign(sessions, slack, MANAGER, str(mql_id), SDR_B)

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.claimed_at, mql.claim_business_seconds) == (
        MqlState.CLAIMED,
        SDR_B,
        NOW,
        180,
    )
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0MGR> assigned this MQL to <@U0SDRB>."


async def test_a_forged_user_in_the_reassign_modal_goes_back_as_an_error(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    ack = await reassign(sessions, FakeSlack(), MANAGER, str(mql_id), "U1>@<!channel")

    assert ack.calls == [
        {
            "response_action": "errors",
            "errors": {BlockId.REASSIGN_USER.value: "Please check this field."},
        }
    ]
    assert (await load(sessions, mql_id)).owner_id == SDR_A


async def test_reopen_turns_a_disqualified_mql_into_a_lead(sessions: SessionFactory) -> None:
    mql_id = await add_mql(
        sessions,
        state=MqlState.DISQUALIFIED,
        owner_id=SDR_A,
        lead_stage="disqualified",
        reason="spam",
    )
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, manager_value(ManagerAction.REOPEN, str(mql_id)))

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.reason, mql.disposition_by) == (MqlState.LEAD, None, MANAGER)
    assert await lead_stage(sessions, mql_id) == "lead"
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0MGR> reopened this MQL."
    [update] = await outbox(sessions, "update")
    assert button_labels(update) == ["SQL", "Lead", "Recycled", "Disqualified", "Not a real MQL"]
    assert await audit(sessions) == [(MANAGER, "reopen", "disqualified", "lead")]


@pytest.mark.parametrize(
    ("state", "action", "text"),
    [
        (
            MqlState.SQL,
            ManagerAction.RELEASE,
            "Only a claimed MQL without a disposition can be released; reassign it instead.",
        ),
        (MqlState.CLAIMED, ManagerAction.REOPEN, "Only a disqualified MQL can be reopened."),
    ],
)
async def test_actions_that_do_not_fit_the_state_are_explained(
    sessions: SessionFactory, state: MqlState, action: ManagerAction, text: str
) -> None:
    mql_id = await add_mql(sessions, state=state, owner_id=SDR_A)
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, manager_value(action, str(mql_id)))

    assert slack.ephemerals() == [(CHANNEL, MANAGER, text)]
    assert (await load(sessions, mql_id)).version == 1


@pytest.mark.parametrize("spec", DISPOSITIONS, ids=lambda spec: spec.state.value)
async def test_only_the_locked_dispositions_can_be_reopened(
    sessions: SessionFactory, spec: DispositionSpec
) -> None:
    state = spec.state
    mql_id = await add_mql(sessions, state=state, owner_id=SDR_A, reason="spam")
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, manager_value(ManagerAction.REOPEN, str(mql_id)))

    mql = await load(sessions, mql_id)
    if state in LOCKED_STATES:
        assert (mql.state, slack.ephemerals()) == (MqlState.LEAD, [])
        assert await audit(sessions) == [(MANAGER, "reopen", state.value, "lead")]
    else:
        text = "Only a disqualified MQL can be reopened."
        assert (mql.state, slack.ephemerals()) == (state, [(CHANNEL, MANAGER, text)])


async def test_reopen_in_the_store_follows_the_locked_states_it_is_given(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions, state=MqlState.RECYCLED, owner_id=SDR_A, reason="timing")

    async def reopen(locked: list[MqlState]) -> bool:
        async with sessions() as session, session.begin():
            return await claims.reopen(
                session, mql_id=mql_id, version=1, locked=locked, actor=MANAGER, now=NOW
            )

    assert not await reopen([MqlState.DISQUALIFIED])
    with pytest.raises(ValueError, match="at least one locked state"):
        await reopen([])
    assert await reopen([MqlState.RECYCLED])
    mql = await load(sessions, mql_id)
    assert (mql.state, mql.reason, mql.version) == (MqlState.LEAD, None, 2)


@pytest.mark.parametrize("value", ["release", "release:", "explode:1", "release:abc", "release:99"])
async def test_forged_menu_values_change_nothing(sessions: SessionFactory, value: str) -> None:
    mql_id = await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A)
    slack = FakeSlack()
    await menu(sessions, slack, MANAGER, value)

    assert slack.ephemerals() == [(CHANNEL, MANAGER, "This MQL no longer exists.")]
    assert (await load(sessions, mql_id)).version == 1
