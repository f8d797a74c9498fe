"""CloudEvents 1.0 (structured, batch, binary), incl. Marketo's Lead Activity Data Stream."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.ingest.sources.base import (
    Collector,
    RawRequest,
    SourceConfig,
    Translation,
    array_items,
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
    scalar_properties,
    verify_bearer,
)
from handlers.ingest.sources.config import ConfigReader

MARKETO_PREFIX = "com.adobe.platform.marketo.activity.standard."
BATCH_TYPE = "application/cloudevents-batch+json"
STRUCTURED_TYPE = "application/cloudevents+json"
_ATTRIBUTES = ("specversion", "id", "source", "type", "time", "subject", "datacontenttype")

# Marketo's Data Stream type is the activity name, lower case without spaces, after the prefix.
DEFAULT_TYPES: Mapping[str, str] = {
    MARKETO_PREFIX + "openemail": "email_opened",
    MARKETO_PREFIX + "clickemail": "email_clicked",
    MARKETO_PREFIX + "visitwebpage": "page_visited",
    MARKETO_PREFIX + "clicklink": "page_visited",
    MARKETO_PREFIX + "filloutform": "form_submitted",
    MARKETO_PREFIX + "changescore": "score_changed",
    MARKETO_PREFIX + "unsubscribeemail": "unsubscribed",
}


@dataclass(frozen=True)
class CloudEventsConfig(SourceConfig):
    """`[sources.cloudevents]`: CloudEvent `type` → native type (a native type name passes as is)."""

    event_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPES))


def _marketo_fields(where: str, data: dict[str, Any], native: str) -> dict[str, Any] | None:
    """Lead, time, score and properties of a Marketo activity; None when it has nothing to apply."""
    listed = data.get("attributes")
    attributes = {
        str(a.get("name")): a.get("value")
        for a in (listed if isinstance(listed, list) else [])
        if isinstance(a, dict) and isinstance(a.get("name"), str)
    }
    lead_id = data.get("leadId")
    lead = make_lead(
        f"{where}.data.leadId",
        id=f"marketo:{as_id(lead_id, f'{where}.data.leadId')}" if lead_id is not None else None,
        email=opt_str(obj(data.get("lead")).get("email")) or opt_str(data.get("email")),
    )
    fields: dict[str, Any] = {"lead": lead}
    if data.get("activityDate"):
        fields["occurred_at"] = parse_time(data.get("activityDate"), f"{where}.data.activityDate")
    if native == "score_changed":
        score = as_score(attributes.get("New Value"), f"{where}.data.attributes[New Value]")
        if score is None:
            return None
        fields["score"] = score
    props = {
        "activity": opt_str(data.get("activityType")),
        "primary": opt_str(data.get("primaryAttributeValue")),
        "url": opt_str(attributes.get("Webpage URL")),
        "campaign": opt_str(data.get("campaignName")),
    }
    fields["properties"] = present(props)
    return fields


def _native_fields(where: str, data: dict[str, Any]) -> dict[str, Any]:
    """`data` already in the native event shape (lead, score, score_delta, properties)."""
    fields: dict[str, Any] = {k: data[k] for k in ("lead", "score", "score_delta") if k in data}
    if "occurred_at" in data:
        fields["occurred_at"] = data["occurred_at"]
    fields["properties"] = scalar_properties(obj(data.get("properties")))
    if "lead" not in fields:
        raise invalid(f"{where}.data.lead", "missing: data must carry the lead")
    return fields


class CloudEventsAdapter:
    """`POST /webhooks/cloudevents`."""

    name = "cloudevents"

    def parse_config(self, raw: Mapping[str, Any]) -> CloudEventsConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        types = reader.type_map("event_types", DEFAULT_TYPES)
        reader.finish()
        return CloudEventsConfig(enabled=enabled, secret_env=secret_env, event_types=types)

    def verify(
        self, request: RawRequest, secret: str, config: CloudEventsConfig, now: datetime
    ) -> None:
        # Marketo's Data Stream RSA signature needs Adobe's public keys fetched at run time;
        # without them the bearer token is the proof (see the README, Marketing tools).
        verify_bearer(request, secret)

    def translate(
        self, request: RawRequest, config: CloudEventsConfig, known_types: Collection[str]
    ) -> Translation:
        out = Collector()
        for where, event in self._events(request):
            self._one(where, event, config, known_types, out)
        return out.result()

    @staticmethod
    def _events(request: RawRequest) -> list[tuple[str, dict[str, Any]]]:
        media = request.media_type
        if request.header("ce-specversion") is not None and media not in (
            STRUCTURED_TYPE,
            BATCH_TYPE,
        ):
            # Binary mode: attributes in ce-* headers, the body is the data.
            event: dict[str, Any] = {
                name: request.header(f"ce-{name}")
                for name in _ATTRIBUTES
                if request.header(f"ce-{name}") is not None
            }
            event["data"] = load_json(request.body) if request.body.strip() else None
            return [("headers", event)]
        payload = load_json(request.body)
        if media == BATCH_TYPE and not isinstance(payload, list):
            raise invalid("body", f"{BATCH_TYPE} must be a JSON array of events")
        if isinstance(payload, dict):
            return [("body", payload)]
        if isinstance(payload, list):
            # Every element is checked before any is translated.
            return list(array_items(payload, "a CloudEvent object"))
        raise invalid("body", "expected a CloudEvent, or an array of them")

    def _one(
        self,
        where: str,
        event: dict[str, Any],
        config: CloudEventsConfig,
        known_types: Collection[str],
        out: Collector,
    ) -> None:
        if event.get("specversion") != "1.0":
            raise invalid(f"{where}.specversion", 'must be "1.0"')
        attrs = {}
        for name in ("id", "source", "type"):
            value = event.get(name)
            if not isinstance(value, str) or not value.strip():
                raise invalid(f"{where}.{name}", "missing required CloudEvents attribute")
            attrs[name] = value.strip()
        ce_type = attrs["type"]
        native = config.event_types.get(ce_type)
        if native is None and ce_type in known_types:
            native = ce_type
        if not native or native not in known_types:
            out.ignore()
            return
        data = event.get("data")
        if not isinstance(data, dict):
            raise invalid(f"{where}.data", "expected a JSON object")
        fields = (
            _marketo_fields(where, data, native)
            if ce_type.startswith(MARKETO_PREFIX)
            else _native_fields(where, data)
        )
        if fields is None or fields.get("lead") is None:
            out.ignore()
            return
        if "occurred_at" not in fields:
            fields["occurred_at"] = parse_time(event.get("time"), f"{where}.time")
        fields |= {"id": event_key("ce", attrs["source"], attrs["id"]), "type": native}
        out.add(make_event(where, fields, known_types))
