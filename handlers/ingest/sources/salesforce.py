"""Salesforce Outbound Messages for the Opportunity object: SOAP in, outcome events out, an Ack back.

Outbound messages cannot sign, so a request is trusted when it carries the configured token (in
the path, ``/webhooks/salesforce/<token>``, or as ``Authorization: Bearer``) *and* comes from the
configured organization. The XML is parsed with defusedxml: no DTDs, no entities, no network.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from handlers.ingest.native import MAX_BODY_BYTES, IngestError
from handlers.ingest.sources.base import (
    Collector,
    RawRequest,
    SignatureError,
    SourceConfig,
    Translation,
    event_key,
    invalid,
    make_event,
    make_lead,
    parse_time,
    require_secret,
    same,
    verify_bearer,
)
from handlers.ingest.sources.config import ConfigReader
from scoring.outcomes import OutcomeType

SOAP_NS: Final = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS: Final = "http://soap.sforce.com/2005/09/outbound"
XSI_NS: Final = "http://www.w3.org/2001/XMLSchema-instance"
PATH: Final = "/webhooks/salesforce"
ACK: Final = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
    "</soapenv:Body></soapenv:Envelope>"
)


def soap_fault(reason: str) -> str:
    """A SOAP fault naming the reason (Salesforce shows it in its outbound message queue)."""
    text = reason.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><soapenv:Fault>'
        f"<faultcode>soapenv:Client</faultcode><faultstring>{text}</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )


@dataclass(frozen=True)
class SalesforceConfig(SourceConfig):
    """`[sources.salesforce]`: the organization, and which Opportunity fields mean what."""

    organization_id: str = ""
    email_field: str = "Contact_Email__c"
    lead_id_field: str = ""
    name_field: str = "Name"
    amount_field: str = "Amount"
    currency_field: str = "CurrencyIsoCode"
    currency: str = ""  # single-currency orgs send no CurrencyIsoCode
    stage_field: str = "StageName"
    won_stages: tuple[str, ...] = ("Closed Won",)
    lost_stages: tuple[str, ...] = ("Closed Lost",)
    lost_reason_field: str = ""
    created_field: str = "CreatedDate"
    time_field: str = "LastModifiedDate"


@dataclass(frozen=True)
class Notification:
    """One ``<Notification>``: its id and the Opportunity's fields (local names → text)."""

    id: str
    fields: dict[str, str | None]


@dataclass(frozen=True)
class OutboundMessage:
    """A parsed ``notifications`` envelope."""

    organization_id: str
    notifications: list[Notification]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(parent: Element, name: str) -> Element | None:
    return next((c for c in parent if _local(c.tag) == name), None)


def _text(element: Element | None) -> str | None:
    if element is None or element.get(f"{{{XSI_NS}}}nil") == "true":
        return None
    text = (element.text or "").strip()
    return text or None


def parse_outbound_message(body: bytes) -> OutboundMessage:
    """The envelope's organization and notifications, or IngestError 400 saying what is wrong."""
    if len(body) > MAX_BODY_BYTES:
        raise IngestError(413, "body too large", extra={"limit_bytes": MAX_BODY_BYTES})
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise IngestError(
            400, f"refused XML: {type(exc).__name__} (DTDs and entities are not allowed)"
        ) from exc
    except (ParseError, ValueError) as exc:
        raise IngestError(400, f"not XML: {exc}") from exc
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise IngestError(400, "not a SOAP envelope: expected soapenv:Envelope")
    soap_body = _child(root, "Body")
    notifications = None if soap_body is None else _child(soap_body, "notifications")
    if notifications is None or notifications.tag != f"{{{OUTBOUND_NS}}}notifications":
        raise IngestError(400, "not a Salesforce outbound message: no notifications element")
    org = _text(_child(notifications, "OrganizationId"))
    if org is None:
        raise IngestError(400, "outbound message without OrganizationId")
    items: list[Notification] = []
    for index, note in enumerate(c for c in notifications if _local(c.tag) == "Notification"):
        note_id = _text(_child(note, "Id"))
        sobject = _child(note, "sObject")
        if note_id is None or sobject is None:
            raise IngestError(400, f"Notification[{index}] needs an Id and an sObject")
        kind = sobject.get(f"{{{XSI_NS}}}type", "")
        if _local(kind.split(":")[-1]) != "Opportunity":
            raise IngestError(
                400, f"Notification[{index}]: sObject is {kind or 'untyped'}, not an Opportunity"
            )
        items.append(Notification(note_id, {_local(f.tag): _text(f) for f in sobject}))
    if not items:
        raise IngestError(400, "outbound message without any Notification")
    return OutboundMessage(org, items)


