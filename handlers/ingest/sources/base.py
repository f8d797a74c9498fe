"""What every source adapter shares: the raw request, its errors, the adapter protocol and helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from handlers.ingest.native import MAX_BODY_BYTES, IngestError, LeadIn, NativeEvent

MAX_ID_LENGTH = 300


class Headers(Mapping[str, str]):
    """Request headers looked up case-insensitively, as HTTP requires."""

    def __init__(self, items: Mapping[str, str] | None = None) -> None:
        self._items: dict[str, str] = {k.lower(): v for k, v in (items or {}).items()}

    def __getitem__(self, key: str) -> str:
        return self._items[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(frozen=True)
class RawRequest:
    """A webhook request exactly as it arrived: the MAC is always checked over these bytes."""

    method: str
    public_url: str
    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            object.__setattr__(self, "headers", Headers(self.headers))

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value.strip() if value is not None else None

    @property
    def media_type(self) -> str:
        """The content type without parameters, lower case (``application/json``)."""
        raw = self.content_type or self.headers.get("content-type", "")
        return raw.split(";", 1)[0].strip().lower()


class SignatureError(Exception):
    """The request is not proven to come from the tool; the route answers 401 with `reason`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Translation:
    """A tool's request as native events, plus what was deliberately left out.

    `ignored` counts items of types mqlbot does not map (answered 2xx so the tool stays healthy);
    `duplicates` counts items repeated inside this very request (same dedupe key), dropped here
    so the ingest path never sees one key twice in a batch.
    """

    events: list[NativeEvent]
    ignored: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class SourceConfig:
    """Settings every source has: `[sources.<tool>] enabled` and `secret_env`."""

    enabled: bool = True
    secret_env: str = ""


ConfigT = TypeVar("ConfigT", bound=SourceConfig)


class SourceAdapter(Protocol[ConfigT]):
    """One marketing tool: its settings, its signature check and its translation."""

    name: str

    def parse_config(self, raw: Mapping[str, Any]) -> ConfigT:
        """Read `[sources.<name>]`; unknown keys or bad values raise ValueError naming the key."""
        ...

    def verify(self, request: RawRequest, secret: str, config: ConfigT, now: datetime) -> None:
        """Raise SignatureError unless the request is signed (or carries the token) for `secret`."""
        ...

    def translate(
        self, request: RawRequest, config: ConfigT, known_types: Collection[str]
    ) -> Translation:
        """Turn the request into native events, or raise IngestError (400/413/422)."""
        ...


# --- signatures --------------------------------------------------------------------------------


def require_secret(secret: str) -> bytes:
    """Refuse to check anything against an empty secret (an empty HMAC key proves nothing)."""
    if not secret:
        raise SignatureError("no secret is configured for this source")
    return secret.encode("utf-8")


def same(expected: str | bytes, given: str | bytes) -> bool:
    """Constant-time comparison of two signatures or tokens."""
    a = expected.encode("utf-8") if isinstance(expected, str) else expected
    b = given.encode("utf-8", "surrogatepass") if isinstance(given, str) else given
    return hmac.compare_digest(a, b)


