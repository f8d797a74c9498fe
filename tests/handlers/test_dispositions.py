"""The dispositions table: complete, consistent with the stored states, the catalogs and the listeners."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.dispositions import (
    DISPOSITION_OF,
    DISPOSITIONS,
    QUALIFYING_STAGES,
    ReasonList,
    reason_keys,
)
from handlers.present.catalog import MESSAGES
from handlers.slack import dispositions as listener
from store import models
from store.models import LeadStage, MqlState
from tests.handlers.slack.changes_builders import config


def test_the_table_covers_every_stored_disposition_in_card_order() -> None:
    assert [spec.state for spec in DISPOSITIONS] == list(models.DISPOSITIONS)
    assert [spec.state.value for spec in DISPOSITIONS] == [
        "sql",
        "lead",
        "recycled",
        "disqualified",
    ]
    assert DISPOSITION_OF.get("open") is None
    assert DISPOSITION_OF.get("claimed") is None


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_every_label_key_is_in_both_catalogs(language: str) -> None:
    for spec in DISPOSITIONS:
        assert MESSAGES[language][spec.label_key], spec


def test_each_disposition_moves_the_lead_to_its_own_stage() -> None:
    assert {spec.state.value: spec.stage.value for spec in DISPOSITIONS} == {
        "sql": "sql",
        "lead": "lead",
        "recycled": "recycled",
        "disqualified": "disqualified",
    }


def test_only_new_leads_and_lead_or_recycled_ones_qualify_again() -> None:
    assert {LeadStage.TARGET, LeadStage.LEAD, LeadStage.RECYCLED} == QUALIFYING_STAGES


def test_the_listener_registers_each_button_and_modal_of_the_table() -> None:
    assert {spec.button.value for spec in DISPOSITIONS} == set(listener.BUTTONS)
    assert {spec.modal for spec in DISPOSITIONS} == set(listener.MODALS)
    assert len(set(listener.MODALS)) == len(DISPOSITIONS)


def test_reasons_come_from_the_configured_list_each_disposition_names() -> None:
    cfg = config(recycle_reasons={"timing": timedelta(days=90)}, disqualify_reasons=("competitor",))
    asked = {spec.state.value: spec.reason for spec in DISPOSITIONS}
    assert asked == {
        "sql": None,
        "lead": None,
        "recycled": ReasonList.RECYCLE,
        "disqualified": ReasonList.DISQUALIFY,
    }
    assert list(reason_keys(DISPOSITION_OF[MqlState.RECYCLED], cfg)) == ["timing"]
    assert list(reason_keys(DISPOSITION_OF[MqlState.DISQUALIFIED], cfg)) == ["competitor"]
    assert list(reason_keys(DISPOSITION_OF[MqlState.SQL], cfg)) == []


def test_only_recycled_returns_and_only_disqualified_is_locked() -> None:
    assert [s.state for s in DISPOSITIONS if s.returns] == [MqlState.RECYCLED]
    assert [s.state for s in DISPOSITIONS if s.locked] == [MqlState.DISQUALIFIED]