def _same_org(configured: str, given: str) -> bool:
    """Salesforce ids come in 15- and 18-character forms: the first 15 (case-sensitive) decide."""
    return len(given) in (15, 18) and same(configured[:15], given[:15])


class SalesforceAdapter:
    """`POST /webhooks/salesforce[/<token>]`: answered with the SOAP Ack by the route."""

    name = "salesforce"

    def parse_config(self, raw: Mapping[str, Any]) -> SalesforceConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        org = reader.string("organization_id", "")
        if org and len(org) not in (15, 18):
            raise ValueError(
                f"{reader.where('organization_id')}: a 15- or 18-character id, got {org!r}"
            )
        fields = {
            name: reader.string(name, str(getattr(SalesforceConfig, name)))
            for name in (
                "email_field", "lead_id_field", "name_field", "amount_field", "currency_field",
                "stage_field", "lost_reason_field", "created_field", "time_field",
            )
        }  # fmt: skip
        if not fields["email_field"] and not fields["lead_id_field"]:
            raise ValueError(f"{reader.where('email_field')}: set email_field or lead_id_field")
        currency = reader.string("currency", "").upper()
        won = reader.string_list("won_stages", ("Closed Won",))
        lost = reader.string_list("lost_stages", ("Closed Lost",))
        reader.finish()
        return SalesforceConfig(
            enabled=enabled,
            secret_env=secret_env,
            organization_id=org,
            currency=currency,
            won_stages=won,
            lost_stages=lost,
            **fields,
        )

    def verify(
        self, request: RawRequest, secret: str, config: SalesforceConfig, now: datetime
    ) -> None:
        key = require_secret(secret)
        path = urlsplit(request.public_url).path.rstrip("/")
        if path.startswith(PATH + "/"):
            if not same(key, unquote(path[len(PATH) + 1 :])):
                raise SignatureError("the token in the path does not match")
        else:
            verify_bearer(request, secret)
        if not config.organization_id:
            raise SignatureError("no organization_id is configured in [sources.salesforce]")
        org = parse_outbound_message(request.body).organization_id
        if not _same_org(config.organization_id, org):
            raise SignatureError(f"organization {org[:18]!r} is not the configured one")

    def translate(
        self, request: RawRequest, config: SalesforceConfig, known_types: Collection[str]
    ) -> Translation:
        message = parse_outbound_message(request.body)
        out = Collector()
        for index, note in enumerate(message.notifications):
            where = f"Notification[{index}].sObject"
            out.add(make_event(where, self._fields(note, config, where, message), known_types))
        return out.result(sort=True)

    def _fields(
        self, note: Notification, config: SalesforceConfig, where: str, message: OutboundMessage
    ) -> dict[str, Any]:
        values = note.fields
        opp_id = values.get("Id")
        if not opp_id:
            raise invalid(f"{where}.Id", "the Opportunity Id is missing")
        stage = values.get(config.stage_field)
        if stage in config.won_stages:
            kind = OutcomeType.WON
        elif stage in config.lost_stages:
            kind = OutcomeType.LOST
        else:
            kind = OutcomeType.STAGE_CHANGED  # the first one seen opens it
        email = values.get(config.email_field) if config.email_field else None
        lead_id = values.get(config.lead_id_field) if config.lead_id_field else None
        lead = make_lead(
            f"{where}.{config.email_field or config.lead_id_field}", id=lead_id, email=email
        )
        if lead is None:
            named = " or ".join(f for f in (config.email_field, config.lead_id_field) if f)
            raise invalid(
                f"{where}.{named}",
                "the Opportunity names no lead (map the field in [sources.salesforce])",
            )
        when = values.get(config.time_field)
        amount = values.get(config.amount_field) if config.amount_field else None
        currency = (
            values.get(config.currency_field) if config.currency_field else None
        ) or config.currency
        if amount is not None and not currency:
            raise invalid(f"{where}.{config.currency_field or 'CurrencyIsoCode'}",
                          "an amount needs a currency: set [sources.salesforce] currency")  # fmt: skip
        created = values.get(config.created_field) if config.created_field else None
        opportunity: dict[str, Any] = {
            "id": opp_id,
            "name": values.get(config.name_field),
            "stage": stage,
            "amount": amount,
            "currency": currency if amount is not None else None,
            "lost_reason": values.get(config.lost_reason_field)
            if config.lost_reason_field
            else None,
            "created_at": None
            if created is None
            else parse_time(created, f"{where}.{config.created_field}"),
        }
        return {
            "id": event_key("salesforce", message.organization_id[:15], note.id),
            "type": kind.value,
            "occurred_at": parse_time(when, f"{where}.{config.time_field}"),
            "lead": lead,
            "opportunity": opportunity,
        }
