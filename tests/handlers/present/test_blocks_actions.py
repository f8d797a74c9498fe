"""Action ids and the opaque values the buttons and the managers' menu carry."""

from __future__ import annotations

import pytest

from handlers.present.actions import (
    ActionId,
    ManagerAction,
    manager_value,
    parse_manager_value,
)


def test_action_ids_are_unique_and_within_slack_limits() -> None:
    values = [a.value for a in ActionId]
    assert len(values) == len(set(values))
    assert all(0 < len(v) <= 255 for v in values)


def test_manager_values_round_trip() -> None:
    assert manager_value(ManagerAction.REASSIGN, "42") == "reassign:42"
    assert parse_manager_value("reopen:42") == (ManagerAction.REOPEN, "42")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("42", "is not '<action>:<mql id>'"),
        ("delete:42", "names no known action"),
        ("release:4:2", "cannot be used as a button value"),
        ("release:", "is not '<action>:<mql id>'"),
    ],
)
def test_forged_manager_values_are_refused(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_manager_value(value)
