"""The dispositions table: complete, consistent with the stored states, the catalogs and the listeners."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from handlers.dispositions import (
    DISPOSITION_OF,
    DISPOSITIONS,
    QUALIFYING_STAGES,
    ReasonList,
    reason_keys,
)
from handlers.present.catalog import MESSAGES, Catalog
from handlers.slack import dispositions as listener
from handlers.slack.disposition_forms import FORMS, Disposition, FormContext
from store import models
from store.engine import SessionFactory
from store.models import LeadStage, MqlState
from tests.handlers.slack.changes_builders import (
    config,
    deps,
    disqualify_values,
    lead_values,
    recycle_values,
    sql_values,
)


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


def test_each_modal_of_the_table_has_a_form_that_builds_it_and_reads_its_disposition() -> None:
    assert set(FORMS) == {spec.modal for spec in DISPOSITIONS}
    cfg = config(recycle_reasons={"timing": timedelta(days=90)}, disqualify_reasons=("competitor",))
    ctx = FormContext(cfg, date(2026, 11, 24), Catalog(cfg.language, cfg.timezone))
    filled = {
        MqlState.SQL: sql_values("budget approved"),
        MqlState.LEAD: lead_values("call back", date(2026, 11, 25)),
        MqlState.RECYCLED: recycle_values("timing", date(2027, 2, 22)),
        MqlState.DISQUALIFIED: disqualify_values("competitor"),
    }
    for spec in DISPOSITIONS:
        form = FORMS[spec.modal]
        modal = form.build(spec, "42", ctx)
        assert (modal["callback_id"], modal["private_metadata"]) == (spec.modal.value, "42")
        read = form.read(spec, filled[spec.state], ctx)
        assert isinstance(read, Disposition), read
        assert read.state is spec.state


def test_a_callback_id_of_no_disposition_is_refused_by_name(sessions: SessionFactory) -> None:
    catalog = Catalog("en", config().timezone)
    with pytest.raises(ValueError, match="'mql_reassign_modal' is not a disposition modal"):
        listener.read_submission("mql_reassign_modal", {}, deps(sessions), catalog)


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
