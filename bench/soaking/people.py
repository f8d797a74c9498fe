"""The people: 10 SDRs racing for every card, owners working their MQLs, managers stepping in."""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.soaking.record import Click, Record
from bench.soaking.topology import MANAGERS, SDR_CHANNEL, SDRS, SIGNING_SECRET
from bot.standin import BotResponse, SlackUserPlayer, View, Workspace
from handlers.present.actions import ActionId, BlockId, ManagerAction, manager_value

Pick = Callable[[], tuple[int, str]]
CLAIMED_BY = re.compile(r"Claimed by <@(U[A-Z0-9_]+)>")
WAIT = 45.0  # how long a person waits for Slack to show the bot's answer before giving up


def card_mql_id(state: Workspace, ts: str) -> int | None:
    """The MQL id the card's first version carried on its Claim button."""
    for block in state.message(SDR_CHANNEL, ts).history[0].blocks:
        for element in block.get("elements", []) or []:
            if element.get("action_id") == ActionId.CLAIM.value:
                return int(element["value"])
    return None


def shown_owner(state: Workspace, ts: str) -> str | None:
    found = CLAIMED_BY.search(json.dumps(state.message(SDR_CHANNEL, ts).blocks))
    return found.group(1) if found else None


def labels(state: Workspace, ts: str) -> list[str]:
    labels: list[str] = []
    for block in state.message(SDR_CHANNEL, ts).blocks:
        for element in block.get("elements", []) or []:
            if element.get("type") == "button":
                labels.append(str(element["text"]["text"]))
    return labels


async def until(check: Callable[[], bool], within: float = WAIT) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


