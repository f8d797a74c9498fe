"""Marketo Engage webhooks: the JSON template in the README, authenticated by bearer token."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from handlers.ingest.sources.base import (
    Collector,
    RawRequest,
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
    present,
    verify_bearer,
)
from handlers.ingest.sources.config import ConfigReader

# Marketo smart-campaign trigger names (what {{trigger.Trigger Name}} renders) → native types.
DEFAULT_TYPES: Mapping[str, str] = {
    "Opens Email": "email_opened",
    "Clicks Link in Email": "email_clicked",
    "Visits Web Page": "page_visited",
    "Fills Out Form": "form_submitted",
    "Score is Changed": "score_changed",
    "Unsubscribes from Email": "unsubscribed",
}

# {{system.dateTime}} renders in an account-dependent format; these are the ones seen in the wild.
_FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%B %d, %Y %I:%M:%S %p",
)
_TRAILING_ZONE_NAME = re.compile(r"\s+(?!AM$|PM$)[A-Z]{2,5}$")


@dataclass(frozen=True)
class MarketoConfig(SourceConfig):
    """`[sources.marketo]`: trigger names → native types; the zone of offset-less dates."""

    event_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TYPES))
    timezone: str = "UTC"

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)


def parse_marketo_time(value: Any, where: str, zone: tzinfo) -> datetime:
    """Parse `sentAt` leniently; a date without an offset is in the configured time zone."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(where, 'missing: add "sentAt": {{system.dateTime}} to the webhook template')
    # A zone abbreviation ("PST") is ambiguous; the configured zone decides instead.
    text = _TRAILING_ZONE_NAME.sub("", value.strip())
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for fmt in _FALLBACK_FORMATS:
            try:
                parsed = datetime.strptime(text, fmt).replace(tzinfo=zone)
                break
            except ValueError:
                continue
        else:
            raise invalid(where, f"unreadable date {value!r}; use ISO 8601") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


class MarketoAdapter:
    """`POST /webhooks/marketo`."""

    name = "marketo"

    def parse_config(self, raw: Mapping[str, Any]) -> MarketoConfig:
        reader = ConfigReader(self.name, raw)
        enabled, secret_env = reader.common()
        types = reader.type_map("event_types", DEFAULT_TYPES)
        zone = reader.string("timezone", "UTC")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"{reader.where('timezone')}: unknown time zone {zone!r} (e.g. 'Asia/Tokyo')"
            ) from exc
        reader.finish()
        return MarketoConfig(
            enabled=enabled, secret_env=secret_env, event_types=types, timezone=zone
        )

    def verify(
        self, request: RawRequest, secret: str, config: MarketoConfig, now: datetime
    ) -> None:
        verify_bearer(request, secret)

    def translate(
        self, request: RawRequest, config: MarketoConfig, known_types: Collection[str]
    ) -> Translation:
        payload = load_json(request.body)
        if not isinstance(payload, dict):
            raise invalid("body", "expected the JSON object of the mqlbot webhook template")
        out = Collector()
        trigger = payload.get("event")
        if not isinstance(trigger, str) or not trigger.strip():
            raise invalid("event", "missing trigger name: use {{trigger.Trigger Name}}")
        native = config.event_types.get(trigger.strip(), "")
        if not native or native not in known_types:
            out.ignore()
            return out.result()
        lead_data = obj(payload.get("lead"))
        score = as_score(lead_data.get("score"), "lead.score")
        if native == "score_changed" and score is None:
            out.ignore()  # an empty score token: nothing to apply
            return out.result()
        when = parse_marketo_time(payload.get("sentAt"), "sentAt", config.zone)
        lead_id = (
            as_id(lead_data.get("id"), "lead.id") if lead_data.get("id") not in (None, "") else None
        )
        name = " ".join(
            p
            for p in (opt_str(lead_data.get("firstName")), opt_str(lead_data.get("lastName")))
            if p
        )
        lead = make_lead(
            "lead",
            id=f"marketo:{lead_id}" if lead_id else None,
            email=opt_str(lead_data.get("email")),
            name=name or None,
            company=opt_str(lead_data.get("company")),
            title=opt_str(lead_data.get("title")),
        )
        if lead is None:
            raise invalid("lead.id", "missing: use {{lead.Id}} and {{lead.Email Address}}")
        campaign = obj(payload.get("campaign"))
        props = {
            "trigger": trigger.strip(),
            "asset": opt_str(payload.get("asset")),
            "campaign": opt_str(campaign.get("name")),
            "campaign_id": opt_str(campaign.get("id")),
        }
        fields: dict[str, Any] = {
            # No event id in a Marketo webhook; Marketo does not retry, so this mostly guards
            # against a campaign firing the same webhook twice for the same moment.
            "id": event_key(
                "marketo",
                lead_id or lead.email,
                campaign.get("id"),
                trigger.strip(),
                payload.get("sentAt"),
            ),
            "type": native,
            "occurred_at": when,
            "lead": lead,
            "properties": present(props),
        }
        if native == "score_changed":
            fields["score"] = score
        out.add(make_event("body", fields, known_types))
        return out.result()
