"""HubSpot webhooks: v3 HMAC (v1/v2 fallback), webhooks-API arrays, contact and deal workflow objects."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from handlers.ingest.native import NativeEvent
from handlers.ingest.sources.base import (
    Collector,
    RawRequest,
    SignatureError,
    SourceConfig,
    Translation,
    array_items,
    as_id,
    as_score,
    ascii_int,
    event_key,
    from_epoch_ms,
    invalid,
    load_json,
    make_event,
    make_lead,
    obj,
    opt_str,
    parse_time,
    require_secret,
    same,
)
from handlers.ingest.sources.config import ConfigReader
from scoring.outcomes import OutcomeType

MAX_SKEW_MS = 5 * 60 * 1000
MQL_STAGE = "marketingqualifiedlead"
# HubSpot's v3 instructions: decode these percent-escapes in the URI before signing.
_URI_DECODES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_CONTACT_TYPES = ("contact.propertyChange", "object.propertyChange")


@dataclass(frozen=True)
class HubSpotConfig(SourceConfig):
    """`[sources.hubspot]`: score properties, the public URL HubSpot calls, lifecycle MQLs."""

    score_properties: tuple[str, ...] = ("hubspotscore",)
    public_base_url: str = ""
    qualify_on_lifecycle_mql: bool = False
    # Deal workflows: which body property carries the associated contact, which stages close.
    deal_contact_email_property: str = "contact_email"
    deal_contact_id_property: str = "contact_id"
    deal_won_stages: tuple[str, ...] = ("closedwon",)
    deal_lost_stages: tuple[str, ...] = ("closedlost",)
    deal_currency: str = ""  # the portal's company currency, when the body has no currency code


def _public_uri(request: RawRequest, config: HubSpotConfig) -> str:
    """The URI HubSpot signed: behind a proxy, the configured base plus the path and query."""
    uri = request.public_url
    if config.public_base_url:
        parts = urlsplit(request.public_url)
        uri = (
            config.public_base_url.rstrip("/")
            + parts.path
            + (f"?{parts.query}" if parts.query else "")
        )
    for escaped, char in _URI_DECODES.items():
        uri = uri.replace(escaped, char).replace(escaped.lower(), char)
    return uri


class HubSpotAdapter:
    """`POST /webhooks/hubspot`."""

    name = "hubspot"

    def parse_config(self, raw: Mapping[str, Any]) -> HubSpotConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        props = reader.string_list("score_properties", ("hubspotscore",))
        base = reader.string("public_base_url", "")
        if base and urlsplit(base).scheme not in ("http", "https"):
            raise ValueError(
                f"{reader.where('public_base_url')}: must be an http(s) URL such as "
                f"'https://mqlbot.example.com', got {base!r}"
            )
        qualify = reader.boolean("qualify_on_lifecycle_mql", False)
        deal = {
            "deal_contact_email_property": reader.string(
                "deal_contact_email_property", "contact_email"
            ),
            "deal_contact_id_property": reader.string("deal_contact_id_property", "contact_id"),
            "deal_won_stages": reader.string_list("deal_won_stages", ("closedwon",)),
            "deal_lost_stages": reader.string_list("deal_lost_stages", ("closedlost",)),
            "deal_currency": reader.string("deal_currency", "").upper(),
        }
        reader.finish()
        return HubSpotConfig(
            enabled=enabled,
            secret_env=secret_env,
            score_properties=props,
            public_base_url=base,
            qualify_on_lifecycle_mql=qualify,
            **deal,  # type: ignore[arg-type]
        )

    def verify(
        self, request: RawRequest, secret: str, config: HubSpotConfig, now: datetime
    ) -> None:
        key = require_secret(secret)
        method = request.method.upper().encode()
        uri = _public_uri(request, config).encode("utf-8")
        v3 = request.header("x-hubspot-signature-v3")
        if v3:
            stamp = request.header("x-hubspot-request-timestamp") or ""
            millis = ascii_int(stamp)
            if millis is None:
                raise SignatureError("missing or malformed X-HubSpot-Request-Timestamp")
            if abs(int(now.timestamp() * 1000) - millis) > MAX_SKEW_MS:
                raise SignatureError("X-HubSpot-Request-Timestamp is more than 5 minutes off")
            digest = hmac.new(key, method + uri + request.body + stamp.encode(), hashlib.sha256)
            if not same(base64.b64encode(digest.digest()), v3):
                raise SignatureError("X-HubSpot-Signature-v3 does not match")
            return
        legacy = request.header("x-hubspot-signature")
        if not legacy:
            raise SignatureError("missing X-HubSpot-Signature-v3 header")
        version = (request.header("x-hubspot-signature-version") or "v1").lower()
        if version == "v1":
            source = key + request.body
        elif version == "v2":
            source = key + method + uri + request.body
        else:
            raise SignatureError(f"unsupported X-HubSpot-Signature-Version {version!r}")
        if not same(hashlib.sha256(source).hexdigest(), legacy.lower()):
            raise SignatureError(f"X-HubSpot-Signature ({version}) does not match")

    def translate(
        self, request: RawRequest, config: HubSpotConfig, known_types: Collection[str]
    ) -> Translation:
        payload = load_json(request.body)
        out = Collector()
        if isinstance(payload, list):
            for where, item in array_items(payload, "a HubSpot event object"):
                self._api_event(where, item, config, known_types, out)
            # Apply per object in occurredAt order: HubSpot delivers out of order.
            return out.result(sort=True)
        if isinstance(payload, dict):
            self._workflow(request, payload, config, known_types, out)
            return out.result()
        raise invalid("body", "expected a HubSpot event array or a workflow object")

    def _classify(
        self, prop: str | None, value: str | None, config: HubSpotConfig, where: str
    ) -> dict[str, Any] | None:
        """The score_changed fields a property change carries, or None when it is not one."""
        if prop in config.score_properties:
            score = as_score(value, where)
            return None if score is None else {"score": score, "properties": {"property": prop}}
        if prop == "lifecyclestage" and value == MQL_STAGE and config.qualify_on_lifecycle_mql:
            return {"properties": {"lifecyclestage": MQL_STAGE}}
        return None

    def _api_event(
        self,
        where: str,
        item: dict[str, Any],
        config: HubSpotConfig,
        known_types: Collection[str],
        out: Collector,
    ) -> None:
        kind = item.get("subscriptionType", item.get("eventType"))
        if not isinstance(kind, str):
            raise invalid(f"{where}.subscriptionType", "missing subscription type")
        if kind not in _CONTACT_TYPES or item.get("objectTypeId", "0-1") != "0-1":
            out.ignore()
            return
        prop, value = opt_str(item.get("propertyName")), item.get("propertyValue")
        value_text = value if isinstance(value, str) else opt_str(value)
        extra = self._classify(prop, value_text, config, f"{where}.propertyValue")
        if extra is None or "score_changed" not in known_types:
            out.ignore()
            return
        portal = as_id(item.get("portalId"), f"{where}.portalId")
        object_id = as_id(item.get("objectId"), f"{where}.objectId")
        occurred = item.get("occurredAt")
        when = from_epoch_ms(occurred, f"{where}.occurredAt")
        # HubSpot says eventId is not guaranteed unique, so the key is the change itself; a
        # retry (attemptNumber + 1) carries the same change and is caught by it.
        key = event_key("hubspot", portal, object_id, prop, value_text, occurred)
        extra["properties"] |= {"event_id": opt_str(item.get("eventId")), "portal": portal}
        fields = {
            "id": key,
            "type": "score_changed",
            "occurred_at": when,
            "lead": make_lead(where, id=f"hubspot:{object_id}", email=None),
            **extra,
        }
        out.add(make_event(where, fields, known_types))

    def _workflow(
        self,
        request: RawRequest,
        payload: dict[str, Any],
        config: HubSpotConfig,
        known_types: Collection[str],
        out: Collector,
    ) -> None:
        # A workflow "Send a webhook" body: the record (properties flat or under "properties",
        # values plain or {"value": ...}) or a custom flat body the admin picked.
        props: dict[str, Any] = {}
        for source in (obj(payload.get("properties")), payload):
            for name, value in source.items():
                value = obj(value).get("value") if isinstance(value, dict) else value
                props.setdefault(str(name), value)
        if "dealstage" in props:
            out.add(self._deal(request, props, config, known_types))
            return
        extras = [
            self._classify(name, opt_str(props.get(name)), config, f"body.{name}")
            for name in (*config.score_properties, "lifecyclestage")
            if name in props
        ]
        found = [e for e in extras if e is not None]
        if not found or "score_changed" not in known_types:
            out.ignore()
            return
        fields: dict[str, Any] = {"properties": {}}
        for extra in found:
            fields["properties"] |= extra.pop("properties")
            fields |= extra
        id_field = next((k for k in ("hs_object_id", "objectId", "vid", "id") if k in props), None)
        object_id = (
            as_id(props.get(id_field), f"body.{id_field or 'hs_object_id'}") if id_field else None
        )
        lead = make_lead(
            "body.email",
            id=f"hubspot:{object_id}" if object_id else None,
            email=opt_str(props.get("email")),
        )
        if lead is None:
            raise invalid("body.hs_object_id", "the workflow body needs hs_object_id or email")
        when = self._workflow_time(request, props)
        digest = hashlib.sha256(request.body).hexdigest()[:32]
        fields |= {
            "id": event_key("hubspot", "workflow", object_id or lead.email, digest),
            "type": "score_changed",
            "occurred_at": when,
            "lead": lead,
        }
        out.add(make_event("body", fields, known_types))

    def _deal(
        self,
        request: RawRequest,
        props: dict[str, Any],
        config: HubSpotConfig,
        known_types: Collection[str],
    ) -> NativeEvent:
        """A deal workflow body: the deal's stage, amount and the associated contact."""
        id_field = next(
            (k for k in ("hs_object_id", "objectId", "dealId", "id") if k in props), None
        )
        if id_field is None:
            raise invalid("body.hs_object_id", "a deal body needs the deal's hs_object_id")
        deal_id = as_id(props.get(id_field), f"body.{id_field}")
        contact_id = opt_str(props.get(config.deal_contact_id_property))
        email_key = config.deal_contact_email_property
        lead = make_lead(
            f"body.{email_key}",
            id=f"hubspot:{contact_id}" if contact_id else None,
            email=opt_str(props.get(email_key)) or opt_str(props.get("email")),
        )
        if lead is None:
            raise invalid(
                f"body.{email_key}",
                f"the deal body needs the associated contact's e-mail ({email_key}) "
                f"or id ({config.deal_contact_id_property})",
            )
        stage = opt_str(props.get("dealstage"))
        if stage in config.deal_won_stages:
            kind = OutcomeType.WON
        elif stage in config.deal_lost_stages:
            kind = OutcomeType.LOST
        else:
            kind = OutcomeType.STAGE_CHANGED
        amount = opt_str(props.get("amount"))
        currency = opt_str(props.get("deal_currency_code")) or config.deal_currency or None
        if amount is not None and currency is None:
            raise invalid(
                "body.deal_currency_code", "an amount needs a currency: set deal_currency"
            )
        created = props.get("createdate")
        opportunity = {
            "id": f"hubspot:{deal_id}",
            "name": opt_str(props.get("dealname")),
            "stage": stage,
            "amount": amount,
            "currency": currency if amount is not None else None,
            "lost_reason": opt_str(props.get("closed_lost_reason")),
            "created_at": None
            if created in (None, "")
            else self._time_value(created, "body.createdate"),
        }
        digest = hashlib.sha256(request.body).hexdigest()[:32]
        fields = {
            "id": event_key("hubspot", "deal", deal_id, digest),
            "type": kind.value,
            "occurred_at": self._workflow_time(request, props),
            "lead": lead,
            "opportunity": opportunity,
        }
        return make_event("body", fields, known_types)

    @staticmethod
    def _time_value(value: Any, where: str) -> datetime:
        if isinstance(value, int) or (isinstance(value, str) and ascii_int(value) is not None):
            return from_epoch_ms(value, where)
        return parse_time(value, where)

    @staticmethod
    def _workflow_time(request: RawRequest, props: dict[str, Any]) -> datetime:
        for name in ("occurredAt", "hs_lastmodifieddate", "lastmodifieddate"):
            value = props.get(name)
            if value in (None, ""):
                continue
            if isinstance(value, int) or (isinstance(value, str) and ascii_int(value) is not None):
                return from_epoch_ms(value, f"body.{name}")
            return parse_time(value, f"body.{name}")
        stamp = request.header("x-hubspot-request-timestamp")
        if ascii_int(stamp) is not None:
            return from_epoch_ms(stamp, "X-HubSpot-Request-Timestamp")
        raise invalid(
            "body.hs_lastmodifieddate", "no time: include hs_lastmodifieddate in the body"
        )
