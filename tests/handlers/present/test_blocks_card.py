"""The MQL card: exact text in English and Japanese, buttons per state, escaping, truncation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from handlers.present.actions import ActionId
from handlers.present.blocks import CARD_ACTIVITIES, card_blocks, card_text
from handlers.present.catalog import Catalog
from handlers.present.views import (
    ActivityView,
    CardState,
    CardView,
    LeadView,
    RequalifiedView,
    SlaStage,
    SlaView,
)
from scoring.qualification import Qualification
from tests.handlers.present.blockkit import message_problems, visible_text

TOKYO = ZoneInfo("Asia/Tokyo")
EN = Catalog("en", TOKYO)
JA = Catalog("ja", TOKYO)
CREATED = datetime(2026, 11, 24, 1, 12, tzinfo=UTC)  # 10:12 in Tokyo
NOW = datetime(2026, 11, 24, 1, 40, tzinfo=UTC)

CARD = CardView(
    mql_id="42",
    lead=LeadView(
        name="Aiko Sato",
        title="Marketing Manager",
        company="Example KK",
        email="aiko@example.co.jp",
        source="webinar",
        campaign="2026-11 MA seminar",
    ),
    score=105,
    reasons=[
        {
            "kind": "threshold",
            "score": 105,
            "threshold": 100,
            "event_types": ["content_downloaded"],
            "event_labels": ["MA guide"],
        }
    ],
    activities=[
        ActivityView(
            "content_downloaded", "MA guide", datetime(2026, 11, 24, 1, 10, tzinfo=UTC), 30
        ),
        ActivityView("page_visited", "/pricing", datetime(2026, 11, 23, 8, 0, tzinfo=UTC), 10),
    ],
    created_at=CREATED,
)
CLAIMED = replace(
    CARD, state=CardState.CLAIMED, owner_id="U1", claimed_at=CREATED + timedelta(minutes=3)
)


def buttons(blocks: list[dict[str, Any]]) -> list[tuple[str, str, str, str | None]]:
    """(label, action_id, value, style) of every button in the actions block."""
    actions = [b for b in blocks if b["type"] == "actions"]
    assert len(actions) == 1
    return [
        (e["text"]["text"], e["action_id"], e["value"], e.get("style"))
        for e in actions[0]["elements"]
        if e["type"] == "button"
    ]


def overflow_values(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    actions = next(b for b in blocks if b["type"] == "actions")
    menus = [e for e in actions["elements"] if e["type"] == "overflow"]
    if not menus:
        return []
    assert menus[0]["action_id"] == ActionId.MANAGER_MENU
    return [(o["text"]["text"], o["value"]) for o in menus[0]["options"]]


def test_open_card_in_english_exactly() -> None:
    blocks = card_blocks(CARD, EN, now=NOW)
    assert visible_text(blocks) == [
        "Aiko Sato",
        "*Title*\nMarketing Manager",
        "*Company*\nExample KK",
        "*E-mail*\naiko@example.co.jp",
        "*Source*\nWebinar",
        "*Campaign*\n2026-11 MA seminar",
        "*Score*\n105",
        "*Why it qualified*\n• score 105 ≥ 100 after Content downloaded (MA guide)",
        "*Recent activity*\n"
        "• Tue 24 Nov 2026, 10:10 · Content downloaded (MA guide) · +30 pts\n"
        "• Mon 23 Nov 2026, 17:00 · Page visited (/pricing) · +10 pts",
        "MQL since Tue 24 Nov 2026, 10:12",
        "Claim",
    ]
    assert buttons(blocks) == [("Claim", "mql_claim", "42", "primary")]
    assert overflow_values(blocks) == []
    assert card_text(CARD, EN) == "MQL: Aiko Sato (Example KK) · score 105 · Unclaimed"
    assert message_problems(card_text(CARD, EN), blocks) == []


def test_open_card_in_japanese_exactly() -> None:
    blocks = card_blocks(CARD, JA, now=NOW)
    assert visible_text(blocks) == [
        "Aiko Sato",
        "*役職*\nMarketing Manager",
        "*会社*\nExample KK",
        "*メール*\naiko@example.co.jp",
        "*流入元*\nウェビナー",
        "*キャンペーン*\n2026-11 MA seminar",
        "*スコア*\n105",
        "*MQL になった理由*\n• 資料ダウンロード（MA guide） でスコア 105 ≥ 100",
        "*最近の行動*\n"
        "• 2026年11月24日(火) 10:10 · 資料ダウンロード（MA guide） · +30点\n"
        "• 2026年11月23日(月) 17:00 · ページ閲覧（/pricing） · +10点",
        "MQL 作成: 2026年11月24日(火) 10:12",
        "担当する",
    ]
    assert card_text(CARD, JA) == "MQL: Aiko Sato（Example KK）スコア 105・未担当"


def test_claimed_card_shows_owner_and_the_four_dispositions() -> None:
    blocks = card_blocks(CLAIMED, EN, now=NOW)
    assert "Claimed by <@U1> · 3 min after MQL" in visible_text(blocks)
    assert buttons(blocks) == [
        ("SQL", "mql_disposition_sql", "42", None),
        ("Lead", "mql_disposition_lead", "42", None),
        ("Recycled", "mql_disposition_recycled", "42", None),
        ("Disqualified", "mql_disposition_disqualified", "42", None),
        ("Not a real MQL", "mql_flag_bad", "42", None),
    ]
    assert overflow_values(blocks) == [
        ("Release claim", "release:42"),
        ("Reassign…", "reassign:42"),
    ]
    assert card_text(CLAIMED, EN) == "MQL: Aiko Sato (Example KK) · score 105 · Claimed · <@U1>"


def test_claimed_card_in_japanese() -> None:
    blocks = card_blocks(CLAIMED, JA, now=NOW)
    assert "担当: <@U1>（MQL から 3分）" in visible_text(blocks)
    assert [b[0] for b in buttons(blocks)] == ["SQL", "リード", "リサイクル", "失格", "MQLではない"]
    assert overflow_values(blocks) == [
        ("担当を解除", "release:42"),
        ("担当者を変更…", "reassign:42"),
    ]


DONE_AT = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "primary", "status"),
    [
        (
            {"state": CardState.SQL, "note": "Budget approved\nmeeting on Friday"},
            "SQL",
            "Claimed by <@U1> · 3 min after MQL\n*SQL* by <@U1> · Tue 24 Nov 2026, 11:00\n"
            "> Budget approved\n> meeting on Friday",
        ),
        (
            {
                "state": CardState.LEAD,
                "next_step": "Send case study",
                "next_step_date": date(2026, 12, 1),
            },
            "Lead",
            "Claimed by <@U1> · 3 min after MQL\n*Lead* by <@U1> · Tue 24 Nov 2026, 11:00\n"
            "Next step: Send case study · 2026-12-01",
        ),
        (
            {
                "state": CardState.LEAD,
                "next_step": "Call back",
                "next_step_date": date(2026, 11, 20),
            },
            "Lead",
            "Claimed by <@U1> · 3 min after MQL\n*Lead* by <@U1> · Tue 24 Nov 2026, 11:00\n"
            "Next step: Call back · 2026-11-20 — overdue",
        ),
        (
            {"state": CardState.RECYCLED, "reason": "timing", "recycle_until": date(2027, 2, 22)},
            "Recycled",
            "Claimed by <@U1> · 3 min after MQL\n*Recycled* by <@U1> · Tue 24 Nov 2026, 11:00\n"
            "Reason: Timing · back on 2027-02-22",
        ),
        (
            {"state": CardState.DISQUALIFIED, "reason": "student", "disposition_by": "UMGR"},
            "Disqualified",
            "Claimed by <@U1> · 3 min after MQL\n*Disqualified* by <@UMGR> · Tue 24 Nov 2026, 11:00\n"
            "Reason: Student",
        ),
    ],
)
def test_dispositioned_card_shows_the_outcome_and_marks_the_current_button(
    changes: dict[str, Any], primary: str, status: str
) -> None:
    view = replace(CLAIMED, disposition_at=DONE_AT, **changes)
    blocks = card_blocks(view, EN, now=NOW)
    assert visible_text([blocks[-2]]) == [status]
    assert [b[0] for b in buttons(blocks) if b[3] == "primary"] == [primary]
    assert message_problems(card_text(view, EN), blocks) == []


def test_disqualified_card_offers_managers_reopen() -> None:
    view = replace(CLAIMED, state=CardState.DISQUALIFIED, reason="spam")
    assert overflow_values(card_blocks(view, EN, now=NOW)) == [
        ("Release claim", "release:42"),
        ("Reassign…", "reassign:42"),
        ("Reopen", "reopen:42"),
    ]


def test_recycled_card_in_japanese() -> None:
    view = replace(
        CLAIMED,
        state=CardState.RECYCLED,
        reason="timing",
        recycle_until=date(2027, 2, 22),
        disposition_at=DONE_AT,
    )
    blocks = card_blocks(view, JA, now=NOW)
    assert visible_text([blocks[-2]]) == [
        "担当: <@U1>（MQL から 3分）\n*リサイクル*（<@U1>） · 2026年11月24日(火) 11:00\n"
        "理由: 検討時期が先・2027年2月22日(月) にリードへ戻ります"
    ]


def test_requalified_card_links_to_the_earlier_card() -> None:
    earlier = RequalifiedView(
        previous_disposition=CardState.RECYCLED,
        previous_reason="timing",
        previous_at=datetime(2026, 5, 1, 3, 0, tzinfo=UTC),
        previous_permalink="https://example.slack.com/archives/C1/p1",
    )
    view = replace(CARD, requalified=earlier)
    assert visible_text([card_blocks(view, EN, now=NOW)[1]]) == [
        ":repeat: Qualified again — recycled on 2026-05-01 (Timing) · "
        "<https://example.slack.com/archives/C1/p1|earlier card>"
    ]
    assert visible_text([card_blocks(view, JA, now=NOW)[1]]) == [
        ":repeat: 再び MQL になりました — 2026年5月1日(金) にリサイクル（検討時期が先） · "
        "<https://example.slack.com/archives/C1/p1|以前のカード>"
    ]


def test_crm_link_and_sla_state_in_the_context_line() -> None:
    view = replace(
        CARD,
        lead=replace(CARD.lead, crm_url="https://crm.example/leads/crm-00042"),
        sla=SlaView(SlaStage.UNCLAIMED, timedelta(minutes=22), over_sla=True),
    )
    context = next(b for b in card_blocks(view, EN, now=NOW) if b["type"] == "context")
    assert [e["text"] for e in context["elements"]] == [
        "MQL since Tue 24 Nov 2026, 10:12",
        "<https://crm.example/leads/crm-00042|Open in CRM>",
        ":rotating_light: Unclaimed 22 min — over SLA",
    ]
    ja = replace(view, sla=SlaView(SlaStage.UNWORKED, timedelta(hours=2, minutes=5), False))
    context = next(b for b in card_blocks(ja, JA, now=NOW) if b["type"] == "context")
    assert context["elements"][-1]["text"] == ":stopwatch: 未分類 2時間5分"


def test_mrkdwn_control_characters_in_lead_data_are_escaped() -> None:
    view = replace(
        CARD,
        lead=replace(CARD.lead, name="<!channel> Bob & Co", company="A<B>C & <@U999>"),
    )
    blocks = card_blocks(view, EN, now=NOW)
    assert blocks[0]["text"]["text"] == "<!channel> Bob & Co"  # plain_text: shown literally
    assert "*Company*\nA&lt;B&gt;C &amp; &lt;@U999&gt;" in visible_text(blocks)
    assert card_text(view, EN) == (
        "MQL: &lt;!channel&gt; Bob &amp; Co (A&lt;B&gt;C &amp; &lt;@U999&gt;) · score 105 · Unclaimed"
    )


def test_empty_fields_show_a_dash_and_a_missing_name_falls_back_to_the_email() -> None:
    view = replace(CARD, lead=LeadView(name="", email="x@example.com"), reasons=[], activities=[])
    texts = visible_text(card_blocks(view, EN, now=NOW))
    assert texts[:3] == ["x@example.com", "*Title*\n—", "*Company*\n—"]
    assert "*Why it qualified*\n—" in texts
    assert "*Recent activity*\nNo activity recorded" in texts
    nobody = replace(view, lead=LeadView(name=""))
    assert card_blocks(nobody, JA, now=NOW)[0]["text"]["text"] == "氏名不明"


def test_two_hundred_activities_show_the_latest_five_and_a_count() -> None:
    many = [
        ActivityView("email_opened", f"Newsletter {i}", CREATED - timedelta(hours=i), 1)
        for i in range(200)
    ]
    view = replace(CARD, activities=many)
    blocks = card_blocks(view, EN, now=NOW)
    activity = next(t for t in visible_text(blocks) if t.startswith("*Recent activity*"))
    lines = activity.split("\n")
    assert len(lines) == 1 + CARD_ACTIVITIES + 1
    assert lines[1] == "• Tue 24 Nov 2026, 10:12 · Email opened (Newsletter 0) · +1 pts"
    assert lines[-1] == "+195 more"
    assert card_blocks(view, JA, now=NOW)[3]["text"]["text"].endswith("\nほか 195 件")


def test_long_values_are_cut_with_an_ellipsis() -> None:
    view = replace(
        CARD,
        lead=replace(CARD.lead, name="N" * 500, company="会" * 500, title="&" * 500),
        reasons=[{"kind": "trigger", "trigger": "t" * 5000}] * 30,
    )
    blocks = card_blocks(view, EN, now=NOW)
    assert blocks[0]["text"]["text"] == "N" * 149 + "…"
    assert "*Company*\n" + "会" * 199 + "…" in visible_text(blocks)
    assert "*Title*\n" + "&amp;" * 199 + "…" in visible_text(blocks)
    why = next(t for t in visible_text(blocks) if t.startswith("*Why it qualified*"))
    assert len(why) <= 3000
    assert why.endswith(" more")
    assert message_problems(card_text(view, EN), blocks) == []


def test_a_forged_or_oversized_id_is_refused() -> None:
    with pytest.raises(ValueError, match="button value"):
        card_blocks(replace(CARD, mql_id="1:release"), EN, now=NOW)
    with pytest.raises(ValueError, match="button value"):
        card_text(replace(CARD, mql_id="9" * 101), EN)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        card_blocks(CARD, EN, now=datetime(2026, 11, 24))


def test_reasons_as_the_scoring_engine_stores_them() -> None:
    stored = Qualification(
        kind="threshold",
        score=105.0,
        threshold=100.0,
        trigger=None,
        event_keys=("evt-1",),
        event_types=("content_downloaded",),
        event_labels=("MA guide",),
    ).to_json()
    view = replace(CARD, score=105.0, reasons=[stored])
    texts = visible_text(card_blocks(view, EN, now=NOW))
    assert "*Score*\n105" in texts
    assert "*Why it qualified*\n• score 105 ≥ 100 after Content downloaded (MA guide)" in texts


def test_a_flagged_card_says_so_and_drops_the_flag_button() -> None:
    flagged = replace(CLAIMED, bad_reason="no_fit", bad_by="U1")
    blocks = card_blocks(flagged, EN, now=NOW)
    assert ":no_entry_sign: Flagged not a real MQL: No fit (wrong company or role) (<@U1>)" in (
        visible_text(blocks)
    )
    assert "mql_flag_bad" not in [b[1] for b in buttons(blocks)]


def test_the_card_shows_the_furthest_stage() -> None:
    from handlers.present.views import OutcomeView

    won = replace(CLAIMED, outcome=OutcomeView("won", "Closed Won", "¥3,200,000", None, 2))
    assert ":trophy: Won · ¥3,200,000 · 2 opportunities" in visible_text(
        card_blocks(won, EN, now=NOW)
    )
    lost = replace(CLAIMED, outcome=OutcomeView("lost", None, None, "budget"))
    assert ":heavy_multiplication_x: 失注 · budget" in visible_text(card_blocks(lost, JA, now=NOW))
