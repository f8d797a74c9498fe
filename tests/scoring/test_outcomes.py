"""The pure outcome rules: money, folding events by their own time, attribution, thread lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from scoring.currency import MINOR_UNITS, Money, MoneyError, format_money, parse_money
from scoring.outcomes import (
    LineKind,
    OpportunityStatus,
    OutcomeFact,
    OutcomeType,
    attributed_mql,
    changes,
    fold,
    furthest,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


@pytest.mark.parametrize(
    ("amount", "currency", "en", "ja"),
    [
        ("3200000", "JPY", "¥3,200,000", "¥3,200,000"),
        ("32000", "USD", "$32,000.00", "$32,000.00"),
        ("1250.5", "chf", "CHF 1,250.50", "1,250.50 CHF"),
        ("0.125", "KWD", "KWD 0.125", "0.125 KWD"),
    ],
)
def test_money_is_formatted_per_currency_and_language(
    amount: str, currency: str, en: str, ja: str
) -> None:
    money = parse_money(amount, currency)
    assert (format_money(money, "en"), format_money(money, "ja")) == (en, ja)


def test_money_is_exact_in_minor_units() -> None:
    money = parse_money("0.10", "USD")
    assert money.minor == 10
    total = sum(parse_money("0.10", "USD").minor for _ in range(3))
    assert Money.of_minor(total, "USD").amount == Decimal("0.30")


@pytest.mark.parametrize(
    ("amount", "currency", "error"),
    [
        ("1", "ABC", "unknown currency"),
        ("1e400", "USD", "too large"),
        ("NaN", "USD", "finite"),
        ("-5", "USD", "negative"),
        ("1_000", "USD", "not a number"),
        ("0.5", "JPY", "more decimals than JPY"),
    ],
)
def test_money_refusals(amount: str, currency: str, error: str) -> None:
    with pytest.raises(MoneyError, match=error):
        parse_money(amount, currency)


def test_the_currency_list_is_iso_4217() -> None:
    assert len(MINOR_UNITS) > 150
    assert (MINOR_UNITS["JPY"], MINOR_UNITS["USD"], MINOR_UNITS["BHD"]) == (0, 2, 3)
    assert all(len(code) == 3 and code.isupper() for code in MINOR_UNITS)


def fact(kind: OutcomeType, day: float, seq: int, **extra: object) -> OutcomeFact:
    return OutcomeFact(type=kind, occurred_at=at(day), seq=seq, **extra)  # type: ignore[arg-type]


def test_fold_applies_events_by_their_time_not_their_arrival() -> None:
    usd = parse_money("100", "USD")
    events = [
        fact(OutcomeType.WON, 5, 1, amount=usd),
        fact(OutcomeType.CREATED, 1, 2, stage="Prospecting"),
        fact(OutcomeType.STAGE_CHANGED, 3, 3, stage="Negotiation"),
    ]
    facts = fold(events)
    assert (facts.status, facts.opened_at, facts.won_at, facts.stage, facts.amount) == (
        OpportunityStatus.WON, at(1), at(5), "Negotiation", usd,
    )  # fmt: skip


def test_a_later_stage_change_reopens_a_lost_opportunity() -> None:
    facts = fold(
        [
            fact(OutcomeType.CREATED, 1, 1),
            fact(OutcomeType.LOST, 2, 2, lost_reason="budget"),
            fact(OutcomeType.STAGE_CHANGED, 3, 3, stage="Proposal"),
        ]
    )
    assert (facts.status, facts.lost_at, facts.lost_reason) == (OpportunityStatus.OPEN, None, None)


def test_without_a_created_event_the_crm_creation_time_or_the_first_event_opens_it() -> None:
    assert fold([fact(OutcomeType.WON, 4, 1)]).opened_at == at(4)
    assert fold([fact(OutcomeType.WON, 4, 1, created_at=at(2))]).opened_at == at(2)


def test_changes_make_one_line_each() -> None:
    opened = fold([fact(OutcomeType.CREATED, 1, 1, stage="A")])
    staged = fold(
        [
            fact(OutcomeType.CREATED, 1, 1, stage="A"),
            fact(OutcomeType.STAGE_CHANGED, 2, 2, stage="B"),
        ]
    )
    won = fold([fact(OutcomeType.CREATED, 1, 1), fact(OutcomeType.WON, 2, 2)])
    assert changes(None, opened) == (LineKind.OPENED,)
    assert changes(opened, staged) == (LineKind.STAGE,)
    assert changes(opened, won) == (LineKind.WON,)
    assert changes(None, won) == (LineKind.OPENED, LineKind.WON)
    assert changes(won, won) == ()


def test_attribution_takes_the_latest_mql_before_within_the_window() -> None:
    window = timedelta(days=180)
    mqls = [(1, at(0)), (2, at(10)), (3, at(30))]
    assert attributed_mql(mqls, at(20), window) == 2
    assert attributed_mql(mqls, at(30), window) == 3
    assert attributed_mql(mqls, at(-1), window) is None
    assert attributed_mql([(1, at(0))], at(180), window) == 1
    assert attributed_mql([(1, at(0))], at(180.01), window) is None


def test_furthest_prefers_won_then_open_then_lost() -> None:
    lost = fold([fact(OutcomeType.LOST, 1, 1)])
    open_ = fold([fact(OutcomeType.CREATED, 2, 2)])
    won = fold([fact(OutcomeType.WON, 0, 3)])
    assert furthest([lost, open_]) == open_
    assert furthest([lost, won, open_]) == won
    assert furthest([]) is None
