"""Duration strings used throughout the settings."""

from datetime import timedelta

import pytest

from scoring.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("30d", timedelta(days=30)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        (" 1.5h ", timedelta(minutes=90)),
        ("0s", timedelta(0)),
        ("200ms", timedelta(milliseconds=200)),
    ],
)
def test_parses_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["fast", "", "15", "m15", "15x", "-5m", "15m fast"])
def test_rejects_non_durations_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration: use a number and a unit"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(days=30), "30d"),
        (timedelta(minutes=90), "90m"),
        (timedelta(seconds=61), "61s"),
        (timedelta(milliseconds=1500), "1500ms"),
    ],
)
def test_formats_back_to_the_largest_exact_unit(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text
    assert parse_duration(text) == delta
