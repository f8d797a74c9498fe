"""The one settings class: a TOML file plus MQLBOT_<SECTION>__<KEY> environment variables (env wins)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from scoring.durations import format_duration, parse_duration

DEFAULT_CONFIG_PATH = Path("mqlbot.toml")
SECRET_FIELDS = (
    "webhook_secret",
    "crm_webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "slack_app_token",
)


class ConfigError(Exception):
    """Configuration that cannot run; the message is one line naming the key and the problem."""


def _duration(value: Any) -> Any:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackSettings(_Section):
    """Channels and people."""

    sdr_channel: str = Field(min_length=1, max_length=50)
    marketing_channel: str = Field(min_length=1, max_length=50)
    sdr_users: list[str] = Field(default_factory=list)
    sdr_usergroup: str | None = None
    managers: list[str] = Field(default_factory=list)
    # Who an unclaimed-MQL reminder mentions: the SDRs one by one, or the whole channel.
    mention: Literal["sdrs", "channel", "here"] = "sdrs"
    member_cache_ttl: Duration = timedelta(minutes=10)

    @field_validator("sdr_channel", "marketing_channel")
    @classmethod
    def _channel_id(cls, value: str) -> str:
        if not re.fullmatch(r"[CGD][A-Z0-9_]+", value):
            raise ValueError(
                f"{value!r} is not a channel id (like C0123ABCD): use the id, not the name"
            )
        return value


class TriggerStepSettings(_Section):
    """One step of a behaviour trigger: an event type and property regexes that must all match."""

    type: str = Field(min_length=1)
    match: dict[str, str] = Field(default_factory=dict)

    @field_validator("match")
    @classmethod
    def _patterns_compile(cls, value: dict[str, str]) -> dict[str, str]:
        for prop, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"match.{prop}: bad pattern {pattern!r}: {exc}") from exc
        return value


class TriggerSettings(_Section):
    """An ordered sequence of steps within a window that makes a lead an MQL at once."""

    within: Duration
    steps: list[TriggerStepSettings] = Field(min_length=1)


DEFAULT_POINTS: dict[str, float] = {
    "email_opened": 2,
    "email_clicked": 5,
    "page_visited": 3,
    "content_downloaded": 15,
    "video_watched": 10,
    "form_submitted": 20,
    "event_attended": 30,
    "score_changed": 0,
    "unsubscribed": -50,
}
DEFAULT_TRIGGERS = {
    "demo_then_pricing": TriggerSettings(
        within=timedelta(hours=72),
        steps=[
            TriggerStepSettings(type="video_watched", match={"video": "demo"}),
            TriggerStepSettings(type="page_visited", match={"url": "/pricing"}),
        ],
    )
}


class ScoringSettings(_Section):
    """Points, reset, decay and triggers."""

    mql_threshold: float = Field(default=100, gt=0)
    points: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_POINTS))
    inactivity_reset: Duration | None = timedelta(days=30)
    decay_half_life: Duration | None = None
    retention: Duration = timedelta(days=400)
    triggers: dict[str, TriggerSettings] = Field(default_factory=lambda: dict(DEFAULT_TRIGGERS))

    @field_validator("points")
    @classmethod
    def _type_names(cls, value: dict[str, float]) -> dict[str, float]:
        for name in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,99}", name):
                raise ValueError(f"{name!r} is not an event type name (lowercase, digits, _)")
        return value


class SlaSettings(_Section):
    """The business-hours clock and the reminder schedule."""

    claim_within: Duration = timedelta(minutes=15)
    work_within: Duration = timedelta(hours=24)
    escalate_after: Duration = timedelta(hours=48)
    timezone: str = "UTC"
    business_hours: str = "09:00-18:00"
    workdays: str = "mon-fri"
    holidays: list[str] = Field(default_factory=list)
    auto_assign: bool = False
    # Optional explicit reminder levels; empty means remind at *_within, escalate at escalate_after.
    levels: list[dict[str, str]] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (use an IANA name such as Asia/Tokyo)"
            ) from exc
        return value


DEFAULT_RECYCLE = {
    "timing": timedelta(days=90),
    "competitor_contract": timedelta(days=180),
    "budget": timedelta(days=120),
    "no_project": timedelta(days=180),
}


class RecycleSettings(_Section):
    """Reasons for Recycled and how long until each returns to Lead."""

    reasons: dict[str, Duration] = Field(default_factory=lambda: dict(DEFAULT_RECYCLE))
    # A returning lead must re-qualify through fresh activity.
    reset_score: bool = True

    @field_validator("reasons")
    @classmethod
    def _non_empty(cls, value: dict[str, timedelta]) -> dict[str, timedelta]:
        if not value:
            raise ValueError("at least one recycle reason is needed")
        return value


class DisqualifySettings(_Section):
    """The reasons offered when disqualifying."""

    reasons: list[str] = Field(
        default_factory=lambda: [
            "competitor",
            "student",
            "spam",
            "invalid_contact",
            "existing_customer",
        ],
        min_length=1,
    )


class DigestSettings(_Section):
    """When the weekly digest goes out, in the SLA time zone."""

    weekday: Weekday = "mon"
    time: str = "09:00"
    # "calendar": the local Monday-to-Sunday week that ended before the digest time;
    # "rolling": the seven days up to the digest time (how digests were cut before 2026-12).
    week: Literal["calendar", "rolling"] = "calendar"

    @field_validator("time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a time of day (HH:MM)") from exc
        return value


class LocaleSettings(_Section):
    """The language of everything the bot writes."""

    language: Literal["en", "ja"] = "en"


DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
NameTable = dict[str, DisplayName | dict[Literal["en", "ja"], DisplayName]]


class NamesSettings(_Section):
    """Display names of lead sources, campaigns and trigger rules, by key.

    A value is one name (``webinar = "Webinars"``) or one per language
    (``webinar = {en = "Webinars", ja = "ウェビナー"}``).
    """

    sources: NameTable = Field(default_factory=dict)
    campaigns: NameTable = Field(default_factory=dict)
    triggers: NameTable = Field(default_factory=dict)


class CrmSettings(_Section):
    """The loop back to the CRM: outbound state-change webhook and links to lead records."""

    webhook_url: str | None = None
    lead_url_template: str | None = None

    @field_validator("webhook_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^\s/]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @field_validator("lead_url_template")
    @classmethod
    def _placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return None
        names = set(re.findall(r"{(\w*)}", value))
        unknown = names - {"lead_id", "external_id", "email"}
        if not names or unknown:
            raise ValueError(
                "must contain {external_id}, {email} or {lead_id} and nothing else in braces"
            )
        return value


class FunnelSettings(_Section):
    """What happens after SQL: attribution of CRM opportunities, and the "not a real MQL" flag."""

    attribution_window: Duration = timedelta(days=180)
    bad_mql_reasons: list[str] = Field(
        default_factory=lambda: ["no_fit", "no_intent", "duplicate", "bad_data"], min_length=1
    )
    sdr_hours_per_mql: float = Field(default=0.5, gt=0, le=100)
    calibration_days: int = Field(default=90, ge=7, le=730)

    @field_validator("bad_mql_reasons")
    @classmethod
    def _reason_keys(cls, value: list[str]) -> list[str]:
        for reason in value:
            if not re.fullmatch(r"[a-z0-9_]{1,50}", reason):
                raise ValueError(f"{reason!r}: reasons are keys of a-z, 0-9 and _ (at most 50)")
        if len(set(value)) != len(value):
            raise ValueError("reasons must not repeat")
        return value


class SenderSettings(_Section):
    """How the outbox is drained to Slack."""

    max_attempts: int = Field(default=8, ge=1, le=100)
    per_channel_interval: Duration = timedelta(seconds=1)
    poll_interval: Duration = timedelta(milliseconds=200)


class _TomlFile(PydanticBaseSettingsSource):
    """Reads the TOML file; refuses secrets in it (secrets only ever come from the environment)."""

    def __init__(self, settings_cls: type[BaseSettings], data: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = dict(data)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


class Settings(BaseSettings):
    """Everything mqlbot reads from its configuration, validated once at start."""

    model_config = SettingsConfigDict(
        env_prefix="MQLBOT_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = "sqlite:///./mqlbot.db"
    slack_api_url: str = "https://slack.com/api/"
    webhook_secret: SecretStr | None = None
    crm_webhook_secret: SecretStr | None = None
    slack_bot_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_BOT_TOKEN")
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET")
    )
    slack_app_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("SLACK_APP_TOKEN")
    )
    slack: SlackSettings
    scoring: ScoringSettings = ScoringSettings()
    sla: SlaSettings = SlaSettings()
    recycle: RecycleSettings = RecycleSettings()
    disqualify: DisqualifySettings = DisqualifySettings()
    digest: DigestSettings = DigestSettings()
    locale: LocaleSettings = LocaleSettings()
    names: NamesSettings = NamesSettings()
    crm: CrmSettings = CrmSettings()
    funnel: FunnelSettings = FunnelSettings()
    sender: SenderSettings = SenderSettings()
    # [sources.<tool>] tables, validated by each source adapter's own parse_config.
    sources: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sla_order(self) -> Settings:
        if self.sla.escalate_after <= self.sla.claim_within:
            raise ValueError("sla.escalate_after must be longer than sla.claim_within")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFile(settings_cls, _PENDING_TOML.get()))

    def masked(self) -> dict[str, Any]:
        """What is in force, secrets shown only as set or unset."""
        data = self.model_dump(mode="json")
        for name in SECRET_FIELDS:
            data[name] = "********" if getattr(self, name) is not None else None
        return data


# The TOML data for the Settings() call in progress; load_settings sets it, nothing else does.
_PENDING_TOML: ContextVar[Mapping[str, Any]] = ContextVar(
    "mqlbot_pending_toml", default=MappingProxyType({})
)


def read_toml(path: Path) -> dict[str, Any]:
    """Read the configuration file; an absent default file is an empty configuration."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        if path == DEFAULT_CONFIG_PATH:
            return {}
        raise ConfigError(f"config: file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML: {exc}") from None
    for name in SECRET_FIELDS:
        if name in data:
            raise ConfigError(
                f"config: {name} must not be in {path}: secrets come only from the environment"
            )
    return data


