"""Whatever arrives, an adapter answers with events, IngestError (4xx) or SignatureError: never a crash."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.ingest.native import IngestError, NativeEvent
from handlers.ingest.sources.base import RawRequest, SignatureError, SourceAdapter
from handlers.ingest.sources.registry import ADAPTERS
from tests.handlers.ingest.sources.builders import KNOWN, NOW, SECRET

# Keys and values the tools really send, so generated bodies get deep into each translation.
VOCABULARY = [
    "mautic.lead_points_change", "mautic.email_on_open", "mautic.page_on_hit",
    "mautic.form_on_submit", "mautic.lead_channel_subscription_changed", "timestamp", "contact",
    "points", "old_points", "new_points", "stat", "hit", "submission", "lead", "id", "fields",
    "core", "email", "value", "dateIdentified", "dateRead", "dateHit", "dateSubmitted", "source",
    "new_status", "form", "alias", "openCount", "type", "event", "messageId", "userId", "traits",
    "context", "properties", "page", "url", "eventId", "subscriptionId", "portalId", "objectId",
    "occurredAt", "subscriptionType", "eventType", "propertyName", "propertyValue",
    "hs_object_id", "hs_lastmodifieddate", "hubspotscore", "lifecyclestage", "vid", "score",
    "sentAt", "campaign", "specversion", "time", "data", "leadId", "activityDate", "attributes",
    "name", "objectTypeId",
]  # fmt: skip
WORDS = [
    "2026-11-24T10:15:00+09:00", "2026-11-24 10:15:02", "track", "page", "identify", "1.0",
    "contact.propertyChange", "hubspotscore", "45", "", " ", "Fills Out Form", "Score is Changed",
    "Email Opened", "marketingqualifiedlead", "aiko@example.co.jp", "bad@", "unsubscribed",
    "email", "1795482840000", "com.adobe.platform.marketo.activity.standard.changescore",
    "com.adobe.platform.marketo.activity.standard.openemail", "score_changed", "New Value",
    "9" * 5000, "²", "NaN", "\ud800", "x\udfff",
]  # fmt: skip
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**320)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(WORDS)
)
shaped = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=4), inner, max_size=6)
    ),
    max_leaves=40,
)
headers = st.dictionaries(
    st.sampled_from(
        [
            "X-Origin-Base-URL", "X-HubSpot-Request-Timestamp", "X-HubSpot-Signature-Version",
            "ce-specversion", "ce-id", "ce-source", "ce-type", "ce-time", "Authorization",
        ]
    ),
    st.sampled_from(WORDS) | st.text(max_size=10),
    max_size=5,
)  # fmt: skip
content_types = st.sampled_from(
    ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json", ""]
)
ADAPTER_NAMES = sorted(ADAPTERS)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _translate(adapter: SourceAdapter[Any], req: RawRequest) -> None:
    config = adapter.parse_config({})
    refused: IngestError | None = None
    try:
        result = adapter.translate(req, config, KNOWN)
    except IngestError as exc:
        refused = exc
    if refused is not None:
        assert refused.status in (400, 413, 422)
        assert refused.body()["error"]
        return
    assert all(isinstance(e, NativeEvent) for e in result.events)
    assert result.ignored >= 0
    assert result.duplicates >= 0


def _req(body: bytes, hdrs: dict[str, str], content_type: str = "application/json") -> RawRequest:
    return RawRequest("POST", "https://mqlbot.example.com/webhooks/x", hdrs, body, content_type)


@pytest.mark.parametrize("name", ADAPTER_NAMES)
@FUZZ
@given(body=st.binary(max_size=300), hdrs=headers, content_type=content_types)
def test_arbitrary_bytes(name: str, body: bytes, hdrs: dict[str, str], content_type: str) -> None:
    _translate(ADAPTERS[name], _req(body, hdrs, content_type))


@pytest.mark.parametrize("name", ADAPTER_NAMES)
@FUZZ
@given(payload=shaped, hdrs=headers, content_type=content_types)
def test_tool_shaped_json(name: str, payload: Any, hdrs: dict[str, str], content_type: str) -> None:
    _translate(ADAPTERS[name], _req(json.dumps(payload).encode(), hdrs, content_type))


@pytest.mark.parametrize("name", ADAPTER_NAMES)
@FUZZ
@given(body=st.binary(max_size=200), hdrs=headers, extra=st.sampled_from(WORDS))
def test_verify_refuses_unsigned_requests_with_a_reason(
    name: str, body: bytes, hdrs: dict[str, str], extra: str
) -> None:
    adapter = ADAPTERS[name]
    signed_looking = {
        **hdrs,
        "Webhook-Signature": extra,
        "X-Signature": extra,
        "X-HubSpot-Signature-v3": extra,
        "X-HubSpot-Signature": extra,
    }
    for candidate in (hdrs, signed_looking):
        reason = ""
        try:
            adapter.verify(_req(body, candidate), SECRET, adapter.parse_config({}), NOW)
        except SignatureError as exc:
            reason = exc.reason
        assert reason  # refused, with a reason: random requests never pass


def test_deep_nesting_is_a_400_not_a_crash() -> None:
    for name in ADAPTER_NAMES:
        with pytest.raises(IngestError) as caught:
            ADAPTERS[name].translate(
                _req(b"[" * 100_000 + b"]" * 100_000, {}), ADAPTERS[name].parse_config({}), KNOWN
            )
        assert caught.value.status == 400


@pytest.mark.parametrize("name", ADAPTER_NAMES)
@settings(max_examples=60, deadline=None)
@given(raw=st.dictionaries(st.sampled_from(VOCABULARY) | st.text(max_size=8), shaped, max_size=4))
def test_config_only_ever_refuses_with_a_value_error(name: str, raw: dict[str, Any]) -> None:
    message = f"sources.{name}"
    try:
        ADAPTERS[name].parse_config(raw)
    except ValueError as exc:
        message = str(exc)
    assert message.startswith(f"sources.{name}")
