"""The digest's pure rules: honest small numbers, trends, score bands, periods and SLA cutoffs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scoring.clock import BusinessCalendar, add_business_time, business_elapsed
from scoring.digest import (
    ClaimTimes,
    Conversion,
    Outcomes,
    Period,
    PeriodFigures,
    Rate,
    band_bounds,
    band_of,
    business_cutoff,
    in_band_order,
    in_kind_order,
    iso_week,
    previous_periods,
    sla_cutoffs,
    stats_period,
    top_with_other,
    trends,
    weekly_period,
)
from scoring.sla import default_levels

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
CAL = BusinessCalendar.parse(
    timezone="Asia/Tokyo", business_hours="09:00-18:00", workdays="mon-fri", holidays=["JP"]
)


def jst(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TOKYO)


@pytest.mark.parametrize(
    ("num", "den", "shown", "small"),
    [
        (0, 0, "0/0", True),
        (3, 4, "3/4", True),
        (4, 4, "4/4", True),
        (2, 5, "40%", False),
        (1, 6, "17%", False),
        (5, 5, "100%", False),
        (1, 200, "0%", False),
    ],
)
def test_a_rate_over_fewer_than_five_mqls_is_shown_as_counts(
    num: int, den: int, shown: str, small: bool
) -> None:
    rate = Rate(num, den)
    assert rate.display() == shown
    assert rate.is_small is small


@pytest.mark.parametrize(("num", "den"), [(3, 2), (-1, 4), (0, -1)])
def test_impossible_rates_are_refused(num: int, den: int) -> None:
    with pytest.raises(ValueError, match=f"rate {num}/{den}"):
        Rate(num, den)


def test_the_week_ends_at_the_latest_digest_time() -> None:
    expected = Period(jst(23, 9), jst(30, 9))
    for now in (jst(30, 9), jst(30, 17), jst(2, 12, month=12), jst(7, 8, 59, month=12)):
        assert weekly_period(now, weekday=0, at=time(9), tz=TOKYO) == expected
    assert weekly_period(jst(30, 8, 59), weekday=0, at=time(9), tz=TOKYO) == Period(
        jst(16, 9), jst(23, 9)
    )


def test_a_week_across_the_dst_change_is_seven_local_days() -> None:
    # New York leaves DST on Sunday 1 Nov 2026: that Monday-to-Monday week has 169 hours.
    now = datetime(2026, 11, 2, 9, 0, tzinfo=NEW_YORK)
    week = weekly_period(now, weekday=0, at=time(9), tz=NEW_YORK)
    assert week == Period(datetime(2026, 10, 26, 9, tzinfo=NEW_YORK), now)
    assert week.end - week.start == timedelta(hours=169)
    before = previous_periods(week, 2, NEW_YORK)
    assert [(p.start.astimezone(UTC), p.end - p.start) for p in before] == [
        (datetime(2026, 10, 19, 13, tzinfo=UTC), timedelta(days=7)),
        (datetime(2026, 10, 12, 13, tzinfo=UTC), timedelta(days=7)),
    ]


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValueError, match="must be after start"):
        Period(jst(30, 9), jst(30, 9))
    with pytest.raises(ValueError, match="needs a time zone"):
        Period(datetime(2026, 11, 23), jst(30, 9))
    with pytest.raises(ValueError, match="digest weekday 7"):
        weekly_period(jst(30, 9), weekday=7, at=time(9), tz=TOKYO)


@pytest.mark.parametrize(("name", "days"), [("7d", 7), ("30d", 30), ("quarter", 91)])
def test_stats_periods_end_now(name: str, days: int) -> None:
    now = jst(30, 10)
    assert stats_period(name, now) == Period(now - timedelta(days=days), now)


def test_an_unknown_stats_period_names_the_choices() -> None:
    with pytest.raises(ValueError, match="unknown period '1y'; use one of 7d, 30d, quarter"):
        stats_period("1y", jst(30, 10))


def test_iso_week_is_taken_in_the_sla_time_zone() -> None:
    monday_morning_in_tokyo = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert iso_week(monday_morning_in_tokyo, TOKYO) == "2026-W49"
    assert iso_week(monday_morning_in_tokyo, ZoneInfo("UTC")) == "2026-W48"


@pytest.mark.parametrize(
    ("score", "band"),
    [(60, "below"), (99.9, "below"), (100, "low"), (124.9, "low"), (125, "mid"), (150, "high")],
)
def test_score_bands_are_multiples_of_the_threshold(score: float, band: str) -> None:
    assert band_of(score, 100) == band
    assert band_bounds(100) == (
        ("below", None, 100.0),
        ("low", 100.0, 125.0),
        ("mid", 125.0, 150.0),
        ("high", 150.0, None),
    )


def test_bands_and_kinds_come_in_a_fixed_order_with_empty_ones() -> None:
    assert in_band_order([Conversion("high", 2, 1)]) == (
        Conversion("below", 0, 0),
        Conversion("low", 0, 0),
        Conversion("mid", 0, 0),
        Conversion("high", 2, 1),
    )
    # External scores only appear when there are some; unknown kinds come last.
    assert in_kind_order([Conversion("zapier", 1, 0), Conversion("trigger", 3, 1)]) == (
        Conversion("threshold", 0, 0),
        Conversion("trigger", 3, 1),
        Conversion("zapier", 1, 0),
    )


def test_top_groups_then_the_rest_folded_into_other() -> None:
    rows = [
        Conversion("b", 3, 1),
        Conversion(None, 3, 0),
        Conversion("a", 3, 2),
        Conversion("c", 1, 1),
        Conversion("d", 5, 0),
    ]
    assert top_with_other(rows, 3) == (
        Conversion("d", 5, 0),
        Conversion("a", 3, 2),
        Conversion("b", 3, 1),
        Conversion(None, 4, 1, other=True),
    )
    assert top_with_other(rows, 5)[-1] == Conversion("c", 1, 1)


def _figures(
    created: int, sql: int, breaches: int = 0, median: float | None = 600
) -> PeriodFigures:
    return PeriodFigures(
        period=Period(jst(23, 9), jst(30, 9)),
        as_of=jst(30, 9),
        created=created,
        claimed=created,
        claim_times=ClaimTimes(created, median, median),
        sla_breaches=breaches,
        outcomes=Outcomes(sql=sql, lead=created - sql),
    )


def test_trends_against_the_mean_and_the_pooled_rate() -> None:
    result = trends(
        _figures(15, 4, breaches=3, median=420),
        [_figures(10, 1), _figures(6, 3), _figures(0, 0, median=None), _figures(4, 1)],
    )
    assert result.created.baseline == 5.0
    assert result.created.change == 2.0
    assert result.sla_breaches.baseline == 0.0
    assert result.sla_breaches.change is None  # nothing to compare a relative change with
    assert result.conversion.baseline == Rate(5, 20)
    assert result.conversion.points == pytest.approx(100 * (4 / 15 - 5 / 20))
    assert result.median_claim_seconds.baseline == 600.0  # weeks without claims are left out


def test_no_percentage_point_trend_from_small_numbers() -> None:
    result = trends(_figures(4, 2), [_figures(20, 5)])
    assert result.conversion.points is None
    assert trends(_figures(20, 5), []).created.baseline is None


def test_outcomes_must_add_up_to_the_mqls_created() -> None:
    with pytest.raises(ValueError, match="outcomes add up to 3, not to the 4 MQLs created"):
        PeriodFigures(
            period=Period(jst(23, 9), jst(30, 9)),
            as_of=jst(30, 9),
            created=4,
            claimed=0,
            claim_times=ClaimTimes(0, None, None),
            sla_breaches=0,
            outcomes=Outcomes(open=3),
        )


@pytest.mark.parametrize(
    ("end", "delta", "cutoff"),
    [
        (jst(30, 9), timedelta(minutes=15), jst(27, 17, 45)),  # back over the weekend
        (jst(30, 9), timedelta(hours=2), jst(27, 16)),
        (jst(24, 10), timedelta(hours=2), jst(20, 17)),  # Monday 23 Nov is a holiday
        (jst(25, 12), timedelta(hours=1), jst(25, 11)),
        (jst(25, 20), timedelta(hours=1), jst(25, 17)),  # after hours: from the closing
        (jst(25, 12), timedelta(), jst(25, 12)),
        (jst(25, 12), timedelta(hours=9), jst(24, 12)),
    ],
)
def test_business_cutoff_walks_back_over_business_time(
    end: datetime, delta: timedelta, cutoff: datetime
) -> None:
    assert business_cutoff(CAL, end, delta) == cutoff
    assert business_elapsed(CAL, cutoff, end) == delta


@pytest.mark.parametrize("start", [jst(24, 9, 30), jst(27, 17, 50), jst(20, 12, 1)])
@pytest.mark.parametrize("minutes", [1, 15, 120, 600, 2000])
def test_business_cutoff_inverts_add_business_time(start: datetime, minutes: int) -> None:
    end = add_business_time(CAL, start, timedelta(minutes=minutes))
    assert business_cutoff(CAL, end, timedelta(minutes=minutes)) == start


def test_sla_cutoffs_from_the_reminder_levels() -> None:
    levels = default_levels(
        claim_within=timedelta(minutes=15),
        work_within=timedelta(hours=2),
        escalate_after=timedelta(hours=3),
        auto_assign=False,
    )
    cutoffs = sla_cutoffs(levels, CAL, jst(30, 9))
    assert (cutoffs.claim_seconds, cutoffs.claim_cutoff, cutoffs.work_cutoff) == (
        900,
        jst(27, 17, 45),
        jst(27, 16),
    )
    none = sla_cutoffs((), CAL, jst(30, 9))
    assert (none.claim_seconds, none.claim_cutoff, none.work_cutoff) == (None, None, None)
