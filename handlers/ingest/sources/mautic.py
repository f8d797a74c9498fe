"""Mautic webhooks: base64 HMAC-SHA256 over the raw body, event-type-keyed batches of items."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.ingest.native import LeadIn
from handlers.ingest.sources.base import (
    Collector,
    RawRequest,
    SignatureError,
    SourceConfig,
    Translation,
    as_id,
    as_score,
    event_key,
    invalid,
    load_json,
    make_event,
    make_lead,
    obj,
    opt_str,
    parse_time,
    present,
    require_secret,
    same,
)
from handlers.ingest.sources.config import ConfigReader

# The click-through pseudo-type: a page hit whose `source` is "email" came from an e-mail link.
PAGE_HIT_FROM_EMAIL = "mautic.page_on_hit.email"

DEFAULT_TYPES: Mapping[str, str] = {
    "mautic.lead_points_change": "score_changed",
    "mautic.email_on_open": "email_opened",
    "mautic.page_on_hit": "page_visited",
    PAGE_HIT_FROM_EMAIL: "email_clicked",
    "mautic.form_on_submit": "form_submitted",
    "mautic.lead_channel_subscription_changed": "unsubscribed",
}


@dataclass(frozen=True)
class MauticConfig(SourceConfig):
    """`[sources.mautic]`: which Mautic webhook types become which native types."""

    event_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPES))


_Read = tuple[str, LeadIn | None, datetime, dict[str, Any]]


@dataclass(frozen=True)
class _Item:
    """One Mautic webhook item being translated, with where it sits in the body."""

    where: str
    data: dict[str, Any]
    origin: str


def _contact_lead(contact: Any, where: str) -> LeadIn | None:
    """The lead of a Mautic contact object; anonymous visitors (no e-mail, never identified) → None."""
    contact = obj(contact)
    fields = obj(contact.get("fields"))

    def value(group: str, alias: str) -> str | None:
        return opt_str(obj(obj(fields.get(group)).get(alias)).get("value"))

    email = value("core", "email") or opt_str(contact.get("email"))
    if email is None and contact.get("dateIdentified") is None:
        return None
    first, last = value("core", "firstname"), value("core", "lastname")
    name = " ".join(p for p in (first, last) if p) or None
    contact_id = contact.get("id")
    return make_lead(
        f"{where}.id",
        id=f"mautic:{as_id(contact_id, f'{where}.id')}" if contact_id is not None else None,
        email=email,
        name=name,
        company=value("core", "company"),
        title=value("core", "position"),
    )


def _points(item: _Item) -> _Read:
    points = obj(item.data.get("points"))
    contact = obj(item.data.get("contact"))
    old = points.get("old_points")
    score = as_score(points.get("new_points"), f"{item.where}.points.new_points")
    if score is None:
        raise invalid(f"{item.where}.points.new_points", "missing new points")
    stamp = item.data.get("timestamp")
    when = parse_time(stamp, f"{item.where}.timestamp")
    cid = as_id(contact.get("id"), f"{item.where}.contact.id")
    key = event_key(
        "mautic", item.origin, "points", cid, f"{old}->{points.get('new_points')}", stamp
    )
    extra = {"score": score, "properties": {"old_points": old}}
    return key, _contact_lead(contact, f"{item.where}.contact"), when, extra


def _email_open(item: _Item) -> _Read:
    stat = obj(item.data.get("stat"))
    stat_id = as_id(stat.get("id"), f"{item.where}.stat.id")
    when = parse_time(
        stat.get("dateRead") or item.data.get("timestamp"), f"{item.where}.stat.dateRead"
    )
    email = obj(stat.get("email"))
    key = event_key("mautic", item.origin, "open", stat_id, stat.get("openCount"))
    props = {"email": opt_str(email.get("name")) or opt_str(email.get("subject"))}
    lead = _contact_lead(stat.get("lead"), f"{item.where}.stat.lead")
    return key, lead, when, {"properties": present(props)}


def _page_hit(item: _Item) -> _Read:
    hit = obj(item.data.get("hit"))
    hit_id = as_id(hit.get("id"), f"{item.where}.hit.id")
    when = parse_time(hit.get("dateHit") or item.data.get("timestamp"), f"{item.where}.hit.dateHit")
    key = event_key("mautic", item.origin, "hit", hit_id)
    props = {"url": opt_str(hit.get("url")), "title": opt_str(hit.get("urlTitle"))}
    lead = _contact_lead(hit.get("lead"), f"{item.where}.hit.lead")
    return key, lead, when, {"properties": present(props)}


def _form_submit(item: _Item) -> _Read:
    sub = obj(item.data.get("submission"))
    sub_id = as_id(sub.get("id"), f"{item.where}.submission.id")
    when = parse_time(
        sub.get("dateSubmitted") or item.data.get("timestamp"),
        f"{item.where}.submission.dateSubmitted",
    )
    form = obj(sub.get("form"))
    key = event_key("mautic", item.origin, "form", sub_id)
    props = {
        "form": opt_str(form.get("alias")),
        "form_name": opt_str(form.get("name")),
        "url": opt_str(sub.get("referer")),
    }
    lead = _contact_lead(sub.get("lead"), f"{item.where}.submission.lead")
    return key, lead, when, {"properties": present(props)}


def _unsubscribed(item: _Item) -> _Read | None:
    if item.data.get("new_status") != "unsubscribed":
        return None
    contact = obj(item.data.get("contact"))
    cid = as_id(contact.get("id"), f"{item.where}.contact.id")
    stamp = item.data.get("timestamp")
    when = parse_time(stamp, f"{item.where}.timestamp")
    channel = opt_str(item.data.get("channel")) or "email"
    key = event_key("mautic", item.origin, "unsubscribed", cid, channel, stamp)
    lead = _contact_lead(contact, f"{item.where}.contact")
    return key, lead, when, {"properties": {"channel": channel}}


_Reader = Callable[[_Item], _Read | None]
_READERS: Mapping[str, _Reader] = {
    "mautic.lead_points_change": _points,
    "mautic.email_on_open": _email_open,
    "mautic.page_on_hit": _page_hit,
    "mautic.form_on_submit": _form_submit,
    "mautic.lead_channel_subscription_changed": _unsubscribed,
}


class MauticAdapter:
    """`POST /webhooks/mautic`."""

    name = "mautic"

    def parse_config(self, raw: Mapping[str, Any]) -> MauticConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        allowed = {*_READERS, PAGE_HIT_FROM_EMAIL}
        types = reader.type_map("event_types", DEFAULT_TYPES, allowed_keys=allowed)
        reader.finish()
        return MauticConfig(enabled=enabled, secret_env=secret_env, event_types=types)

    def verify(self, request: RawRequest, secret: str, config: MauticConfig, now: datetime) -> None:
        key = require_secret(secret)
        given = request.header("webhook-signature")
        if not given:
            raise SignatureError("missing Webhook-Signature header")
        expected = base64.b64encode(hmac.new(key, request.body, hashlib.sha256).digest())
        if not same(expected, given):
            raise SignatureError("Webhook-Signature does not match the body")

    def translate(
        self, request: RawRequest, config: MauticConfig, known_types: Collection[str]
    ) -> Translation:
        payload = load_json(request.body)
        if not isinstance(payload, dict):
            raise invalid("body", "expected a JSON object keyed by Mautic event type")
        origin = (request.header("x-origin-base-url") or "-").rstrip("/")
        out = Collector()
        for mautic_type, value in payload.items():
            # The "Send Test Payload" button adds a top-level "timestamp" string and sends some
            # types as one object instead of a list.
            if isinstance(value, dict):
                items: list[Any] = [value]
            elif isinstance(value, list):
                items = value
            else:
                continue
            reader = _READERS.get(mautic_type)
            if reader is None:
                out.ignore(len(items))
                continue
            for index, data in enumerate(items):
                where = f"{mautic_type}[{index}]"
                if not isinstance(data, dict):
                    raise invalid(where, "expected an object")
                self._one(_Item(where, data, origin), mautic_type, reader, config, known_types, out)
        return out.result()

    def _one(
        self,
        item: _Item,
        mautic_type: str,
        reader: _Reader,
        config: MauticConfig,
        known_types: Collection[str],
        out: Collector,
    ) -> None:
        read = reader(item)
        if read is None:
            out.ignore()
            return
        key, lead, when, extra = read
        type_key = mautic_type
        if (
            mautic_type == "mautic.page_on_hit"
            and obj(item.data.get("hit")).get("source") == "email"
        ):
            type_key = PAGE_HIT_FROM_EMAIL
        native = config.event_types.get(type_key, "")
        if not native or native not in known_types or lead is None:
            out.ignore()
            return
        if native != "score_changed":
            extra = {k: v for k, v in extra.items() if k != "score"}
        fields = {"id": key, "type": native, "occurred_at": when, "lead": lead, **extra}
        out.add(make_event(item.where, fields, known_types))
