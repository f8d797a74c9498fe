"""The native lead-event format of CONTRACT.md: pydantic models and body parsing with precise errors."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from scoring.currency import Money, MoneyError, check_currency, parse_money
from scoring.outcomes import OUTCOME_TYPES, OutcomeType

BUILTIN_TYPES: tuple[str, ...] = (
    "email_opened",
    "email_clicked",
    "page_visited",
    "content_downloaded",
    "video_watched",
    "form_submitted",
    "event_attended",
    "score_changed",
)
# Fields of an outcome event that may also be given at the top level, beside "opportunity".
_OPPORTUNITY_FIELDS = ("amount", "currency", "stage", "lost_reason")
MAX_BODY_BYTES = 1024 * 1024
MAX_EVENTS = 1000


@dataclass
class IngestError(Exception):
    """A request the webhook refuses: the HTTP status and the JSON body that explains why."""

    status: int
    error: str
    details: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, **self.extra}
        if self.details:
            body["details"] = self.details
        return body


class LeadIn(BaseModel):
    """Who the event is about; `id` or `email` identifies the lead, other fields update it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=320)
    name: str | None = Field(default=None, max_length=500)
    company: str | None = Field(default=None, max_length=500)
    title: str | None = Field(default=None, max_length=500)
    source: str | None = Field(default=None, max_length=200)
    campaign: str | None = Field(default=None, max_length=500)

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        local, at, domain = value.partition("@")
        if not at or not local or "." not in domain or " " in value:
            raise ValueError("not an e-mail address")
        return value.lower()

    @model_validator(mode="after")
    def _identified(self) -> LeadIn:
        if not self.id and not self.email:
            raise ValueError("lead.id or lead.email is required")
        return self


class OpportunityIn(BaseModel):
    """The CRM opportunity an outcome event is about; amounts are exact decimals in a currency."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=500)
    # currency before amount: the amount's check reads it.
    currency: str | None = Field(default=None, max_length=3)
    amount: StrictStr | StrictInt | None = None
    stage: str | None = Field(default=None, min_length=1, max_length=100)
    lost_reason: str | None = Field(default=None, min_length=1, max_length=200)
    created_at: AwareDatetime | None = None

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('amount must be a decimal string such as "32000.50", not a float')
        return value

    @field_validator("amount")
    @classmethod
    def _exact(cls, value: str | int | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if "currency" not in info.data:
            return str(value)  # the currency itself is refused; that error says it all
        currency = info.data["currency"]
        if currency is None:
            raise ValueError("an amount needs its currency (ISO 4217, e.g. JPY)")
        try:
            return str(parse_money(value, currency).amount)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None

    @property
    def money(self) -> Money | None:
        if self.amount is None or self.currency is None:
            return None
        return parse_money(str(self.amount), self.currency)


class NativeEvent(BaseModel):
    """One lead event in the native format (an activity, or a CRM outcome with its opportunity)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=300)
    type: str = Field(min_length=1, max_length=100)
    occurred_at: AwareDatetime
    lead: LeadIn
    score: float | None = Field(default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False)
    score_delta: float | None = Field(
        default=None, ge=-1_000_000, le=1_000_000, allow_inf_nan=False
    )
    properties: dict[str, Any] = Field(default_factory=dict)
    opportunity: OpportunityIn | None = None

    @model_validator(mode="before")
    @classmethod
    def _gather_opportunity(cls, data: Any) -> Any:
        """An outcome always has an opportunity; its amount etc. may sit beside it."""
        kind = data.get("type") if isinstance(data, dict) else None
        if not isinstance(kind, str) or kind not in OUTCOME_TYPES:
            return data
        given = data.get("opportunity", {})
        if not isinstance(given, dict):
            return data  # refused below, naming "opportunity"
        moved = {k: data[k] for k in _OPPORTUNITY_FIELDS if k in data and k not in given}
        return {**data, "opportunity": {**given, **moved}}

    @property
    def outcome(self) -> OutcomeType | None:
        """The outcome type, or None for a lead activity."""
        return OutcomeType(self.type) if self.type in OUTCOME_TYPES else None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str, info: ValidationInfo) -> str:
        known: Collection[str] = (info.context or {}).get("known_types", BUILTIN_TYPES)
        if value not in known and value not in OUTCOME_TYPES:
            names = ", ".join(sorted({*known, *OUTCOME_TYPES}))
            raise ValueError(f"unknown event type {value!r}; known types: {names}")
        return value

    @model_validator(mode="after")
    def _one_score_kind(self) -> NativeEvent:
        if self.score is not None and self.score_delta is not None:
            raise ValueError("give either score or score_delta, not both")
        return self


class _Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[NativeEvent] = Field(min_length=1)


def _location(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Turn pydantic's errors into ``[{"field": "events[3].occurred_at", "error": "..."}]``."""
    details = []
    for err in exc.errors(include_url=False):
        msg = str(err["msg"]).removeprefix("Value error, ")
        details.append({"field": _location(err["loc"]) or "body", "error": msg})
    return details


def decode_json(raw: bytes) -> Any:
    """Decode a webhook body, refusing oversize (413) and malformed (400) bodies."""
    if len(raw) > MAX_BODY_BYTES:
        raise IngestError(413, "body too large", extra={"limit_bytes": MAX_BODY_BYTES})
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IngestError(400, f"malformed JSON: {exc}") from exc
    except (RecursionError, ValueError) as exc:
        # Nesting too deep for the parser, or an integer longer than Python will convert.
        raise IngestError(400, f"malformed JSON: {type(exc).__name__}: {str(exc)[:200]}") from exc


def check_event_count(count: int) -> None:
    """Refuse a request that carries more than MAX_EVENTS events (413), whatever its format."""
    if count > MAX_EVENTS:
        raise IngestError(
            413, f"too many events: {count} > {MAX_EVENTS}", extra={"limit": MAX_EVENTS}
        )


def validate_events(payload: Any, known_types: Collection[str]) -> list[NativeEvent]:
    """Validate decoded events (one object or ``{"events": [...]}``); all valid or IngestError."""
    context = {"known_types": frozenset(known_types)}
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if isinstance(events, list):
            check_event_count(len(events))
        try:
            return _Batch.model_validate(payload, context=context).events
        except ValidationError as exc:
            raise IngestError(422, "invalid events", validation_details(exc)) from exc
    if not isinstance(payload, dict):
        raise IngestError(422, 'body must be an event object or {"events": [...]}')
    try:
        return [NativeEvent.model_validate(payload, context=context)]
    except ValidationError as exc:
        raise IngestError(422, "invalid event", validation_details(exc)) from exc


def parse_native_body(raw: bytes, known_types: Collection[str]) -> list[NativeEvent]:
    """Decode and validate a native webhook body."""
    return validate_events(decode_json(raw), known_types)
