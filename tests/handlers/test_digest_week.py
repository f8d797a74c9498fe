"""The weekly digest reports the local calendar week that just ended, named and labelled after it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.context import Deps, HandlerConfig, Language
from handlers.jobs.weekly_digest import digest_slot, run_digest
from handlers.present.digest_text import digest_catalog
from store.engine import SessionFactory
from tests.handlers.jobs.builders import add_mql, config, deps, outbox

TOKYO = ZoneInfo("Asia/Tokyo")
# Monday 7 Dec 2026, 09:00 in Tokyo: the digest of ISO week 49, Mon 30 Nov – Sun 6 Dec.
DIGEST_AT = datetime(2026, 12, 7, 9, 0, tzinfo=TOKYO)
INSIDE = {
    "Week Opener": datetime(2026, 11, 30, 0, 0, tzinfo=TOKYO),  # Monday 00:00 local
    "Still Sunday In Utc": datetime(2026, 11, 29, 15, 30, tzinfo=ZoneInfo("UTC")),  # Mon 00:30
    "Last Minute": datetime(2026, 12, 6, 23, 59, tzinfo=TOKYO),  # Sunday 23:59 local
}
OUTSIDE = {
    "Week Before": datetime(2026, 11, 29, 23, 59, tzinfo=TOKYO),  # the Sunday before
    "Next Week": datetime(2026, 12, 7, 0, 0, tzinfo=TOKYO),  # Monday 00:00 of the next week
    "Digest Morning": datetime(2026, 12, 7, 8, 30, tzinfo=TOKYO),
}


def _config(language: Language = "en", **changes: object) -> HandlerConfig:
    return dataclasses.replace(config(), language=language, **changes)  # type: ignore[arg-type]


async def _week(sessions: SessionFactory, cfg: HandlerConfig) -> Deps:
    for name, created in {**INSIDE, **OUTSIDE}.items():
        await add_mql(sessions, cfg, created_at=created, name=name)
    return deps(sessions, cfg)


async def test_a_tokyo_digest_covers_exactly_that_local_calendar_week(
    sessions: SessionFactory,
) -> None:
    cfg = _config()
    summary = await run_digest(await _week(sessions, cfg), DIGEST_AT)
    assert summary["week"] == "2026-W49"
    assert summary["start"] == "2026-11-30T00:00:00+09:00"
    assert summary["end"] == "2026-12-07T00:00:00+09:00"
    assert summary["mqls"] == len(INSIDE)
    post, upload = await outbox(sessions)
    assert post.dedupe_key == "digest:2026-W49"
    assert post.payload["blocks"][0]["text"]["text"] == "MQL digest: Week 49: 30 Nov – 6 Dec 2026"
    assert post.payload["text"].startswith("MQL digest Week 49: 30 Nov – 6 Dec 2026: 3 MQLs")
    scope = post.payload["blocks"][1]["elements"][0]["text"]
    assert scope.startswith("MQLs created that week, Monday 00:00 to Sunday 24:00 (Asia/Tokyo)")
    assert upload.payload["filename"] == "mql-digest-2026-W49.png"
    assert upload.payload["title"].endswith(", Week 49: 30 Nov – 6 Dec 2026")
    assert digest_slot(DIGEST_AT, cfg) == "2026-W49"


async def test_in_japanese_the_week_reads_as_japanese_write_it(sessions: SessionFactory) -> None:
    await run_digest(await _week(sessions, _config("ja")), DIGEST_AT)
    post, upload = await outbox(sessions)
    assert (
        post.payload["blocks"][0]["text"]["text"]
        == "MQLダイジェスト：第49週 11月30日(月)〜12月6日(日)"
    )
    scope = post.payload["blocks"][1]["elements"][0]["text"]
    assert scope.startswith("この週（Asia/Tokyoの月曜0:00〜日曜24:00）に作成されたMQL")
    assert (
        upload.payload["title"]
        == "グラフ：MQLファネルとソース別SQL化率（第49週 11月30日(月)〜12月6日(日)）"
    )


@pytest.mark.parametrize(
    ("weekday", "at", "now", "week"),
    [
        (0, time(9), datetime(2026, 12, 7, 9, 0, tzinfo=TOKYO), "2026-W49"),
        (0, time(9), datetime(2026, 12, 13, 23, 0, tzinfo=TOKYO), "2026-W49"),  # same digest
        (0, time(9), datetime(2026, 12, 7, 8, 59, tzinfo=TOKYO), "2026-W48"),  # not yet due
        (0, time(0), datetime(2026, 12, 7, 0, 0, tzinfo=TOKYO), "2026-W49"),
        (4, time(17), datetime(2026, 12, 4, 17, 0, tzinfo=TOKYO), "2026-W48"),  # Friday digest
    ],
)
def test_the_slot_is_the_week_reported_on(weekday: int, at: time, now: datetime, week: str) -> None:
    assert digest_slot(now, _config(digest_weekday=weekday, digest_time=at)) == week


async def test_the_rolling_setting_keeps_the_seven_days_up_to_the_digest_time(
    sessions: SessionFactory,
) -> None:
    summary = await run_digest(await _week(sessions, _config(digest_week="rolling")), DIGEST_AT)
    # Monday 30 Nov 09:00 to Monday 7 Dec 09:00: the two Monday-morning MQLs of 30 Nov are
    # before it, the two of 7 Dec inside; named after the week it starts in, like the calendar
    # week sent the same morning, so switching the setting neither repeats nor skips a week.
    assert (summary["week"], summary["start"], summary["end"]) == (
        "2026-W49",
        "2026-11-30T09:00:00+09:00",
        "2026-12-07T09:00:00+09:00",
    )
    assert summary["mqls"] == 3
    post = (await outbox(sessions))[0]
    assert post.payload["blocks"][0]["text"]["text"] == "MQL digest: 2026-11-30 – 2026-12-07"


async def test_the_week_after_is_its_own_digest(sessions: SessionFactory) -> None:
    digest = await _week(sessions, _config())
    first = await run_digest(digest, DIGEST_AT)
    again = await run_digest(digest, DIGEST_AT + timedelta(days=3))
    after = await run_digest(digest, DIGEST_AT + timedelta(days=7))
    assert (first["week"], again["already_queued"], after["week"]) == ("2026-W49", True, "2026-W50")
    assert after["mqls"] == 2  # Monday 00:00 and 08:30 of 7 Dec


@pytest.mark.parametrize(
    ("monday", "en", "ja"),
    [
        ("2026-11-30", "Week 49: 30 Nov – 6 Dec 2026", "第49週 11月30日(月)〜12月6日(日)"),
        ("2026-12-07", "Week 50: 7 – 13 Dec 2026", "第50週 12月7日(月)〜12月13日(日)"),
        (
            "2026-12-28",
            "Week 53: 28 Dec 2026 – 3 Jan 2027",
            "第53週 2026年12月28日(月)〜2027年1月3日(日)",
        ),
        ("2027-01-04", "Week 1: 4 – 10 Jan 2027", "第1週 1月4日(月)〜1月10日(日)"),
    ],
)
def test_a_week_is_labelled_as_people_write_it(monday: str, en: str, ja: str) -> None:
    day = datetime.fromisoformat(monday).date()
    assert digest_catalog("en", TOKYO).format_week(day) == en
    assert digest_catalog("ja", TOKYO).format_week(day) == ja


def test_a_week_label_starts_on_a_monday() -> None:
    with pytest.raises(ValueError, match="2026-12-01 is not a Monday"):
        digest_catalog("en", TOKYO).format_week(datetime(2026, 12, 1).date())
