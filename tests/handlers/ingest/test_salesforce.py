"""POST /webhooks/salesforce: outbound messages parsed safely, verified, acknowledged, applied once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from bot.runtime import Runtime
from bot.web import create_web_app
from handlers.ingest.sources.salesforce import ACK
from store.models import Lead, Opportunity
from tests.handlers.ingest.builders import counts
from tests.handlers.ingest.conftest import RuntimeFactory

TOKEN = "sf-path-token-4711"
ORG = "00D5g000004XyZaEAK"


def outbound(
    *,
    notification: str = "04l5g00000ABCDEAA2",
    stage: str = "Closed Won",
    amount: str = "3200000.0",
    org: str = ORG,
    email: str = "aiko@example.co.jp",
    sobject_type: str = "sf:Opportunity",
    created: str = "2026-11-20T01:00:00.000Z",
) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5g000000AbCdAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/59.0/00D5g000004XyZa</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/59.0/00D5g000004XyZa</PartnerUrl>
   <Notification>
    <Id>{notification}</Id>
    <sObject xsi:type="{sobject_type}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065g00000XyZ12AAB</sf:Id>
     <sf:Amount>{amount}</sf:Amount>
     <sf:Contact_Email__c>{email}</sf:Contact_Email__c>
     <sf:CreatedDate>{created}</sf:CreatedDate>
     <sf:CurrencyIsoCode>JPY</sf:CurrencyIsoCode>
     <sf:LastModifiedDate>2026-11-24T01:00:00.000Z</sf:LastModifiedDate>
     <sf:Loss_Reason__c>Budget</sf:Loss_Reason__c>
     <sf:Name>Example KK MA suite</sf:Name>
     <sf:StageName>{stage}</sf:StageName>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


@pytest.fixture
async def sf(
    make_runtime: RuntimeFactory,
    sqlite_url: str,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    monkeypatch.setenv("MQLBOT_SALESFORCE_SECRET", TOKEN)
    with config_file.open("a", encoding="utf-8") as fh:
        fh.write(
            f'\n[sources.salesforce]\norganization_id = "{ORG}"\n'
            'lost_reason_field = "Loss_Reason__c"\n'
        )
    runtime = make_runtime(sqlite_url)
    transport = httpx.ASGITransport(app=create_web_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client, runtime


async def send(client: httpx.AsyncClient, body: bytes, path: str = f"/webhooks/salesforce/{TOKEN}",
               **headers: str) -> httpx.Response:  # fmt: skip
    return await client.post(path, content=body, headers={"Content-Type": "text/xml", **headers})


async def opportunities(runtime: Runtime) -> list[Opportunity]:
    async with runtime.sessions() as session:
        return list((await session.exec(select(Opportunity))).all())


async def test_a_won_opportunity_is_acknowledged_and_stored_once(
    sf: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = sf
    response = await send(client, outbound())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == ACK
    (opp,) = await opportunities(runtime)
    assert (opp.external_id, opp.status, opp.amount, opp.currency, opp.name) == (
        "0065g00000XyZ12AAB", "won", "3200000", "JPY", "Example KK MA suite",
    )  # fmt: skip
    assert opp.opened_at.isoformat() == "2026-11-20T01:00:00+00:00"
    async with runtime.sessions() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.email == "aiko@example.co.jp"
    # Salesforce resends until it gets the Ack: the same notification changes nothing.
    again = await send(client, outbound())
    assert again.status_code == 200
    assert again.text == ACK
    async with runtime.sessions() as session:
        from store.models import OutcomeEvent

        assert len((await session.exec(select(OutcomeEvent))).all()) == 1


async def test_stage_names_map_to_lost_with_its_reason(
    sf: tuple[httpx.AsyncClient, Runtime],
) -> None:
    client, runtime = sf
    await send(client, outbound(stage="Closed Lost", notification="04l5g00000ABCDEAA3"))
    (opp,) = await opportunities(runtime)
    assert (opp.status, opp.lost_reason) == ("lost", "Budget")


async def test_an_open_stage_opens_the_opportunity(sf: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, runtime = sf
    await send(client, outbound(stage="Negotiation/Review"))
    (opp,) = await opportunities(runtime)
    assert (opp.status, opp.stage) == ("open", "Negotiation/Review")


async def test_the_bearer_token_works_too(sf: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, _ = sf
    response = await send(
        client, outbound(), "/webhooks/salesforce", Authorization=f"Bearer {TOKEN}"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "reason"),
    [
        ("/webhooks/salesforce/wrong-token", outbound(), "the token in the path does not match"),
        ("/webhooks/salesforce", outbound(), "missing Authorization"),
        (f"/webhooks/salesforce/{TOKEN}", outbound(org="00D5g000009ZZZZEAK"),
         "is not the configured one"),
    ],
)  # fmt: skip
async def test_unverified_requests_are_401_with_a_soap_fault(
    sf: tuple[httpx.AsyncClient, Runtime], path: str, body: bytes, reason: str
) -> None:
    client, runtime = sf
    response = await send(client, body, path)
    assert response.status_code == 401
    assert "<faultstring>" in response.text
    assert reason in response.text
    assert await opportunities(runtime) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"type": "opportunity_won"}', "not XML"),
        (b"<hello/>", "not a SOAP envelope"),
        (
            b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
            b"<soapenv:Body><other/></soapenv:Body></soapenv:Envelope>",
            "not a Salesforce outbound message",
        ),
        (outbound(sobject_type="sf:Lead"), "not an Opportunity"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]><soapenv:Envelope '
            b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">&lol2;</soapenv:Envelope>',
            "DTDs and entities are not allowed",
        ),
    ],
)
async def test_bodies_that_are_not_outbound_messages_are_400_with_the_reason(
    sf: tuple[httpx.AsyncClient, Runtime], body: bytes, reason: str
) -> None:
    client, runtime = sf
    response = await send(client, body)
    assert response.status_code == 400
    assert reason in response.text
    assert (await counts(runtime.sessions))["lead"] == 0


async def test_a_bad_amount_is_422_naming_the_field(sf: tuple[httpx.AsyncClient, Runtime]) -> None:
    client, runtime = sf
    response = await send(client, outbound(amount="lots"))
    assert response.status_code == 422
    assert "Notification[0].sObject" in response.text
    assert "is not a number" in response.text
    assert await opportunities(runtime) == []


async def test_without_an_organization_id_configured_everything_is_refused(
    make_runtime: RuntimeFactory, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MQLBOT_SALESFORCE_SECRET", TOKEN)
    runtime = make_runtime(sqlite_url)
    transport = httpx.ASGITransport(app=create_web_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        response = await send(client, outbound())
    assert response.status_code == 401
    assert "no organization_id is configured" in response.text