def verify_bearer(request: RawRequest, secret: str) -> None:
    """Check `Authorization: Bearer <secret>` for tools that cannot sign (Marketo, CloudEvents)."""
    key = require_secret(secret)
    header = request.header("authorization")
    if not header:
        raise SignatureError("missing Authorization: Bearer <token> header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise SignatureError("Authorization header must be 'Bearer <token>'")
    if not same(key, token.strip()):
        raise SignatureError("bearer token does not match")


def hmac_hex(key: bytes, message: bytes, digest: str) -> str:
    return hmac.new(key, message, digest).hexdigest()


# --- decoding and building ---------------------------------------------------------------------


def invalid(field_name: str, error: str, status: int = 422) -> IngestError:
    """An IngestError naming the offending field in the tool's own terms."""
    return IngestError(status, "invalid payload", [{"field": field_name, "error": error}])


def load_json(body: bytes) -> Any:
    """Decode a body: 413 when too large, 400 when not JSON (also absurd nesting or huge ints)."""
    if len(body) > MAX_BODY_BYTES:
        raise IngestError(413, "body too large", extra={"limit_bytes": MAX_BODY_BYTES})
    try:
        return json.loads(body)
    except RecursionError as exc:
        raise IngestError(400, "malformed JSON: nested too deeply") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise IngestError(400, f"malformed JSON: {exc}") from exc


def event_key(*parts: object) -> str:
    """A dedupe key from parts; hashed when longer than the native id allows, so it stays stable."""
    key = ":".join(str(p) for p in parts)
    if len(key) <= MAX_ID_LENGTH:
        return key
    head = str(parts[0])[:40]
    return f"{head}:sha256:{hashlib.sha256(key.encode('utf-8', 'surrogatepass')).hexdigest()}"


def as_id(value: Any, where: str) -> str:
    """An identifier the tool may send as a number or a string."""
    if isinstance(value, bool) or value is None:
        raise invalid(where, "missing or not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise invalid(where, "missing or not an id")


def opt_str(value: Any) -> str | None:
    """A non-empty string or None; tools send numbers and nulls where strings are expected."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def as_score(value: Any, where: str) -> float | None:
    """An absolute score; empty means 'no score' (Marketo sends "" for an empty token)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise invalid(where, "score must be a number")
    try:
        number = float(value.strip().replace(",", "") if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise invalid(where, f"score must be a number, got {value!r}") from exc
    if not math.isfinite(number):
        raise invalid(where, "score must be a finite number")
    return number


def present(values: Mapping[str, Any]) -> dict[str, Any]:
    """The entries that carry a value: properties a tool left empty are not stored."""
    return {k: v for k, v in values.items() if v}


def array_items(items: list[Any], what: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each element of a JSON array body with its place (``body[3]``); a non-object is refused."""
    for index, item in enumerate(items):
        where = f"body[{index}]"
        if not isinstance(item, dict):
            raise invalid(where, f"expected {what}")
        yield where, item


def obj(value: Any) -> dict[str, Any]:
    """The value when it is a JSON object, else an empty one (PHP sends `[]` for an empty map)."""
    return value if isinstance(value, dict) else {}


def parse_time(value: Any, where: str, default_tz: tzinfo | None = None) -> datetime:
    """An ISO 8601 timestamp; without an offset, `default_tz` is assumed (or it is refused)."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(where, "missing timestamp")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid(where, f"not an ISO 8601 timestamp: {value!r}") from exc
    return _aware(parsed, where, value, default_tz)


def _aware(parsed: datetime, where: str, raw: object, default_tz: tzinfo | None) -> datetime:
    if parsed.tzinfo is None:
        if default_tz is None:
            raise invalid(where, f"timestamp has no UTC offset: {raw!r}")
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def ascii_int(text: str | None, max_digits: int = 18) -> int | None:
    """A plain decimal integer, or None (unicode digits and absurd lengths are not numbers here)."""
    if text is None:
        return None
    text = text.strip()
    if not text or len(text) > max_digits or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def from_epoch_ms(value: Any, where: str) -> datetime:
    """Epoch milliseconds (number or digit string) as an aware UTC datetime."""
    if isinstance(value, str):
        value = ascii_int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(where, "must be epoch milliseconds")
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise invalid(where, f"epoch milliseconds out of range: {value}") from exc


def scalar_properties(source: Mapping[str, Any], limit: int = 20) -> dict[str, Any]:
    """Copy a few flat values worth showing on a card; nested data stays in the tool."""
    out: dict[str, Any] = {}
    for key, value in source.items():
        if len(out) >= limit:
            break
        if isinstance(value, str):
            out[str(key)[:100]] = value[:500]
        elif isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
            out[str(key)[:100]] = value
    return out


def make_lead(
    where: str,
    *,
    id: str | None,
    email: str | None,
    name: str | None = None,
    company: str | None = None,
    title: str | None = None,
) -> LeadIn | None:
    """The lead, or None when the tool sent nobody we can identify (an anonymous visitor).

    A malformed e-mail is dropped rather than refusing the whole batch when an id still
    identifies the lead: people type odd things into forms and the tool has already stored it.
    """
    fields = {"id": id, "email": email, "name": name, "company": company, "title": title}
    if not id and not email:
        return None
    try:
        return LeadIn.model_validate(fields)
    except ValidationError as exc:
        if id and email:
            try:
                return LeadIn.model_validate({**fields, "email": None})
            except ValidationError:
                pass
        raise invalid(where, _first_error(exc)) from exc


def make_event(where: str, fields: dict[str, Any], known_types: Collection[str]) -> NativeEvent:
    """Validate one translated event; a failure names the tool's field and the native one."""
    try:
        event = NativeEvent.model_validate(fields, context={"known_types": frozenset(known_types)})
    except ValidationError as exc:
        raise invalid(where, _first_error(exc)) from exc
    try:
        # Properties are free-form: a lone surrogate ("\ud800" in the JSON) would only fail
        # later, inside the database driver, as a 500.
        json.dumps(event.properties, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, ValueError) as exc:
        raise invalid(f"{where}.properties", "not valid Unicode text") from exc
    return event


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


@dataclass
class Collector:
    """Gathers translated events, dropping in-request duplicates and counting ignored items."""

    events: list[NativeEvent] = field(default_factory=list)
    ignored: int = 0
    duplicates: int = 0
    _seen: set[str] = field(default_factory=set)

    def add(self, event: NativeEvent) -> None:
        if event.id in self._seen:
            self.duplicates += 1
            return
        self._seen.add(event.id)
        self.events.append(event)

    def ignore(self, count: int = 1) -> None:
        self.ignored += count

    def result(self, *, sort: bool = False) -> Translation:
        events = sorted(self.events, key=lambda e: e.occurred_at) if sort else self.events
        return Translation(events=events, ignored=self.ignored, duplicates=self.duplicates)
