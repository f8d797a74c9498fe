"""HubSpot deal workflow bodies become outcome events; webhooks-API deal events carry no contact."""

from __future__ import annotations

import json
from typing import Any

import pytest

from handlers.ingest.native import IngestError
from handlers.ingest.sources.hubspot import HubSpotAdapter
from tests.handlers.ingest.sources.builders import KNOWN, request

ADAPTER = HubSpotAdapter()
CONFIG = ADAPTER.parse_config({"deal_currency": "JPY"})


def deal(**props: Any) -> bytes:
    body = {
        "hs_object_id": "9001",
        "dealname": "Example KK MA suite",
        "dealstage": "closedwon",
        "amount": "3200000",
        "createdate": "1763600000000",
        "hs_lastmodifieddate": "2026-11-24T01:00:00Z",
        "contact_email": "Aiko@Example.co.jp",
        **props,
    }
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def translate(body: bytes) -> Any:
    return ADAPTER.translate(request(body), CONFIG, KNOWN).events


def test_a_won_deal_becomes_opportunity_won_for_the_contact() -> None:
    (event,) = translate(deal())
    assert event.type == "opportunity_won"
    assert event.lead.email == "aiko@example.co.jp"
    opp = event.opportunity
    assert (opp.id, opp.amount, opp.currency, opp.name) == (
        "hubspot:9001", "3200000", "JPY", "Example KK MA suite",
    )  # fmt: skip
    assert opp.created_at is not None
    assert opp.created_at.year == 2025


@pytest.mark.parametrize(
    ("stage", "kind"),
    [("closedlost", "opportunity_lost"), ("appointmentscheduled", "opportunity_stage_changed")],
)
def test_stages_map_to_outcomes(stage: str, kind: str) -> None:
    (event,) = translate(deal(dealstage=stage, closed_lost_reason="budget"))
    assert event.type == kind


def test_the_deal_currency_code_wins_over_the_default() -> None:
    (event,) = translate(deal(deal_currency_code="USD", amount="32000.5"))
    assert (event.opportunity.currency, event.opportunity.amount) == ("USD", "32000.50")


def test_a_deal_without_its_contact_is_refused_naming_the_property() -> None:
    with pytest.raises(IngestError) as caught:
        translate(deal(contact_email=None))
    assert caught.value.details[0]["field"] == "body.contact_email"


def test_webhooks_api_deal_events_are_ignored_they_name_no_contact() -> None:
    body = json.dumps(
        [{"subscriptionType": "deal.creation", "objectId": 9001, "portalId": 62515,
          "occurredAt": 1795482900000, "eventId": 1}]
    ).encode()  # fmt: skip
    translation = ADAPTER.translate(request(body), CONFIG, KNOWN)
    assert (translation.events, translation.ignored) == ([], 1)
