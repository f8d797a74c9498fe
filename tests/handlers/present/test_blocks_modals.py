"""The disposition and reassign modals, and reading their submissions back."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.present.actions import ActionId, BlockId
from handlers.present.blocks import (
    disqualify_modal,
    lead_modal,
    parse_disqualify,
    parse_lead,
    parse_reassign,
    parse_recycle,
    parse_sql,
    reassign_modal,
    recycle_date_block_id,
    recycle_modal,
    sql_modal,
)
from handlers.present.blocks.modals import DisqualifyInput, LeadInput, RecycleInput, SqlInput
from handlers.present.catalog import Catalog
from tests.handlers.present.blockkit import view_problems

TOKYO = ZoneInfo("Asia/Tokyo")
EN = Catalog("en", TOKYO)
JA = Catalog("ja", TOKYO)
TODAY = date(2026, 11, 24)
REASONS = {"competitor_contract": timedelta(days=180), "timing": timedelta(days=90)}


def inputs(view: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """(block_id, label, element type, action_id, optional) of each input block."""
    return [
        (b["block_id"], b["label"]["text"], b["element"]["type"], b["element"]["action_id"],
         b["optional"])
        for b in view["blocks"]
        if b["type"] == "input"
    ]  # fmt: skip


def test_recycle_modal_defaults_to_the_reason_period() -> None:
    view = recycle_modal("42", REASONS, "timing", TODAY, EN, lead_name="Aiko Sato")
    assert view["callback_id"] == "mql_recycle_modal"
    assert view["private_metadata"] == "42"
    assert (view["title"]["text"], view["submit"]["text"], view["close"]["text"]) == (
        "Recycle",
        "Save",
        "Cancel",
    )
    assert view["blocks"][0]["elements"][0]["text"] == "MQL: Aiko Sato"
    assert inputs(view) == [
        ("mql_recycle_reason_block", "Reason", "static_select", "mql_recycle_reason", False),
        (
            "mql_recycle_date_block:timing",
            "Back to Lead on",
            "datepicker",
            "mql_recycle_date",
            False,
        ),
    ]
    reason_block, date_block = view["blocks"][1], view["blocks"][2]
    assert reason_block["dispatch_action"] is True
    select = reason_block["element"]
    assert [(o["text"]["text"], o["value"]) for o in select["options"]] == [
        ("Under contract with a competitor", "competitor_contract"),
        ("Timing", "timing"),
    ]
    assert select["initial_option"]["value"] == "timing"
    assert date_block["element"]["initial_date"] == "2027-02-22"
    assert (
        date_block["hint"]["text"] == "Timing: 90 days by default; change the reason to reset it."
    )
    assert view_problems(view) == []


def test_recycle_modal_after_the_reason_changes_resets_the_date() -> None:
    view = recycle_modal("42", REASONS, "competitor_contract", TODAY, JA)
    assert view["title"]["text"] == "リサイクル"
    date_block = view["blocks"][1]
    # A new block id makes Slack drop the old picked date on views.update.
    assert date_block["block_id"] == recycle_date_block_id("competitor_contract")
    assert date_block["element"]["initial_date"] == "2027-05-23"
    assert view["blocks"][0]["element"]["initial_option"]["text"]["text"] == "競合と契約中"


def test_recycle_modal_without_a_default_selects_the_first_reason() -> None:
    view = recycle_modal("42", REASONS, None, TODAY, EN)
    assert view["blocks"][0]["element"]["initial_option"]["value"] == "competitor_contract"


def test_recycle_modal_refuses_bad_configuration() -> None:
    with pytest.raises(ValueError, match="'later'"):
        recycle_modal("42", REASONS, "later", TODAY, EN)
    with pytest.raises(ValueError, match="no recycle reasons"):
        recycle_modal("42", {}, None, TODAY, EN)


def test_disqualify_modal() -> None:
    view = disqualify_modal("42", ["competitor", "student", "no_fit"], JA)
    assert (view["callback_id"], view["private_metadata"], view["title"]["text"]) == (
        "mql_disqualify_modal",
        "42",
        "失格",
    )
    assert inputs(view) == [
        ("mql_disqualify_reason_block", "理由", "static_select", "mql_disqualify_reason", False),
        ("mql_disqualify_note_block", "メモ", "plain_text_input", "mql_disqualify_note", True),
    ]
    options = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in options] == ["競合企業", "学生", "No fit"]
    assert view_problems(view) == []


def test_sql_lead_and_reassign_modals() -> None:
    sql = sql_modal("42", EN)
    assert (sql["callback_id"], sql["title"]["text"]) == ("mql_sql_modal", "SQL")
    assert inputs(sql) == [("mql_sql_note_block", "Note", "plain_text_input", "mql_sql_note", True)]
    lead = lead_modal("42", EN, today=TODAY)
    assert inputs(lead) == [
        ("mql_lead_next_step_block", "Next step", "plain_text_input", "mql_lead_next_step", False),
        ("mql_lead_date_block", "Date", "datepicker", "mql_lead_date", False),
    ]
    assert lead["blocks"][1]["element"]["initial_date"] == "2026-11-24"
    reassign = reassign_modal("42", JA, current_owner="U1")
    assert (reassign["callback_id"], reassign["title"]["text"]) == (
        "mql_reassign_modal",
        "担当者の変更",
    )
    assert reassign["blocks"][0]["element"] == {
        "type": "users_select",
        "action_id": "mql_reassign_user",
        "initial_user": "U1",
    }
    for view in (sql, lead, reassign):
        assert view["private_metadata"] == "42"
        assert view_problems(view) == []


def test_very_long_lead_name_and_many_reasons_stay_within_limits() -> None:
    reasons = {f"reason_{i}_" + "x" * 100: timedelta(days=i) for i in range(100)}
    view = recycle_modal("42", reasons, None, TODAY, EN, lead_name="名" * 5000)
    assert view_problems(view) == []
    with pytest.raises(ValueError, match="at most 100"):
        disqualify_modal("42", [f"r{i}" for i in range(101)], EN)


def selected(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value, "text": {}}}


def test_parse_submissions() -> None:
    assert parse_sql({"mql_sql_note_block": {"mql_sql_note": {"value": "  "}}}) == SqlInput(None)
    assert parse_lead(
        {
            BlockId.LEAD_NEXT_STEP: {ActionId.LEAD_NEXT_STEP: {"value": " Call back "}},
            BlockId.LEAD_DATE: {ActionId.LEAD_DATE: {"selected_date": "2026-12-01"}},
        }
    ) == LeadInput("Call back", date(2026, 12, 1))
    assert parse_recycle(
        {
            "mql_recycle_reason_block": {"mql_recycle_reason": selected("timing")},
            "mql_recycle_date_block:timing": {"mql_recycle_date": {"selected_date": "2027-02-22"}},
        }
    ) == RecycleInput("timing", date(2027, 2, 22))
    assert parse_disqualify(
        {
            "mql_disqualify_reason_block": {"mql_disqualify_reason": selected("spam")},
            "mql_disqualify_note_block": {"mql_disqualify_note": {"value": "bot signup"}},
        }
    ) == DisqualifyInput("spam", "bot signup")
    values = {"mql_reassign_user_block": {"mql_reassign_user": {"selected_user": "U2"}}}
    assert parse_reassign(values).user_id == "U2"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "no mql_lead_next_step_block/mql_lead_next_step"),
        (
            {
                "mql_lead_next_step_block": {"mql_lead_next_step": {"value": ""}},
                "mql_lead_date_block": {"mql_lead_date": {"selected_date": None}},
            },
            "next step is empty",
        ),
        (
            {
                "mql_lead_next_step_block": {"mql_lead_next_step": {"value": "x"}},
                "mql_lead_date_block": {"mql_lead_date": {"selected_date": "24/11/2026"}},
            },
            "not YYYY-MM-DD",
        ),
    ],
)
def test_parse_lead_names_what_is_wrong(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_lead(values)


def test_parse_recycle_without_a_selection_is_refused() -> None:
    values = {"mql_recycle_reason_block": {"mql_recycle_reason": {"selected_option": None}}}
    with pytest.raises(ValueError, match="no option selected"):
        parse_recycle(values)
