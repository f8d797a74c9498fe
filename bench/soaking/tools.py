"""The marketing tools: native batches and singles, Segment track calls, Marketo score changes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.soaking.record import Record
from bench.soaking.topology import MARKETO_SECRET, SEGMENT_SECRET, WEBHOOK_SECRET

Pick = Callable[[], tuple[int, str]]  # a live replica: (index, base URL)
ATTEMPTS = 12


def native_headers(
    body: bytes, *, secret: str = WEBHOOK_SECRET, at: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if at is None else at)
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-MQLBot-Timestamp": stamp,
            "X-MQLBot-Signature": f"sha256={mac}"}  # fmt: skip


def segment_headers(first_item: bytes, secret: str = SEGMENT_SECRET) -> dict[str, str]:
    # Segment signs the first event of a batch only.
    signature = hmac.new(secret.encode(), first_item, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Signature": signature}


def marketo_headers(token: str = MARKETO_SECRET) -> dict[str, str]:
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def native_event(event_id: str, lead: str, kind: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": kind,
        "occurred_at": _now_iso(),
        "lead": {"id": lead, "email": f"{lead}@example.co.jp", "name": f"Lead {lead}",
                 "company": "Example KK", "source": "webinar", "campaign": "2026-12 soak"},
        **extra,
    }  # fmt: skip


def segment_track(message_id: str, user: str, event: str) -> dict[str, Any]:
    return {"type": "track", "event": event, "messageId": message_id, "timestamp": _now_iso(),
            "userId": user, "context": {"traits": {"email": f"{user}@example.com"}},
            "properties": {"asset": "MA guide"}}  # fmt: skip


def marketo_score(lead_number: int, score: int, sent_at: str) -> dict[str, Any]:
    return {"source": "marketo", "event": "Score is Changed", "asset": "Lead score",
            "lead": {"id": lead_number, "email": f"mkto{lead_number}@example.jp",
                     "firstName": "Ken", "lastName": f"M{lead_number}", "company": "Marketo KK",
                     "score": score},
            "campaign": {"id": 7, "name": "soak nurture"}, "sentAt": sent_at}  # fmt: skip


@dataclass(frozen=True)
class Request:
    """One webhook request a tool sends: path, body, headers, and the logical events it carries."""

    path: str
    body: bytes
    headers: dict[str, str]
    events: tuple[str, ...]
    what: str


class LeadPlan:
    """Leads that cross the threshold by each route, and some that never do."""

    def __init__(self, rng: random.Random, qualifying: int) -> None:
        self.rng = rng
        self.qualifying: list[str] = []  # lead keys expected to become MQLs
        self.below: list[str] = []
        self.requests: list[Request] = []
        self._serial = 0
        native_batch: list[dict[str, Any]] = []
        for n in range(qualifying):
            route = n % 4
            if route == 0:  # a tool-scored native event: an MQL at once
                lead = f"soak-n{n}"
                native_batch.append(native_event(self._id(), lead, "form_submitted", score=150))
                self.qualifying.append(f"id:{lead}")
            elif route == 1:  # points: four webinars, sent one by one
                lead = f"soak-p{n}"
                for _ in range(4):
                    self._native_single(native_event(self._id(), lead, "event_attended"))
                self.qualifying.append(f"id:{lead}")
            elif route == 2:  # Segment: four 'Webinar Attended' track calls in one batch
                user = f"seg-{n}"
                items = [segment_track(self._id(), user, "Webinar Attended") for _ in range(4)]
                self._segment(items)
                self.qualifying.append(f"id:{user}")
            else:  # Marketo: its own score crosses the threshold
                sent_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
                body = json.dumps(marketo_score(10_000 + n, 130, sent_at)).encode()
                self.requests.append(Request("/webhooks/marketo", body, marketo_headers(),
                                             (f"marketo:{n}",), "marketo"))  # fmt: skip
                self.qualifying.append(f"id:marketo:{10_000 + n}")
            if len(native_batch) >= 10:
                self._native_batch(native_batch)
                native_batch = []
            if n % 5 == 0:  # a lead that only opens an e-mail
                lead = f"soak-cold{n}"
                native_batch.append(native_event(self._id(), lead, "email_opened"))
                self.below.append(f"id:{lead}")
        if native_batch:
            self._native_batch(native_batch)
        rng.shuffle(self.requests)

    def _id(self) -> str:
        self._serial += 1
        return f"soak-evt-{self._serial}"

    def _native_single(self, event: dict[str, Any]) -> None:
        body = json.dumps(event).encode()
        self.requests.append(Request("/webhooks/events", body, {}, (f"native:{event['id']}",),
                                     "native"))  # fmt: skip

    def _native_batch(self, events: list[dict[str, Any]]) -> None:
        body = json.dumps({"events": events}).encode()
        ids = tuple(f"native:{e['id']}" for e in events)
        self.requests.append(Request("/webhooks/events", body, {}, ids, "native batch"))

    def _segment(self, items: list[dict[str, Any]]) -> None:
        body = json.dumps(items).encode()
        headers = segment_headers(json.dumps(items[0]).encode())
        ids = tuple(f"segment:{i['messageId']}" for i in items)
        # The signature is over the first item's own bytes: send them exactly as signed.
        first = json.dumps(items[0])
        rest = ", ".join(json.dumps(i) for i in items[1:])
        body = f"[{first}, {rest}]".encode()
        self.requests.append(Request("/webhooks/segment", body, headers, ids, "segment"))

    def filler_batch(self, size: int) -> Request:
        """A large batch of cold events, for the client that times out and sends it again."""
        events = [native_event(self._id(), f"soak-fill{i}", "email_opened") for i in range(size)]
        self.below += [f"id:soak-fill{i}" for i in range(size)]
        body = json.dumps({"events": events}).encode()
        ids = tuple(f"native:{e['id']}" for e in events)
        return Request("/webhooks/events", body, {}, ids, "replayed batch")


async def send(http: httpx.AsyncClient, pick: Pick, record: Record, request: Request,
               *, wait: float = 30.0) -> httpx.Response | None:  # fmt: skip
    """Send as a tool does: retry on no answer or a 5xx with backoff; None if it never got a 2xx."""
    record.events_sent.update(request.events)
    for attempt in range(ATTEMPTS):
        index, base = pick()
        headers = request.headers or native_headers(request.body)
        began = time.time()
        try:
            response = await http.post(base + request.path, content=request.body,
                                       headers=headers, timeout=wait)  # fmt: skip
        except httpx.TransportError as exc:
            record.answered(index, request.what, 0, since=began, error=exc)
        else:
            record.answered(index, request.what, response.status_code, since=began)
            if response.status_code < 300:
                record.events_acked.update(request.events)
                return response
            if response.status_code < 500:
                raise RuntimeError(
                    f"{request.what} refused: {response.status_code} {response.text}"
                )
        record.webhook_retries += 1
        await asyncio.sleep(min(5.0, 0.2 * 2**attempt))
    return None
