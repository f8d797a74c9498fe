"""Segment webhooks: hex HMAC-SHA1 (of the first element when batched), track and page messages."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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
    array_items,
    as_id,
    event_key,
    hmac_hex,
    invalid,
    load_json,
    make_event,
    make_lead,
    obj,
    opt_str,
    parse_time,
    require_secret,
    same,
    scalar_properties,
)
from handlers.ingest.sources.config import ConfigReader
from handlers.ingest.sources.rawjson import first_element_span

# Segment's e-mail spec names, plus the common B2B events people track under these names.
DEFAULT_TYPES: Mapping[str, str] = {
    "Email Opened": "email_opened",
    "Email Link Clicked": "email_clicked",
    "Unsubscribed": "unsubscribed",
    "Form Submitted": "form_submitted",
    "Webinar Attended": "event_attended",
    "Asset Downloaded": "content_downloaded",
    "Video Watched": "video_watched",
}


@dataclass(frozen=True)
class SegmentConfig(SourceConfig):
    """`[sources.segment]`: track event names → native types; what `page` calls become."""

    event_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPES))
    page_calls: str = "page_visited"


class SegmentAdapter:
    """`POST /webhooks/segment`."""

    name = "segment"

    def parse_config(self, raw: Mapping[str, Any]) -> SegmentConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        types = reader.type_map("event_types", DEFAULT_TYPES)
        page_calls = reader.string("page_calls", "page_visited")
        reader.finish()
        return SegmentConfig(
            enabled=enabled, secret_env=secret_env, event_types=types, page_calls=page_calls
        )

    def verify(
        self, request: RawRequest, secret: str, config: SegmentConfig, now: datetime
    ) -> None:
        key = require_secret(secret)
        given = request.header("x-signature")
        if not given:
            # Segment sends no signature at all when no shared secret is set in its settings.
            raise SignatureError("missing X-Signature header: set a shared secret in Segment")
        signed = request.body
        if request.body.lstrip()[:1] == b"[":
            # Batched: Segment signs only the first element's JSON, so slice its raw bytes out.
            span = first_element_span(request.body)
            if span is None:
                raise SignatureError("batch body has no first element to verify")
            signed = request.body[span[0] : span[1]]
        if not same(hmac_hex(key, signed, "sha1"), given.lower()):
            raise SignatureError("X-Signature does not match the body")

    def translate(
        self, request: RawRequest, config: SegmentConfig, known_types: Collection[str]
    ) -> Translation:
        payload = load_json(request.body)
        messages: Iterable[tuple[str, dict[str, Any]]]
        if isinstance(payload, dict):
            messages = [("body", payload)]
        elif isinstance(payload, list):
            messages = array_items(payload, "a Segment message object")
        else:
            raise invalid("body", "expected a Segment message or an array of them")
        out = Collector()
        for where, message in messages:
            self._one(where, message, config, known_types, out)
        return out.result()

    def _one(
        self,
        where: str,
        message: dict[str, Any],
        config: SegmentConfig,
        known_types: Collection[str],
        out: Collector,
    ) -> None:
        kind = message.get("type")
        properties = obj(message.get("properties"))
        if kind == "track":
            event_name = message.get("event")
            if not isinstance(event_name, str):
                raise invalid(f"{where}.event", "a track message needs an event name")
            native = config.event_types.get(event_name, "")
        elif kind == "page":
            native, event_name = config.page_calls, "page"
        elif isinstance(kind, str):
            out.ignore()  # identify, group, alias, screen: no activity to score
            return
        else:
            raise invalid(f"{where}.type", "missing message type")
        if not native or native not in known_types:
            out.ignore()
            return
        message_id = as_id(message.get("messageId"), f"{where}.messageId")
        stamp_field = next(
            (k for k in ("timestamp", "originalTimestamp", "receivedAt") if message.get(k)),
            "timestamp",
        )
        when = parse_time(message.get(stamp_field), f"{where}.{stamp_field}")
        lead = self._lead(where, message)
        if lead is None:
            out.ignore()  # anonymous: only an anonymousId, nobody sales could call
            return
        props = scalar_properties(properties)
        props["event"] = event_name
        page = obj(obj(message.get("context")).get("page"))
        if "url" not in props and opt_str(page.get("url")):
            props["url"] = opt_str(page.get("url"))
        fields = {
            "id": event_key("segment", message_id),
            "type": native,
            "occurred_at": when,
            "lead": lead,
            "properties": props,
        }
        out.add(make_event(where, fields, known_types))

    @staticmethod
    def _lead(where: str, message: dict[str, Any]) -> LeadIn | None:
        context = obj(message.get("context"))
        traits = {**obj(context.get("traits")), **obj(message.get("traits"))}
        user_id = message.get("userId")
        lead_id = as_id(user_id, f"{where}.userId") if user_id not in (None, "") else None
        email = opt_str(traits.get("email")) or opt_str(obj(message.get("properties")).get("email"))
        name = opt_str(traits.get("name")) or (
            " ".join(
                p for p in (opt_str(traits.get("firstName")), opt_str(traits.get("lastName"))) if p
            )
            or None
        )
        company = traits.get("company")
        company_name = (
            opt_str(obj(company).get("name")) if isinstance(company, dict) else opt_str(company)
        )
        return make_lead(
            f"{where}.userId",
            id=lead_id,
            email=email,
            name=name,
            company=company_name,
            title=opt_str(traits.get("title")),
        )
