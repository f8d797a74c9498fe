"""Bad input sent while the load runs: forged and stale signatures, tampered values, bad bodies."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from urllib.parse import urlencode

import httpx

from bench.soaking.people import People
from bench.soaking.record import Record, Refusal
from bench.soaking.tools import marketo_headers, native_event, native_headers, segment_headers
from bench.soaking.topology import SDR_CHANNEL, SDRS, SIGNING_SECRET
from bot.standin import SlackUserPlayer
from handlers.present.actions import ActionId, ManagerAction

Pick = Callable[[], tuple[int, str]]
FORGER = "U_FORGER"  # appears only in forged or stale requests: must never act
MALLORY = "U_MALLORY"  # a channel member who is neither an SDR nor a manager
BAD_LEAD = "soak-bad"  # leads of refused webhook bodies: must never be stored
# What the refused clicker must be told (the English catalog).
NOT_FOUND = "This MQL no longer exists."
NOT_AN_SDR = "Only the inside-sales team can claim MQLs."
NOT_A_MANAGER = "Only managers can do that."


class BadInput:
    """One kind of bad input per call to `next()`, in turn; each outcome is recorded."""

    def __init__(self, people: People, pick: Pick, http: httpx.AsyncClient,
                 record: Record, rng: random.Random) -> None:  # fmt: skip
        self.people = people
        self.pick = pick
        self.http = http
        self.record = record
        self.rng = rng
        self._turn = 0
        self._kinds = [
            self.forged_slack_signature, self.stale_slack_signature, self.unsigned_slack,
            self.tampered_claim_value, self.tampered_manager_value, self.outsider_claims,
            self.outsider_manager_menu, self.bad_webhook_signature, self.stale_webhook,
            self.malformed_json, self.oversized_body, self.too_many_events,
            self.one_invalid_event, self.segment_bad_signature, self.marketo_wrong_token,
        ]  # fmt: skip

    async def next(self, cards: list[tuple[str, int]]) -> None:
        kind = self._kinds[self._turn % len(self._kinds)]
        self._turn += 1
        await kind(cards)

    def _refused(self, what: str, expected: int, got: int) -> None:
        self.record.refusals.append(Refusal(what, expected, got))

    def _card(self, cards: list[tuple[str, int]]) -> tuple[str, int] | None:
        return self.rng.choice(cards) if cards else None

    async def _slack(self, what: str, expected: int, body: bytes, **kwargs: object) -> None:
        index, url = self.pick()
        player = SlackUserPlayer(url, SIGNING_SECRET, self.people.state, client=self.http)
        began = time.time()
        try:
            answer = await player.send(body, **kwargs)  # type: ignore[arg-type]
            status = answer.status
        except httpx.TransportError:
            return  # the replica was killed: nothing learnt, nothing to count
        self.record.answered(index, what, status, since=began)
        self._refused(what, expected, status)

    def _claim_body(self, cards: list[tuple[str, int]], user: str) -> bytes | None:
        card = self._card(cards)
        if card is None:
            return None
        ts, mql_id = card
        payload = {
            "type": "block_actions", "user": {"id": user, "name": user.lower()},
            "team": {"id": self.people.state.team_id}, "api_app_id": self.people.state.app_id,
            "trigger_id": self.people.state.issue_trigger(user),
            "channel": {"id": SDR_CHANNEL},
            "container": {"type": "message", "channel_id": SDR_CHANNEL, "message_ts": ts},
            "actions": [{"type": "button", "action_id": ActionId.CLAIM.value,
                         "block_id": "b", "value": str(mql_id), "action_ts": "1"}],
        }  # fmt: skip
        return urlencode({"payload": json.dumps(payload)}).encode()

    # ----- Slack -----------------------------------------------------------------------------

    async def forged_slack_signature(self, cards: list[tuple[str, int]]) -> None:
        body = self._claim_body(cards, FORGER)
        if body is not None:
            await self._slack("forged Slack signature", 401, body, signature="v0=" + "0" * 64)

    async def stale_slack_signature(self, cards: list[tuple[str, int]]) -> None:
        body = self._claim_body(cards, FORGER)
        if body is not None:  # correctly signed, but ten minutes ago (a replay)
            await self._slack("stale Slack signature", 401, body, timestamp=int(time.time()) - 600)

    async def unsigned_slack(self, cards: list[tuple[str, int]]) -> None:
        body = self._claim_body(cards, FORGER)
        if body is not None:
            await self._slack("unsigned Slack request", 401, body, signed=False)

    async def _click(self, what: str, user: str, told: str, card: tuple[str, int],
                     value: str) -> None:  # fmt: skip
        """A signed Claim click that must be answered 200, change nothing, and tell `told`."""
        at = time.time()
        _, status, _ = await self.people._as_slack(what, lambda p: p.click_button(
            user, SDR_CHANNEL, card[0], ActionId.CLAIM.value, value))  # fmt: skip
        if status:
            self._refused(f"{what} (200, refused in an ephemeral)", 200, status)
            self.record.must_tell.append((user, at, told))

    async def _menu(self, what: str, user: str, told: str, card: tuple[str, int],
                    value: str | None = None) -> None:  # fmt: skip
        """A managers' menu choice that must be answered 200, change nothing, and tell `told`."""
        at = time.time()
        status = await self.people.overflow(user, card[0], ManagerAction.RELEASE, card[1],
                                            value=value, real=False)  # fmt: skip
        if status:
            self._refused(f"{what} (200, refused in an ephemeral)", 200, status)
            self.record.must_tell.append((user, at, told))

    async def tampered_claim_value(self, cards: list[tuple[str, int]]) -> None:
        if card := self._card(cards):
            value = self.rng.choice(["999999999", f"{card[1]}:U_SDR001", "-1", "x" * 120])
            await self._click("tampered claim value", self.rng.choice(SDRS), NOT_FOUND, card, value)

    async def tampered_manager_value(self, cards: list[tuple[str, int]]) -> None:
        if card := self._card(cards):
            value = self.rng.choice(["release:", "fire:1", f"reopen:{card[1]}:x", "reassign"])
            await self._menu("tampered manager menu value", self.people.manager(), NOT_FOUND,
                             card, value)  # fmt: skip

    async def outsider_claims(self, cards: list[tuple[str, int]]) -> None:
        if card := self._card(cards):
            await self._click("claim by a non-SDR", MALLORY, NOT_AN_SDR, card, str(card[1]))

    async def outsider_manager_menu(self, cards: list[tuple[str, int]]) -> None:
        if card := self._card(cards):
            await self._menu("manager menu by a non-manager", MALLORY, NOT_A_MANAGER, card)

    # ----- webhooks --------------------------------------------------------------------------

    async def _webhook(self, what: str, expected: int, path: str, body: bytes,
                       headers: dict[str, str]) -> None:  # fmt: skip
        index, url = self.pick()
        began = time.time()
        try:
            response = await self.http.post(url + path, content=body, headers=headers, timeout=30)
        except httpx.TransportError:
            return
        self.record.answered(index, what, response.status_code, since=began)
        self._refused(what, expected, response.status_code)

    def _bad_event(self, n: int = 0) -> dict[str, object]:
        return native_event(f"soak-bad-{self._turn}-{n}", f"{BAD_LEAD}-{self._turn}",
                            "form_submitted", score=150)  # fmt: skip

    async def bad_webhook_signature(self, cards: list[tuple[str, int]]) -> None:
        body = json.dumps(self._bad_event()).encode()
        await self._webhook("webhook with a wrong HMAC", 401, "/webhooks/events", body,
                            native_headers(body, secret="not-the-secret"))  # fmt: skip

    async def stale_webhook(self, cards: list[tuple[str, int]]) -> None:
        body = json.dumps(self._bad_event()).encode()
        await self._webhook("webhook signed 10 minutes ago", 401, "/webhooks/events", body,
                            native_headers(body, at=int(time.time()) - 600))  # fmt: skip

    async def malformed_json(self, cards: list[tuple[str, int]]) -> None:
        body = b'{"events": [{"id": "soak-bad", "type": '
        await self._webhook("malformed JSON", 400, "/webhooks/events", body, native_headers(body))

    async def oversized_body(self, cards: list[tuple[str, int]]) -> None:
        event = self._bad_event()
        event["properties"] = {"blob": "x" * (1024 * 1024 + 10)}
        body = json.dumps(event).encode()
        await self._webhook("body over 1 MiB", 413, "/webhooks/events", body, native_headers(body))

    async def too_many_events(self, cards: list[tuple[str, int]]) -> None:
        body = json.dumps({"events": [self._bad_event(n) for n in range(1001)]}).encode()
        await self._webhook("1001 events", 413, "/webhooks/events", body, native_headers(body))

    async def one_invalid_event(self, cards: list[tuple[str, int]]) -> None:
        events = [self._bad_event(n) for n in range(5)]
        del events[3]["type"]
        body = json.dumps({"events": events}).encode()
        await self._webhook("batch with one invalid event", 422, "/webhooks/events", body,
                            native_headers(body))  # fmt: skip

    async def segment_bad_signature(self, cards: list[tuple[str, int]]) -> None:
        body = json.dumps([{"type": "track", "event": "Webinar Attended", "messageId": "soak-bad",
                            "userId": f"{BAD_LEAD}-seg"}]).encode()  # fmt: skip
        await self._webhook("Segment with a wrong signature", 401, "/webhooks/segment", body,
                            segment_headers(body, secret="wrong"))  # fmt: skip

    async def marketo_wrong_token(self, cards: list[tuple[str, int]]) -> None:
        body = json.dumps({"source": "marketo", "event": "Score is Changed",
                           "lead": {"id": 1, "email": f"{BAD_LEAD}@example.jp", "score": 999},
                           "sentAt": "2026-12-01 10:00:00"}).encode()  # fmt: skip
        await self._webhook("Marketo with a wrong token", 401, "/webhooks/marketo", body,
                            marketo_headers("wrong-token"))  # fmt: skip