class People:
    """Plays every person over signed HTTP through whichever replica the balancer picks."""

    def __init__(self, state: Workspace, pick: Pick, http: httpx.AsyncClient,
                 standin_url: str, record: Record, rng: random.Random) -> None:  # fmt: skip
        self.state = state
        self.pick = pick
        self.http = http
        self.standin_url = standin_url
        self.record = record
        self.rng = rng
        self._round = 0

    def player(self) -> tuple[int, SlackUserPlayer]:
        index, url = self.pick()
        return index, SlackUserPlayer(url, SIGNING_SECRET, self.state, client=self.http,
                                      response_url_base=self.standin_url)  # fmt: skip

    async def _as_slack(self, what: str, send: Callable[[SlackUserPlayer], Awaitable[BotResponse]]
                        ) -> tuple[int, int, BotResponse | None]:  # fmt: skip
        """Slack's delivery of one interaction: a refused connection goes to another replica
        (the balancer), an answer that never came is not sent again (Slack does not either)."""
        for _ in range(5):
            index, player = self.player()
            began = time.time()
            try:
                answer = await send(player)
            except httpx.ConnectError as exc:
                self.record.answered(index, what, 0, since=began, error=exc)
                await asyncio.sleep(0.2)
                continue
            except httpx.TransportError as exc:
                self.record.answered(index, what, 0, since=began, error=exc)
                return index, 0, None
            self.record.answered(index, what, answer.status, since=began)
            return index, answer.status, answer
        return -1, 0, None

    # ----- claiming --------------------------------------------------------------------------

    async def claim_round(self, ts: str, mql_id: int, *, clickers: int = 10) -> None:
        """Every SDR clicks within a second, two of them twice."""
        self._round += 1
        round_id = self._round
        self.record.rounds += 1
        users = self.rng.sample(SDRS, clickers)
        doubles = set(self.rng.sample(users, 2))

        async def click(user: str, delay: float) -> None:
            await asyncio.sleep(delay)
            presses = 2 if user in doubles else 1
            for press in range(presses):
                at = time.time()
                index, status, _ = await self._as_slack(
                    "claim", lambda p, u=user: p.click_button(
                        u, SDR_CHANNEL, ts, ActionId.CLAIM.value, str(mql_id)
                    ),
                )  # fmt: skip
                self.record.clicks.append(Click(round_id, mql_id, user, at, index, status))
                if press == 0 and presses == 2:
                    await asyncio.sleep(self.rng.uniform(0.05, 0.25))

        await asyncio.gather(*(click(u, self.rng.uniform(0, 1)) for u in users))

    async def stale_click(self, ts: str, mql_id: int) -> None:
        """Someone clicks the Claim button of the card as it first looked, long after."""
        user = self.rng.choice(SDRS)
        at = time.time()
        index, status, _ = await self._as_slack(
            "stale claim", lambda p: p.click_button(
                user, SDR_CHANNEL, ts, ActionId.CLAIM.value, str(mql_id)
            ),
        )  # fmt: skip
        self.record.clicks.append(Click(0, mql_id, user, at, index, status))

    # ----- the owner's work ------------------------------------------------------------------

    async def open_and_submit(self, user: str, ts: str, label: str, callback: ActionId,
                              mql_id: int, values: dict[str, Any]) -> tuple[int, int]:  # fmt: skip
        """Click a button that opens a modal, wait for it, submit it: (status, replica)."""
        before = {v.id for v in self.state.views.values()}

        def opened() -> View | None:
            for view in self.state.views.values():
                if view.id not in before and view.user_id == user and \
                        view.payload.get("private_metadata") == str(mql_id) and \
                        view.payload.get("callback_id") == callback.value:  # fmt: skip
                    return view
            return None

        action = {"SQL": ActionId.DISPOSITION_SQL, "Lead": ActionId.DISPOSITION_LEAD,
                  "Recycled": ActionId.DISPOSITION_RECYCLED,
                  "Disqualified": ActionId.DISPOSITION_DISQUALIFIED}[label]  # fmt: skip
        _, status, _ = await self._as_slack(
            "disposition button",
            lambda p: p.click_button(user, SDR_CHANNEL, ts, action.value, str(mql_id)),
        )
        if status != 200 or not await until(lambda: opened() is not None, within=15):
            self.record.waits_given_up += 1
            return 0, -1
        view = opened()
        assert view is not None
        index, status, answer = await self._as_slack(
            "modal submission", lambda p: p.submit_view(user, view, values)
        )
        if answer is not None and answer.body:
            status = 422  # response_action errors: the modal stays open
        return status, index

    async def disposition(self, owner: str, ts: str, mql_id: int, outcome: str,
                          *, actor: str | None = None) -> int:  # fmt: skip
        actor = actor or owner
        today = datetime.now(UTC).date()
        if outcome == "sql":
            args = ("SQL", ActionId.SQL_MODAL, {BlockId.SQL_NOTE.value: "Budget approved"})
        elif outcome == "lead":
            args = ("Lead", ActionId.LEAD_MODAL, {
                BlockId.LEAD_NEXT_STEP.value: "Call on Friday",
                BlockId.LEAD_DATE.value: (today + timedelta(days=3)).isoformat()})  # fmt: skip
        elif outcome == "recycled":
            args = ("Recycled", ActionId.RECYCLE_MODAL, {BlockId.RECYCLE_REASON.value: "timing"})
        else:
            args = ("Disqualified", ActionId.DISQUALIFY_MODAL,
                    {BlockId.DISQUALIFY_REASON.value: "spam"})  # fmt: skip
        at = time.time()
        status, index = await self.open_and_submit(actor, ts, args[0], args[1], mql_id, args[2])
        if actor == owner:
            self.record.submissions.append((mql_id, actor, outcome, status, index, at))
        elif status:  # someone else's MQL: must change nothing
            self.record.intrusions.append((mql_id, actor, at))
        return status

    # ----- managers --------------------------------------------------------------------------

    async def overflow(self, manager: str, ts: str, action: ManagerAction, mql_id: int,
                       *, value: str | None = None, real: bool = True) -> int:  # fmt: skip
        """A choice in the managers' menu; `real=False` for bad input (not counted as an action)."""
        payload = {
            "type": "block_actions", "user": {"id": manager},
            "trigger_id": self.state.issue_trigger(manager),
            "team": {"id": self.state.team_id}, "api_app_id": self.state.app_id,
            "channel": {"id": SDR_CHANNEL},
            "container": {"type": "message", "channel_id": SDR_CHANNEL, "message_ts": ts},
            "actions": [{"type": "overflow", "action_id": ActionId.MANAGER_MENU.value,
                         "block_id": "manager", "action_ts": f"{time.time():.6f}",
                         "selected_option": {"value": value or manager_value(action, str(mql_id))}}],
        }  # fmt: skip
        _, status, _ = await self._as_slack(f"manager {action.value}",
                                            lambda p: p.send_payload(payload))  # fmt: skip
        if real:
            self.record.manager_actions.append((mql_id, manager, action.value, time.time()))
        return status

    async def reassign(self, manager: str, ts: str, mql_id: int, to: str) -> int:
        before = {v.id for v in self.state.views.values()}
        if await self.overflow(manager, ts, ManagerAction.REASSIGN, mql_id) != 200:
            return 0

        def opened() -> View | None:
            for view in self.state.views.values():
                if view.id not in before and view.user_id == manager and \
                        view.payload.get("private_metadata") == str(mql_id):  # fmt: skip
                    return view
            return None

        if not await until(lambda: opened() is not None, within=15):
            self.record.waits_given_up += 1
            return 0
        view = opened()
        assert view is not None
        _, status, _ = await self._as_slack("reassign submission", lambda p: p.submit_view(
            manager, view, {BlockId.REASSIGN_USER.value: to}))  # fmt: skip
        return status

    def manager(self) -> str:
        return self.rng.choice(MANAGERS)
