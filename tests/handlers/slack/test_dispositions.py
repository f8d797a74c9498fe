"""Disposition listeners against real SQLite and a fake Slack: modals first, checks at submission."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from handlers.present.actions import ActionId, BlockId
from handlers.slack.dispositions import (
    handle_disposition_button,
    handle_recycle_reason,
    handle_submission,
)
from handlers.slack.manager import reopen_mql
from store.engine import SessionFactory
from store.models import Mql, MqlState
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
    card_text,
    click,
    deps,
    disqualify_values,
    lead_stage,
    lead_values,
    load,
    outbox,
    recycle_values,
    sql_values,
    submission,
)

TODAY = date(2026, 11, 24)  # NOW in Tokyo


async def submit(
    sessions: SessionFactory,
    slack: FakeSlack,
    user: str,
    callback: ActionId,
    metadata: str,
    values: dict[str, Any],
) -> Ack:
    ack = Ack(slack)
    body = submission(user, callback, metadata, values)
    await handle_submission(ack=ack, body=body, client=slack, deps=deps(sessions))
    return ack


async def claimed(sessions: SessionFactory, **fields: Any) -> int:
    return await add_mql(sessions, state=MqlState.CLAIMED, owner_id=SDR_A, **fields)


# ----- buttons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "callback"),
    [
        (ActionId.DISPOSITION_SQL, ActionId.SQL_MODAL),
        (ActionId.DISPOSITION_LEAD, ActionId.LEAD_MODAL),
        (ActionId.DISPOSITION_RECYCLED, ActionId.RECYCLE_MODAL),
        (ActionId.DISPOSITION_DISQUALIFIED, ActionId.DISQUALIFY_MODAL),
    ],
)
async def test_a_button_acks_then_opens_its_modal_without_touching_the_mql(
    sessions: SessionFactory, action: ActionId, callback: ActionId
) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    body = click(SDR_B, action.value, str(mql_id), trigger="T0ABC")
    await handle_disposition_button(ack=Ack(slack), body=body, client=slack, deps=deps(sessions))

    assert [name for name, _ in slack.calls] == ["ack", "views.open"]
    [opened] = slack.called("views.open")
    assert opened["trigger_id"] == "T0ABC"
    assert (opened["view"]["callback_id"], opened["view"]["private_metadata"]) == (
        callback.value,
        str(mql_id),
    )
    assert (await load(sessions, mql_id)).version == 1


async def test_the_recycle_modal_defaults_to_the_first_reasons_period_in_tokyo(
    sessions: SessionFactory,
) -> None:
    slack = FakeSlack()
    body = click(SDR_A, ActionId.DISPOSITION_RECYCLED.value, "7")
    await handle_disposition_button(ack=Ack(), body=body, client=slack, deps=deps(sessions))

    [opened] = slack.called("views.open")
    date_block = opened["view"]["blocks"][-1]
    assert date_block["block_id"] == f"{BlockId.RECYCLE_DATE_PREFIX.value}timing"
    assert date_block["element"]["initial_date"] == "2027-02-22"


async def test_a_forged_button_value_opens_nothing(sessions: SessionFactory) -> None:
    slack = FakeSlack()
    body = click(SDR_A, ActionId.DISPOSITION_SQL.value, "1 OR 1=1")
    await handle_disposition_button(ack=Ack(), body=body, client=slack, deps=deps(sessions))

    assert slack.called("views.open") == []
    assert slack.ephemerals() == [(CHANNEL, SDR_A, "This MQL no longer exists.")]


async def test_choosing_another_recycle_reason_resets_the_date(sessions: SessionFactory) -> None:
    slack = FakeSlack()
    body = {
        "type": "block_actions",
        "user": {"id": SDR_A},
        "view": {"id": "V0MODAL", "hash": "h1", "private_metadata": "7"},
        "actions": [
            {"action_id": ActionId.RECYCLE_REASON.value, "selected_option": {"value": "budget"}}
        ],
    }
    await handle_recycle_reason(ack=Ack(slack), body=body, client=slack, deps=deps(sessions))

    assert [name for name, _ in slack.calls] == ["ack", "views.update"]
    [update] = slack.called("views.update")
    assert (update["view_id"], update["hash"]) == ("V0MODAL", "h1")
    date_block = update["view"]["blocks"][-1]
    assert date_block["block_id"] == f"{BlockId.RECYCLE_DATE_PREFIX.value}budget"
    assert date_block["element"]["initial_date"] == (TODAY + timedelta(days=180)).isoformat()


async def test_a_reason_that_was_never_offered_leaves_the_modal_alone(
    sessions: SessionFactory,
) -> None:
    slack = FakeSlack()
    body = {
        "view": {"id": "V0MODAL", "hash": "h1", "private_metadata": "7"},
        "actions": [{"selected_option": {"value": "forged"}}],
        "user": {"id": SDR_A},
    }
    await handle_recycle_reason(ack=Ack(slack), body=body, client=slack, deps=deps(sessions))
    assert [name for name, _ in slack.calls] == ["ack"]


# ----- submissions ----------------------------------------------------------------------------


async def test_sql_by_the_owner_with_a_note(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions, nag_due_at=NOW + timedelta(hours=1))
    slack = FakeSlack()
    ack = await submit(
        sessions, slack, SDR_A, ActionId.SQL_MODAL, str(mql_id), sql_values("Budget approved")
    )

    assert ack.calls == [{}]
    mql = await load(sessions, mql_id)
    assert (mql.state, mql.disposition_by, mql.disposition_at) == (MqlState.SQL, SDR_A, NOW)
    assert (mql.note, mql.open_lead_id, mql.nag_due_at) == ("Budget approved", None, None)
    assert await lead_stage(sessions, mql_id) == "sql"
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0SDRA> → SQL\n> Budget approved"
    [update] = await outbox(sessions, "update")
    assert "*SQL* by <@U0SDRA>" in card_text(update)
    assert button_labels(update) == ["SQL", "Lead", "Recycled", "Disqualified", "Not a real MQL"]
    [hook] = await outbox(sessions, "webhook")
    assert (hook.payload["from_state"], hook.payload["to_state"]) == ("claimed", "sql")
    assert hook.payload["note"] == "Budget approved"
    assert await audit(sessions) == [(SDR_A, "disposition", "claimed", "sql")]
    assert slack.ephemerals() == []


async def test_lead_with_next_step_and_date(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    values = lead_values("Call back after budget review", date(2026, 12, 1))
    await submit(sessions, FakeSlack(), SDR_A, ActionId.LEAD_MODAL, str(mql_id), values)

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id) == (MqlState.LEAD, SDR_A)
    assert (mql.next_step, mql.next_step_on) == ("Call back after budget review", date(2026, 12, 1))
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == (
        "<@U0SDRA> → Lead, next step: Call back after budget review (2026-12-01)"
    )
    assert await lead_stage(sessions, mql_id) == "lead"


async def test_recycled_with_reason_and_return_date(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    values = recycle_values("timing", date(2027, 2, 22))
    await submit(sessions, FakeSlack(), SDR_A, ActionId.RECYCLE_MODAL, str(mql_id), values)

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.reason, mql.recycle_until) == (
        MqlState.RECYCLED,
        "timing",
        date(2027, 2, 22),
    )
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0SDRA> → Recycled (Timing), back on 2027-02-22"
    [hook] = await outbox(sessions, "webhook")
    assert (hook.payload["reason"], hook.payload["recycle_until"]) == ("timing", "2027-02-22")
    assert await lead_stage(sessions, mql_id) == "recycled"


async def test_a_manager_may_disqualify_someone_elses_mql(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    values = disqualify_values("competitor", "Works for a rival")
    await submit(sessions, FakeSlack(), MANAGER, ActionId.DISQUALIFY_MODAL, str(mql_id), values)

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.reason, mql.owner_id, mql.disposition_by) == (
        MqlState.DISQUALIFIED,
        "competitor",
        SDR_A,
        MANAGER,
    )
    [reply] = await outbox(sessions, "reply")
    assert reply.payload["text"] == "<@U0MGR> → Disqualified (Competitor)\n> Works for a rival"
    assert await lead_stage(sessions, mql_id) == "disqualified"


@pytest.mark.parametrize(
    ("callback", "values", "errors"),
    [
        (
            ActionId.RECYCLE_MODAL,
            recycle_values("timing", TODAY),
            {f"{BlockId.RECYCLE_DATE_PREFIX.value}timing": "Pick a date after today."},
        ),
        (
            ActionId.RECYCLE_MODAL,
            recycle_values("forged", date(2027, 1, 1), shown_reason="timing"),
            {BlockId.RECYCLE_REASON.value: "Choose one of the listed reasons."},
        ),
        (
            ActionId.LEAD_MODAL,
            lead_values("Call", TODAY - timedelta(days=1)),
            {BlockId.LEAD_DATE.value: "Pick today or a later date."},
        ),
        (
            ActionId.LEAD_MODAL,
            lead_values("   ", TODAY),
            {BlockId.LEAD_NEXT_STEP.value: "Please check this field."},
        ),
        (
            ActionId.DISQUALIFY_MODAL,
            disqualify_values("student"),
            {BlockId.DISQUALIFY_REASON.value: "Choose one of the listed reasons."},
        ),
    ],
)
async def test_bad_input_goes_back_to_the_modal_on_the_right_block(
    sessions: SessionFactory, callback: ActionId, values: dict[str, Any], errors: dict[str, str]
) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    ack = await submit(sessions, slack, SDR_A, callback, str(mql_id), values)

    assert ack.calls == [{"response_action": "errors", "errors": errors}]
    assert (await load(sessions, mql_id)).state == MqlState.CLAIMED
    assert await outbox(sessions) == []


async def test_another_sdr_is_refused_and_nothing_changes(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    await submit(sessions, slack, SDR_B, ActionId.SQL_MODAL, str(mql_id), sql_values())

    assert slack.ephemerals() == [
        (CHANNEL, SDR_B, "Only the owner (<@U0SDRA>) or a manager can change this MQL.")
    ]
    mql = await load(sessions, mql_id)
    assert (mql.state, mql.version) == (MqlState.CLAIMED, 1)
    assert await outbox(sessions) == []
    assert await audit(sessions) == []


async def test_an_unclaimed_mql_must_be_claimed_first(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await submit(sessions, slack, MANAGER, ActionId.SQL_MODAL, str(mql_id), sql_values())

    assert slack.ephemerals() == [(CHANNEL, MANAGER, "Claim this MQL first.")]
    assert (await load(sessions, mql_id)).state == MqlState.OPEN


async def test_a_forged_id_of_another_mql_changes_nothing(sessions: SessionFactory) -> None:
    mine = await claimed(sessions, name="Aiko Sato")
    theirs = await add_mql(sessions, name="Ken Tanaka", state=MqlState.CLAIMED, owner_id=SDR_B)
    slack = FakeSlack()
    # SDR_A opened a modal on their own card, then rewrote private_metadata to SDR_B's MQL.
    await submit(sessions, slack, SDR_A, ActionId.SQL_MODAL, str(theirs), sql_values())
    await submit(sessions, slack, SDR_A, ActionId.SQL_MODAL, "garbage", sql_values())

    assert [text for _, _, text in slack.ephemerals()] == [
        "Only the owner (<@U0SDRB>) or a manager can change this MQL.",
        "This MQL no longer exists.",
    ]
    assert (await load(sessions, theirs)).state == MqlState.CLAIMED
    assert (await load(sessions, mine)).state == MqlState.CLAIMED
    assert await outbox(sessions) == []


async def test_the_owner_may_change_a_disposition_later_and_it_is_recorded(
    sessions: SessionFactory,
) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    values = lead_values("Demo", date(2026, 11, 30))
    await submit(sessions, slack, SDR_A, ActionId.LEAD_MODAL, str(mql_id), values)
    await submit(sessions, slack, SDR_A, ActionId.SQL_MODAL, str(mql_id), sql_values())

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.next_step, mql.next_step_on, mql.version) == (
        MqlState.SQL,
        None,
        None,
        3,
    )
    assert await audit(sessions) == [
        (SDR_A, "disposition", "claimed", "lead"),
        (SDR_A, "disposition", "lead", "sql"),
    ]
    assert [r.payload["text"] for r in await outbox(sessions, "reply")] == [
        "<@U0SDRA> → Lead, next step: Demo (2026-11-30)",
        "<@U0SDRA> → SQL",
    ]
    # Only the newest card update is still to be sent.
    assert [r.dedupe_key for r in await outbox(sessions, "update")] == [f"card:{mql_id}:v3"]
    assert await lead_stage(sessions, mql_id) == "sql"


async def test_the_same_submission_twice_is_recorded_once(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    for _ in range(2):
        await submit(sessions, slack, SDR_A, ActionId.SQL_MODAL, str(mql_id), sql_values("ok"))

    assert (await load(sessions, mql_id)).version == 2
    assert len(await outbox(sessions, "reply")) == 1
    assert slack.ephemerals() == []


async def test_only_a_manager_may_undo_a_disqualification(sessions: SessionFactory) -> None:
    mql_id = await claimed(sessions)
    slack = FakeSlack()
    values = disqualify_values("spam")
    await submit(sessions, slack, SDR_A, ActionId.DISQUALIFY_MODAL, str(mql_id), values)
    await submit(sessions, slack, SDR_A, ActionId.SQL_MODAL, str(mql_id), sql_values())

    assert slack.ephemerals() == [
        (CHANNEL, SDR_A, "This MQL is disqualified: only a manager can reopen or change it.")
    ]
    assert (await load(sessions, mql_id)).state == MqlState.DISQUALIFIED

    assert await reopen_mql(deps(sessions), mql_id=mql_id, manager=MANAGER) is None
    assert (await load(sessions, mql_id)).state == MqlState.LEAD
    assert await lead_stage(sessions, mql_id) == "lead"


async def test_an_older_mqls_new_outcome_leaves_a_requalified_lead_alone(
    sessions: SessionFactory,
) -> None:
    old = await claimed(sessions, lead_stage="mql")
    async with sessions() as session, session.begin():
        first = await session.get(Mql, old)
        assert first is not None
        first.state, first.open_lead_id = MqlState.LEAD.value, None
        session.add(
            Mql(
                lead_id=first.lead_id,
                open_lead_id=first.lead_id,
                created_at=NOW,
                kind="threshold",
                score=130.0,
                updated_at=NOW,
            )
        )
    await submit(sessions, FakeSlack(), SDR_A, ActionId.SQL_MODAL, str(old), sql_values())

    assert (await load(sessions, old)).state == MqlState.SQL
    assert await lead_stage(sessions, old) == "mql"
