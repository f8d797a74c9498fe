"""The calibration replays closed outcomes under candidate thresholds, and refuses on thin data."""

from __future__ import annotations

from decimal import Decimal

from scoring.calibration import MIN_CLOSED, Sample, calibrate


def samples() -> list[Sample]:
    """40 closed MQLs at threshold 100: the low scorers led nowhere, the high ones to deals."""
    low = [Sample(score=105, kind="threshold", state="disqualified") for _ in range(10)]
    low += [Sample(score=104, kind="threshold", state="lead", bad=True) for _ in range(5)]
    mid = [Sample(score=130, kind="threshold", state="sql", opportunity=True) for _ in range(10)]
    high = [
        Sample(score=160, kind="threshold", state="sql", opportunity=True, won=True,
               won_amount={"JPY": Decimal("1000000")})
        for _ in range(5)
    ]  # fmt: skip
    triggers = [Sample(score=40, kind="trigger", state="recycled") for _ in range(10)]
    return low + mid + high + triggers


def test_raising_the_threshold_is_replayed_with_the_hours_it_saves() -> None:
    cal = calibrate(samples(), threshold=100, days=90, hours_per_mql=0.5)
    by = {c.threshold: c for c in cal.candidates}
    assert (cal.sample, cal.closed, cal.enough) == (40, 40, True)
    now, up = by[100], by[110]
    assert (now.mqls, now.sql, now.won, now.wasted, now.bad, now.removed) == (40, 15, 5, 20, 5, 0)
    # At 110 the 15 low scorers go (triggers qualify whatever the score): no SQL lost.
    assert (up.mqls, up.sql, up.won, up.wasted, up.bad, up.removed) == (25, 15, 5, 10, 0, 15)
    assert up.saved_hours == 7.5
    assert up.won_amount == {"JPY": Decimal("5000000")}
    # At 150 the SQLs of the 130s are lost too: not advised.
    assert by[150].sql == 5
    assert cal.advice() == by[125]


def test_lowering_cannot_be_replayed_it_shows_the_leads_in_between() -> None:
    cal = calibrate(
        samples(), threshold=100, days=90, hours_per_mql=0.5, leads_between={80: 12, 90: 4}
    )
    by = {c.threshold: c for c in cal.candidates}
    assert (by[80].mqls, by[80].extra_leads, by[90].extra_leads) == (40, 12, 4)


def test_bands_count_outcomes_and_flags() -> None:
    cal = calibrate(samples(), threshold=100, days=90, hours_per_mql=0.5)
    assert [(b.band, b.mqls, b.sql, b.wasted, b.bad) for b in cal.bands] == [
        ("below", 10, 0, 10, 0),
        ("low", 15, 0, 10, 5),
        ("mid", 10, 10, 0, 0),
        ("high", 5, 5, 0, 0),
    ]


def test_it_refuses_to_advise_below_30_closed_outcomes() -> None:
    thin = [
        Sample(score=105, kind="threshold", state="disqualified") for _ in range(MIN_CLOSED - 1)
    ]
    thin += [Sample(score=200, kind="threshold", state="open") for _ in range(50)]  # not closed
    cal = calibrate(thin, threshold=100, days=90, hours_per_mql=0.5)
    assert (cal.sample, cal.closed, cal.enough, cal.advice()) == (79, 29, False, None)
