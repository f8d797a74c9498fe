"""The message catalog: complete in both languages, locale formats, labels and MQL reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.present.catalog import MESSAGES, Catalog, format_number, humanise, placeholders

TOKYO = ZoneInfo("Asia/Tokyo")
EN = Catalog("en", TOKYO)
JA = Catalog("ja", TOKYO)


def test_english_and_japanese_have_exactly_the_same_keys() -> None:
    assert set(MESSAGES["en"]) - set(MESSAGES["ja"]) == set()
    assert set(MESSAGES["ja"]) - set(MESSAGES["en"]) == set()


@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_each_message_has_the_same_placeholders_in_both_languages(key: str) -> None:
    assert placeholders(MESSAGES["ja"][key]) == placeholders(MESSAGES["en"][key])


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("key", sorted(MESSAGES["en"]))
def test_every_message_renders_with_its_placeholders(language: str, key: str) -> None:
    catalog = EN if language == "en" else JA
    params = dict.fromkeys(placeholders(MESSAGES["en"][key]), "X")
    assert catalog.t(key, **params).strip() != ""


def test_missing_japanese_message_falls_back_to_english() -> None:
    messages = {"en": {"hello": "Hello {name}", "bye": "Bye"}, "ja": {"hello": "こんにちは {name}"}}
    catalog = Catalog("ja", TOKYO, messages=messages)
    assert catalog.t("hello", name="Aiko") == "こんにちは Aiko"
    assert catalog.t("bye") == "Bye"


def test_unknown_key_raises_naming_the_key() -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        EN.t("no.such.key")


def test_missing_parameter_raises_naming_it() -> None:
    with pytest.raises(KeyError, match="'owner'"):
        EN.t("ephemeral.already_claimed")


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        Catalog("fr", TOKYO)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Tue 24 Nov 2026, 10:15"), ("ja", "2026年11月24日(火) 10:15")],
)
def test_datetime_is_shown_in_the_configured_time_zone(language: str, expected: str) -> None:
    catalog = Catalog(language, TOKYO)  # type: ignore[arg-type]
    assert catalog.format_datetime(datetime(2026, 11, 24, 1, 15, tzinfo=UTC)) == expected


def test_datetime_crosses_midnight_and_dst_in_new_york() -> None:
    new_york = Catalog("en", ZoneInfo("America/New_York"))
    # 02:30 UTC on 8 Mar 2026 is still 7 Mar in New York (EST, -5).
    assert (
        new_york.format_datetime(datetime(2026, 3, 8, 2, 30, tzinfo=UTC)) == "Sat 7 Mar 2026, 21:30"
    )
    # After the spring-forward change the offset is -4.
    assert (
        new_york.format_datetime(datetime(2026, 3, 9, 14, 0, tzinfo=UTC)) == "Mon 9 Mar 2026, 10:00"
    )


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        EN.format_datetime(datetime(2026, 11, 24, 10, 15))


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "2026-05-24"), ("ja", "2026年5月24日(日)")]
)
def test_date_format(language: str, expected: str) -> None:
    catalog = Catalog(language, TOKYO)  # type: ignore[arg-type]
    assert catalog.format_date(date(2026, 5, 24)) == expected


def test_format_date_refuses_a_datetime() -> None:
    with pytest.raises(TypeError):
        EN.format_date(datetime(2026, 5, 24, tzinfo=UTC))


@pytest.mark.parametrize(
    ("duration", "en", "ja"),
    [
        (timedelta(seconds=20), "< 1 min", "1分未満"),
        (timedelta(minutes=3), "3 min", "3分"),
        (timedelta(minutes=3, seconds=59), "3 min", "3分"),
        (timedelta(hours=2), "2 h", "2時間"),
        (timedelta(hours=2, minutes=5), "2 h 5 min", "2時間5分"),
        (timedelta(days=1, hours=4, minutes=59), "1 d 4 h", "1日4時間"),
        (timedelta(days=3), "3 d", "3日"),
    ],
)
def test_duration(duration: timedelta, en: str, ja: str) -> None:
    assert (EN.format_duration(duration), JA.format_duration(duration)) == (en, ja)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        EN.format_duration(timedelta(minutes=-1))


@pytest.mark.parametrize(
    ("state", "en", "ja"),
    [
        ("sql", "SQL", "SQL"),
        ("lead", "Lead", "リード"),
        ("recycled", "Recycled", "リサイクル"),
        ("disqualified", "Disqualified", "失格"),
    ],
)
def test_disposition_labels(state: str, en: str, ja: str) -> None:
    assert (EN.disposition_label(state), JA.disposition_label(state)) == (en, ja)


def test_claim_label() -> None:
    assert (EN.t("button.claim"), JA.t("button.claim")) == ("Claim", "担当する")


@pytest.mark.parametrize(
    ("key", "en", "ja"),
    [
        ("competitor_contract", "Under contract with a competitor", "競合と契約中"),
        ("timing", "Timing", "検討時期が先"),
        ("budget", "Budget", "予算なし"),
        ("no_project", "No project", "案件なし"),
        ("no_budget_now", "No budget now", "No budget now"),
    ],
)
def test_recycle_reason_labels(key: str, en: str, ja: str) -> None:
    assert (EN.recycle_reason_label(key), JA.recycle_reason_label(key)) == (en, ja)


@pytest.mark.parametrize(
    ("key", "en", "ja"),
    [
        ("competitor", "Competitor", "競合企業"),
        ("student", "Student", "学生"),
        ("spam", "Spam", "スパム"),
        ("invalid_contact", "Invalid contact", "連絡先が無効"),
        ("existing_customer", "Existing customer", "既存顧客"),
        ("wrong-country", "Wrong country", "Wrong country"),
    ],
)
def test_disqualify_reason_labels(key: str, en: str, ja: str) -> None:
    assert (EN.disqualify_reason_label(key), JA.disqualify_reason_label(key)) == (en, ja)


def test_humanise() -> None:
    assert humanise("no_budget_now") == "No budget now"
    assert humanise("__") == "—"


@pytest.mark.parametrize(
    ("event_type", "en", "ja"),
    [
        ("email_opened", "Email opened", "メール開封"),
        ("email_clicked", "Email clicked", "メール内リンクのクリック"),
        ("page_visited", "Page visited", "ページ閲覧"),
        ("content_downloaded", "Content downloaded", "資料ダウンロード"),
        ("video_watched", "Video watched", "動画視聴"),
        ("form_submitted", "Form submitted", "フォーム送信"),
        ("event_attended", "Event attended", "イベント参加"),
        ("score_changed", "Score changed", "スコア変更"),
        ("webinar_registered", "webinar_registered", "webinar_registered"),
    ],
)
def test_event_labels(event_type: str, en: str, ja: str) -> None:
    assert (EN.event_label(event_type), JA.event_label(event_type)) == (en, ja)


THRESHOLD = {
    "kind": "threshold",
    "score": 105,
    "threshold": 100,
    "event_types": ["content_downloaded"],
    "event_labels": ["MA guide"],
}
TRIGGER = {
    "kind": "trigger",
    "trigger": "demo_then_pricing",
    "event_types": ["video_watched", "page_visited"],
    "event_labels": ["demo", "/pricing"],
}
EXTERNAL = {"kind": "external", "score": 120, "threshold": 100}


@pytest.mark.parametrize(
    ("reason", "en", "ja"),
    [
        (
            THRESHOLD,
            "score 105 ≥ 100 after Content downloaded (MA guide)",
            "資料ダウンロード（MA guide） でスコア 105 ≥ 100",
        ),
        (
            TRIGGER,
            "trigger: Demo video, then pricing page (Video watched (demo) → Page visited (/pricing))",
            "トリガー: デモ動画のあと料金ページ（動画視聴（demo） → ページ閲覧（/pricing））",
        ),
        (
            EXTERNAL,
            "score 120 ≥ 100 (scored by the marketing tool)",
            "スコア 120 ≥ 100（マーケティングツールの判定）",
        ),
        (
            {"kind": "threshold", "score": 100, "threshold": 100},
            "score 100 ≥ 100",
            "スコア 100 ≥ 100",
        ),
        (
            {
                "kind": "threshold",
                "score": 110,
                "threshold": 100,
                "event_types": ["email_opened", "custom_thing"],
                "event_labels": [None],
            },
            "score 110 ≥ 100 after Email opened, custom_thing",
            "メール開封、custom_thing でスコア 110 ≥ 100",
        ),
        ({"kind": "trigger", "trigger": "t1"}, "trigger: t1", "トリガー: t1"),
        (
            {
                "kind": "external",
                "score": 97.5,
                "threshold": 90.0,
                "trigger": None,
                "event_keys": ["evt-1"],
                "event_types": ["score_changed"],
                "event_labels": [""],
            },
            "score 97.5 ≥ 90 after Score changed (scored by the marketing tool)",
            "スコア変更 でスコア 97.5 ≥ 90（マーケティングツールの判定）",
        ),
        ({"kind": "manual_override"}, "Manual override", "Manual override"),
        ({"event_types": "oops"}, "—", "—"),
    ],
)
def test_reason_text(reason: dict[str, object], en: str, ja: str) -> None:
    assert (EN.reason_text(reason), JA.reason_text(reason)) == (en, ja)


def test_numbers_are_written_as_people_write_them() -> None:
    assert [format_number(v) for v in (105.0, 97.5, -20, "n/a", True)] == [
        "105", "97.5", "-20", "n/a", "True",
    ]  # fmt: skip
    assert [format_number(v, signed=True) for v in (30, 0, -5.25)] == ["+30", "+0", "-5.25"]
