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
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

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


class NativeEvent(BaseModel):
    """One lead event in the native format."""

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

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str, info: ValidationInfo) -> str:
        known: Collection[str] = (info.context or {}).get("known_types", BUILTIN_TYPES)
        if value not in known:
            raise ValueError(
                f"unknown event type {value!r}; known types: {', '.join(sorted(known))}"
            )
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
