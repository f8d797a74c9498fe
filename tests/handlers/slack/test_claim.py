"""The Claim listener against real SQLite and a fake Slack: one winner, clear answers for the rest."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from handlers.present.actions import ActionId
from handlers.slack.claim import ClaimGate, handle_claim
from handlers.slack.membership import Membership
from store.engine import SessionFactory
from store.models import MqlState
from tests.handlers.slack.changes_builders import (
    CHANNEL,
    MANAGER,
    NOW,
    OUTSIDER,
    SDR_A,
    SDR_B,
    Ack,
    FakeSlack,
    add_mql,
    audit,
    button_labels,
    card_text,
    click,
    config,
    deps,
    load,
    outbox,
)


async def claim_click(
    sessions: SessionFactory,
    slack: FakeSlack,
    user: str,
    value: str,
    *,
    membership: Membership | None = None,
    **cfg: object,
) -> Ack:
    d = deps(sessions, config(**cfg))
    ack = Ack(slack)
    await handle_claim(
        ack=ack,
        body=click(user, ActionId.CLAIM.value, value),
        client=slack,
        deps=d,
        membership=membership or Membership(d.config),
    )
    return ack


async def test_the_first_click_claims_and_queues_card_reply_audit_and_webhook(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await claim_click(sessions, slack, SDR_A, str(mql_id))

    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.claimed_at) == (MqlState.CLAIMED, SDR_A, NOW)
    assert mql.claim_business_seconds == 180
    assert mql.version == 2
    # The unworked clock starts: 2 business hours after the claim.
    assert mql.nag_due_at == NOW + timedelta(hours=2)
    assert slack.calls == [("ack", {})]

    [update] = await outbox(sessions, "update")
    assert update.dedupe_key == f"card:{mql_id}:v2"
    assert "Claimed by <@U0SDRA> · 3 min after MQL" in card_text(update)
    assert button_labels(update) == ["SQL", "Lead", "Recycled", "Disqualified", "Not a real MQL"]
    [reply] = await outbox(sessions, "reply")
    assert reply.payload == {
        "text": "<@U0SDRA> claimed this MQL · 3 min after MQL",
        "channel": CHANNEL,
    }
    assert reply.target_key == f"card:{mql_id}"
    [hook] = await outbox(sessions, "webhook")
    assert hook.payload["type"] == "mql.state_changed"
    assert hook.payload["lead"] == {
        "id": "crm-aiko.sato",
        "email": "aiko.sato@example.co.jp",
        "key": "id:crm-aiko.sato",
    }
    assert (hook.payload["from_state"], hook.payload["to_state"]) == ("open", "claimed")
    assert (hook.payload["actor"], hook.payload["owner"]) == (SDR_A, SDR_A)
    assert hook.payload["at"] == NOW.isoformat()
    assert await audit(sessions) == [(SDR_A, "claim", "open", "claimed")]


async def test_a_claim_refreshes_the_owners_and_the_managers_home_tabs(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    await claim_click(sessions, FakeSlack(), SDR_A, str(mql_id))

    homes = await outbox(sessions, "home")
    assert sorted(row.payload["user_id"] for row in homes) == [MANAGER, SDR_A]
    assert all(row.payload["view"]["type"] == "home" for row in homes)


async def test_a_later_clicker_is_told_who_has_it_and_nothing_changes(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await claim_click(sessions, slack, SDR_A, str(mql_id))
    before = len(await outbox(sessions))

    await claim_click(sessions, slack, SDR_B, str(mql_id))

    assert slack.ephemerals() == [(CHANNEL, SDR_B, "Already claimed by <@U0SDRA>.")]
    mql = await load(sessions, mql_id)
    assert (mql.owner_id, mql.version) == (SDR_A, 2)
    assert len(await outbox(sessions)) == before
    assert await audit(sessions) == [(SDR_A, "claim", "open", "claimed")]


async def test_a_double_click_by_the_winner_changes_nothing_and_says_nothing(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await claim_click(sessions, slack, SDR_A, str(mql_id))
    await claim_click(sessions, slack, SDR_A, str(mql_id))

    assert slack.ephemerals() == []
    assert (await load(sessions, mql_id)).version == 2
    assert [r.kind for r in await outbox(sessions) if r.kind != "home"] == [
        "update",
        "reply",
        "webhook",
    ]


@pytest.mark.parametrize("gated", [False, True])
async def test_concurrent_clicks_make_exactly_one_owner(
    sessions: SessionFactory, gated: bool
) -> None:
    mql_id = await add_mql(sessions)
    users = [f"U0SDR{i:02d}" for i in range(20)]
    slack = FakeSlack()
    d = deps(sessions, config(sdr_users=tuple(users)))
    membership = Membership(d.config)
    gate = ClaimGate() if gated else None

    await asyncio.gather(
        *(
            handle_claim(
                ack=Ack(),
                body=click(user, ActionId.CLAIM.value, str(mql_id)),
                client=slack,
                deps=d,
                membership=membership,
                gate=gate,
            )
            for user in users
        )
    )

    owner = (await load(sessions, mql_id)).owner_id
    assert owner in users
    told = slack.ephemerals()
    assert sorted(user for _, user, _ in told) == sorted(u for u in users if u != owner)
    assert {text for _, _, text in told} == {f"Already claimed by <@{owner}>."}
    assert await audit(sessions) == [(owner, "claim", "open", "claimed")]


async def test_someone_outside_the_team_is_refused(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    await claim_click(sessions, slack, OUTSIDER, str(mql_id))

    assert slack.ephemerals() == [(CHANNEL, OUTSIDER, "Only the inside-sales team can claim MQLs.")]
    mql = await load(sessions, mql_id)
    assert (mql.state, mql.owner_id, mql.version) == (MqlState.OPEN, None, 1)
    assert await outbox(sessions) == []


async def test_forged_or_unknown_ids_change_nothing(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    for value in ("", "abc", f"{mql_id}:1", "-1", "0", "９", "1" * 40, str(mql_id + 1000)):
        await claim_click(sessions, slack, SDR_A, value)

    assert [text for _, _, text in slack.ephemerals()] == ["This MQL no longer exists."] * 8
    assert (await load(sessions, mql_id)).state == MqlState.OPEN
    assert await outbox(sessions) == []


async def test_usergroup_members_may_claim_and_the_list_is_fetched_once(
    sessions: SessionFactory,
) -> None:
    first = await add_mql(sessions, name="Aiko Sato")
    second = await add_mql(sessions, name="Ken Tanaka")
    slack = FakeSlack(usergroups={"S0SDR": [SDR_B]})
    team = {"sdr_users": (), "sdr_usergroup": "S0SDR"}
    membership = Membership(config(sdr_users=(), sdr_usergroup="S0SDR"))

    await claim_click(sessions, slack, SDR_A, str(first), membership=membership, **team)
    await claim_click(sessions, slack, SDR_B, str(second), membership=membership, **team)

    assert (await load(sessions, first)).owner_id is None
    assert (await load(sessions, second)).owner_id == SDR_B
    assert slack.called("usergroups.users.list") == [{"usergroup": "S0SDR"}]
    assert slack.ephemerals() == [(CHANNEL, SDR_A, "Only the inside-sales team can claim MQLs.")]


async def test_with_no_sdrs_configured_any_channel_member_may_claim(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    # Three pages of two members: the last page holds the clicker.
    slack = FakeSlack(channel_members={CHANNEL: ["UBOT", "U1", "U2", "U3", SDR_B, "U0NEW"]})

    await claim_click(sessions, slack, "U0NEW", str(mql_id), sdr_users=(), sdr_usergroup=None)

    assert (await load(sessions, mql_id)).owner_id == "U0NEW"
    assert [a.get("cursor") for a in slack.called("conversations.members")] == [None, "2", "4"]


async def test_the_member_list_is_refreshed_after_its_ttl() -> None:
    now = [0.0]
    cfg = config(sdr_users=(), sdr_usergroup=None, member_cache_ttl=timedelta(minutes=10))
    membership = Membership(cfg, clock=lambda: now[0])
    slack = FakeSlack(channel_members={CHANNEL: [SDR_A]})

    assert await membership.may_claim(slack, SDR_B) is False
    slack.channel_members[CHANNEL] = [SDR_A, SDR_B]
    now[0] = 599.0
    assert await membership.may_claim(slack, SDR_B) is False
    now[0] = 600.0
    assert await membership.may_claim(slack, SDR_B) is True
    assert len(slack.called("conversations.members")) == 2


async def test_claiming_without_a_crm_webhook_queues_no_webhook(sessions: SessionFactory) -> None:
    mql_id = await add_mql(sessions)
    await claim_click(sessions, FakeSlack(), SDR_A, str(mql_id), crm_webhook_url=None)
    assert [r.kind for r in await outbox(sessions) if r.kind != "home"] == ["update", "reply"]


class DroppingSessions:
    """Sessions whose first ``drops`` uses fail as when the database restarts under them."""

    def __init__(self, real: SessionFactory, drops: int) -> None:
        self.real, self.drops = real, drops

    def __call__(self) -> Any:
        if self.drops:
            self.drops -= 1
            return _Dropped()
        return self.real()


class _Dropped:
    async def __aenter__(self) -> None:
        raise OperationalError("SELECT 1", {}, Exception("terminating connection"))

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_click_acked_while_the_database_restarts_is_claimed_not_lost(
    sessions: SessionFactory,
) -> None:
    mql_id = await add_mql(sessions)
    slack = FakeSlack()
    flaky = DroppingSessions(sessions, drops=2)

    await claim_click(flaky, slack, SDR_A, str(mql_id))  # type: ignore[arg-type]

    assert flaky.drops == 0
    assert (await load(sessions, mql_id)).owner_id == SDR_A
    assert await audit(sessions) == [(SDR_A, "claim", "open", "claimed")]