def required_keys(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """The dotted keys that have no default, e.g. ``slack.sdr_channel``."""
    keys = []
    for name, info in model.model_fields.items():
        if not info.is_required():
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += required_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def _env_name(key: str) -> str:
    return "MQLBOT_" + key.upper().replace(".", "__")


def _missing(missing: list[str], path: Path, file_found: bool) -> str:
    """The unset required keys, and where they can be set (naming the file looked for)."""
    # A missing section stands for its required keys; a key inside a table stays as it is.
    keys = [k for k in required_keys() if any(k == m or k.startswith(m + ".") for m in missing)]
    keys += [m for m in missing if not any(k == m or k.startswith(m + ".") for k in keys)]
    env = ", ".join(_env_name(k) for k in keys)
    if file_found:
        return f"{', '.join(keys)}: required but not set (in {path}, or as {env})"
    return (
        f"no configuration file at {path.absolute()} (give another with --config or MQLBOT_CONFIG);"
        f" required keys: {', '.join(keys)} (or the variables {env})"
    )


def _one_line(exc: ValidationError, path: Path, file_found: bool) -> str:
    parts = []
    missing = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "config"
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            missing.append(key)
            continue
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{key}: {msg}")
    if missing:
        parts.append(_missing(missing, path, file_found))
    return "config: " + "; ".join(parts)


def layered(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``top`` laid over it, table by table (a key of ``top`` wins)."""
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = layered(below, value)
        else:
            merged[key] = value
    return merged


def load_settings(
    path: Path | None = None, *, defaults: Mapping[str, Any] | None = None, **overrides: Any
) -> Settings:
    """Build the settings from ``defaults``, the TOML file, the environment and explicit overrides
    (in that order of increasing precedence); raise ConfigError with one line naming each bad key.

    ``defaults`` are a program's own embedded settings (the demo's), in the TOML file's shape.
    """
    path = path or DEFAULT_CONFIG_PATH
    data = read_toml(path)
    token = _PENDING_TOML.set(layered(defaults or {}, data))
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, path, path.is_file())) from None
    finally:
        _PENDING_TOML.reset(token)


def database_url(path: Path | None = None) -> str:
    """Just the database URL (env, then file, then default): enough for `mqlbot db upgrade`."""
    import os

    if env := os.environ.get("MQLBOT_DATABASE_URL"):
        return env
    url = read_toml(path or DEFAULT_CONFIG_PATH).get(
        "database_url", Settings.model_fields["database_url"].default
    )
    if not isinstance(url, str):
        raise ConfigError("config: database_url: must be a string")
    return url


def describe_database(url: str) -> str:
    """Where the database is, in a few words: the SQLite file's full path (saying when it is yet
    to be created), or the server and database name without credentials."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            return "in memory (SQLite)"
        path = Path(parsed.database).absolute()
        return f"{path} (SQLite{'' if path.exists() else ', new file'})"
    where = parsed.host or "localhost"
    if parsed.port:
        where += f":{parsed.port}"
    return f"{parsed.database} on {where} ({parsed.get_backend_name()})"
