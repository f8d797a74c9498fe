"""The message catalog: every user-facing string in English and Japanese, and locale formatting."""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from handlers.context import Deps
from handlers.dispositions import DISPOSITION_OF, ReasonList
from handlers.present import catalog_en, catalog_ja
from handlers.present.names import NO_NAMES, DisplayNames, NameKind, normalise_key
from scoring.qualification import format_score

Language = Literal["en", "ja"]

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = {
    "en": catalog_en.MESSAGES,
    "ja": catalog_ja.MESSAGES,
}
"""Language → key → template; English is the complete reference every language falls back to."""

_EN_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_JA_WEEKDAYS: Final = ("月", "火", "水", "木", "金", "土", "日")
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` placeholders a template uses (for the catalog consistency tests)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def format_number(value: object, *, signed: bool = False) -> str:
    """A score or point figure as people write it (105, 97.5, +30); anything else as text."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return str(value)
    text = format_score(value)
    return f"+{text}" if signed and value >= 0 else text


def humanise(key: str) -> str:
    """Turn a configured key such as ``no_budget_now`` into ``No budget now``."""
    words = key.replace("_", " ").replace("-", " ").split()
    if not words:
        return "—"
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _ja_month_day(d: date) -> str:
    return f"{d.month}月{d.day}日({_JA_WEEKDAYS[d.weekday()]})"


class Catalog:
    """Messages and formats for one language and one display time zone.

    Templates are Slack mrkdwn (they may contain ``<@{user}>`` mentions): callers escape any
    user-supplied text before passing it as a parameter. The label and ``*_text`` helpers return
    plain text that the builders escape where it goes into mrkdwn.
    """

    def __init__(
        self,
        language: Language,
        timezone: ZoneInfo,
        *,
        messages: Mapping[str, Mapping[str, str]] = MESSAGES,
        names: DisplayNames = NO_NAMES,
    ) -> None:
        """``messages`` defaults to the shipped catalogs; it must hold ``en`` and ``language``.

        ``names`` are the configured display names of sources, campaigns and triggers.
        """
        if language not in ("en", "ja") or language not in messages or "en" not in messages:
            raise ValueError(f"unsupported [locale] language {language!r}: use 'en' or 'ja'")
        self.language: Language = language
        self.timezone = timezone
        self._messages = messages[language]
        self._fallback = messages["en"]
        self.names = names

    def __repr__(self) -> str:
        return f"Catalog({self.language!r}, {self.timezone.key!r})"

    def has(self, key: str) -> bool:
        """Whether ``key`` exists in this language or in English."""
        return key in self._messages or key in self._fallback

    def t(self, key: str, /, **params: object) -> str:
        """The message ``key`` with ``params`` filled in; falls back to English when missing.

        Raises KeyError naming the key when no language has it, or naming the missing parameter.
        """
        template = self._messages.get(key)
        if template is None:
            template = self._fallback.get(key)
        if template is None:
            raise KeyError(f"message key {key!r} is in no catalog")
        try:
            return template.format(**params)
        except KeyError as exc:
            raise KeyError(f"message {key!r} needs the parameter {exc.args[0]!r}") from None

    # Dates, times and durations.

    def _local(self, dt: datetime) -> datetime:
        if dt.tzinfo is None or dt.utcoffset() is None:
            raise ValueError(
                f"naive datetime {dt.isoformat()} cannot be shown: store aware UTC times"
            )
        return dt.astimezone(self.timezone)

    def format_datetime(self, dt: datetime) -> str:
        """``Tue 24 Nov 2026, 10:15`` / ``2026年11月24日(火) 10:15`` in the configured time zone."""
        local = self._local(dt)
        if self.language == "ja":
            return f"{self.format_date(local.date())} {local:%H:%M}"
        weekday = _EN_WEEKDAYS[local.weekday()]
        month = _EN_MONTHS[local.month - 1]
        return f"{weekday} {local.day} {month} {local.year}, {local:%H:%M}"

    def format_date(self, d: date) -> str:
        """A calendar date: ISO ``2026-05-24`` in English (unambiguous), ``2026年5月24日(日)`` in Japanese.

        Pass a ``date``, not a datetime: the caller decides which local day it means.
        """
        if isinstance(d, datetime):
            raise TypeError("format_date takes a date; use format_datetime for a datetime")
        if self.language == "ja":
            return f"{d.year}年{d.month}月{d.day}日({_JA_WEEKDAYS[d.weekday()]})"
        return d.isoformat()

    def format_week(self, monday: date) -> str:
        """An ISO week as people write it: ``Week 49: 30 Nov – 6 Dec 2026`` /
        ``第49週 11月30日(月)〜12月6日(日)`` (years shown on both sides when it spans two)."""
        if monday.weekday() != 0:
            raise ValueError(f"{monday.isoformat()} is not a Monday: a week starts on Monday")
        sunday = monday + timedelta(days=6)
        number = monday.isocalendar().week
        if self.language == "ja":
            if monday.year != sunday.year:
                days = f"{self.format_date(monday)}〜{self.format_date(sunday)}"
            else:
                days = f"{_ja_month_day(monday)}〜{_ja_month_day(sunday)}"
            return f"第{number}週 {days}"
        first, last = _EN_MONTHS[monday.month - 1], _EN_MONTHS[sunday.month - 1]
        if monday.year != sunday.year:
            days = f"{monday.day} {first} {monday.year} – {sunday.day} {last} {sunday.year}"
        elif monday.month != sunday.month:
            days = f"{monday.day} {first} – {sunday.day} {last} {sunday.year}"
        else:
            days = f"{monday.day} – {sunday.day} {last} {sunday.year}"
        return f"Week {number}: {days}"

    def local_date(self, dt: datetime) -> date:
        """The calendar day ``dt`` falls on in the configured time zone."""
        return self._local(dt).date()

    def format_duration(self, duration: timedelta) -> str:
        """``3 min``, ``2 h 5 min``, ``1 d 4 h`` / ``3分``, ``2時間5分``, ``1日4時間`` (two units at most)."""
        if duration < timedelta(0):
            raise ValueError(f"negative duration {duration} cannot be shown")
        minutes = int(duration.total_seconds() // 60)
        if minutes == 0:
            return self.t("duration.under_minute")
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        if days:
            first, second = self.t("duration.days", n=days), self.t("duration.hours", n=hours)
            rest_zero = hours == 0
        elif hours:
            first, second = self.t("duration.hours", n=hours), self.t("duration.minutes", n=minutes)
            rest_zero = minutes == 0
        else:
            return self.t("duration.minutes", n=minutes)
        return first if rest_zero else self.t("duration.pair", first=first, second=second)

    # Labels.

    def _label(self, prefix: str, key: str) -> str:
        full = f"{prefix}.{key}"
        return self.t(full) if self.has(full) else humanise(key)

    def disposition_label(self, state: str) -> str:
        """Button label and name of a disposition: sql / lead / recycled / disqualified."""
        spec = DISPOSITION_OF.get(state)
        return self.t(spec.label_key) if spec is not None else humanise(state)

    def state_label(self, state: str) -> str:
        """What a card's state is called: open and claimed, else the disposition label."""
        if state in ("open", "claimed"):
            return self.t(f"state.{state}")
        return self.disposition_label(state)

    def recycle_reason_label(self, key: str) -> str:
        """A recycle reason key from ``[recycle.reasons]``, translated or humanised."""
        return self._label("recycle_reason", key)

    def disqualify_reason_label(self, key: str) -> str:
        """A disqualify reason key from ``[disqualify] reasons``, translated or humanised."""
        return self._label("disqualify_reason", key)

    def bad_mql_reason_label(self, key: str) -> str:
        """A "not a real MQL" reason key from ``[funnel] bad_mql_reasons``, translated or humanised."""
        return self._label("bad_mql_reason", key)

    def disposition_reason_label(self, disposition: str, key: str) -> str:
        """The reason label for the disposition it belongs to (recycled or disqualified)."""
        spec = DISPOSITION_OF.get(disposition)
        reasons = spec.reason if spec is not None and spec.reason else ReasonList.RECYCLE
        return self._label(reasons.value, key)

    def _name(self, kind: NameKind, key: str, builtin: str | None) -> str:
        configured = self.names.get(kind, key, self.language)
        if configured:
            return configured
        if builtin is not None:
            full = f"{builtin}.{normalise_key(key)}"
            if self.has(full):
                return self.t(full)
        return key

    def source_label(self, key: str) -> str:
        """A lead source as shown: ``[names.sources]``, else the shipped name of a common source
        key (``webinar`` → Webinar / ウェビナー), else the key as the tool sent it."""
        return self._name("sources", key, "source")

    def campaign_label(self, key: str) -> str:
        """A campaign as shown: ``[names.campaigns]``, else its name as the tool sent it."""
        return self._name("campaigns", key, None)

    def trigger_label(self, key: str) -> str:
        """A behaviour trigger as shown: ``[names.triggers]``, else the shipped name of the
        built-in trigger, else its configured key."""
        return self._name("triggers", key, "trigger")

    def event_label(self, event_type: str) -> str:
        """An event type's display name; unknown types are shown as they are."""
        key = f"event.{event_type}"
        return self.t(key) if self.has(key) else event_type

    def event_text(self, event_type: str, label: str | None) -> str:
        """``Content downloaded (MA guide)``: the event name with its asset/URL when known."""
        name = self.event_label(event_type)
        return self.t("event.with_label", event=name, label=label) if label else name

    def reason_text(self, reason: Mapping[str, object]) -> str:
        """One stored MQL reason as a sentence; tolerant of missing or odd fields.

        ``{"kind": "threshold", "score": 105, "threshold": 100, "event_types": [...],
        "event_labels": [...]}`` → ``score 105 ≥ 100 after Content downloaded (MA guide)``;
        ``{"kind": "trigger", "trigger": "demo_then_pricing", ...}`` →
        ``trigger: Demo video, then pricing page (Video watched (demo) → Page visited (/pricing))``;
        ``{"kind": "external", "score": 120, "threshold": 100}`` → score set by the tool.
        Scores are stored as floats: ``105.0`` shows as ``105``.
        """
        kind = str(reason.get("kind", ""))
        score = format_number(reason.get("score", "?"))
        threshold = format_number(reason.get("threshold", "?"))
        events = self._reason_events(reason)
        joined = self.t("list.separator").join(events)
        if kind == "threshold":
            if not events:
                return self.t("reason.threshold", score=score, threshold=threshold)
            return self.t("reason.threshold_after", score=score, threshold=threshold, events=joined)
        if kind == "trigger":
            trigger = self.trigger_label(str(reason.get("trigger", "?")))
            if not events:
                return self.t("reason.trigger", trigger=trigger)
            return self.t("reason.trigger_events", trigger=trigger, events=" → ".join(events))
        if kind == "external":
            if not events:
                return self.t("reason.external", score=score, threshold=threshold)
            return self.t("reason.external_after", score=score, threshold=threshold, events=joined)
        return humanise(kind)

    def _reason_events(self, reason: Mapping[str, object]) -> list[str]:
        types = reason.get("event_types")
        labels = reason.get("event_labels")
        if not isinstance(types, list | tuple):
            return []
        label_list = list(labels) if isinstance(labels, list | tuple) else []
        texts = []
        for index, event_type in enumerate(types):
            label = label_list[index] if index < len(label_list) else None
            texts.append(self.event_text(str(event_type), str(label) if label else None))
        return texts


def catalog_of(deps: Deps) -> Catalog:
    """The message catalog in the configured language and time zone."""
    return Catalog(deps.config.language, deps.config.timezone, names=deps.config.names)
