"""Terminal rendering of channels and views, Japanese included."""

from __future__ import annotations

from typing import Any

from bot.standin import Workspace, render_channel, render_view
from bot.standin.emoji import EMOJI
from bot.standin.render import Style, display_width, render_blocks

CARD: list[dict[str, Any]] = [
    {"type": "header", "text": {"type": "plain_text", "text": "新しいMQL"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*佐藤 愛子* (Example KK) <@U_SATO>"}},
    {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*Score* 120"},
            {"type": "mrkdwn", "text": "*Source* <https://example.co.jp|webinar>"},
        ],
    },
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "in <#C_SDR>"}]},
    {"type": "divider"},
    {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "action_id": "claim",
                "text": {"type": "plain_text", "text": "Claim"},
            },
            {"type": "button", "action_id": "sql", "text": {"type": "plain_text", "text": "SQL"}},
        ],
    },
]


def test_channel_with_card_thread_and_edit() -> None:
    state = Workspace.seeded(clock=lambda: 1732492800.0)  # 2024-11-25 00:00 UTC, 09:00 Tokyo
    card = state.post_message("C_SDR", text="New MQL", blocks=CARD)
    state.post_message("C_SDR", text="リマインド: 未対応です", thread_ts=card.ts)
    first = state.post_message("C_SDR", text="v1")
    state.update_message("C_SDR", first.ts, text="v2 <!here>")
    state.post_ephemeral("C_SDR", "U_SATO", text="Only you")

    text = render_channel(state, "C_SDR", tz="Asia/Tokyo", for_user="U_SATO")

    assert text == (
        "#inside-sales\n"
        "════════════════════\n"
        "mqlbot  2024-11-25 09:00\n"
        "  新しいMQL\n"
        "  ━━━━━━━━━\n"
        "  佐藤 愛子 (Example KK) @sato\n"
        "    Score 120    Source webinar\n"
        "  · in #inside-sales\n"
        "  " + "─" * 40 + "\n"
        "  [ Claim ]  [ SQL ]\n"
        "    │ mqlbot  2024-11-25 09:00\n"
        "    │   リマインド: 未対応です\n"
        "\n"
        "mqlbot  2024-11-25 09:00  (edited)\n"
        "  v2 @here\n"
        "\n"
        "(only visible to you)  2024-11-25 09:00\n"
        "  Only you\n"
    )


def test_modal_rendering() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "失注理由"},
        "submit": {"type": "plain_text", "text": "保存"},
        "close": {"type": "plain_text", "text": "キャンセル"},
        "blocks": [
            {
                "type": "input",
                "label": {"type": "plain_text", "text": "理由"},
                "element": {
                    "type": "static_select",
                    "placeholder": {"type": "plain_text", "text": "選択"},
                },
            }
        ],
    }

    assert render_view(view) == (
        "失注理由\n" + "═" * 20 + "\n理由: [ 選択 ▾ ]\n\n[ キャンセル ]  [ 保存 ]\n"
    )


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("MQL新規") == 7


def test_escaped_characters_show_as_themselves() -> None:
    blocks = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Unclaimed &lt; 1 min · R&amp;D &gt; ops"}],
        }
    ]
    assert render_blocks(blocks) == ["· Unclaimed < 1 min · R&D > ops"]


# A card's fields as the bot sends them: the label in bold, the value on the next line.
FIELDS: list[dict[str, Any]] = [
    {
        "type": "section",
        "text": {"type": "mrkdwn", "text": "*Why it qualified*\n• score 110 ≥ 100"},
        "fields": [
            {"type": "mrkdwn", "text": "*Title*\nHead of Demand Generation"},
            {"type": "mrkdwn", "text": "*Company*\nNorthwind Traders"},
            {"type": "mrkdwn", "text": "*役職*\nマーケティング部 部長"},
            {"type": "mrkdwn", "text": "*Score*\n13"},
            {"type": "mrkdwn", "text": "*Campaign*\nQ4 pricing"},
        ],
    },
    {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": ":rotating_light: Unclaimed 20 min, over SLA"}],
    },
]


def test_fields_are_laid_out_in_indented_columns_without_markup() -> None:
    assert render_blocks(FIELDS) == [
        "Why it qualified",
        "• score 110 ≥ 100",
        "  Title                        Company",
        "  Head of Demand Generation    Northwind Traders",
        "  役職                         Score",
        "  マーケティング部 部長        13",
        "  Campaign",
        "  Q4 pricing",
        "· 🚨 Unclaimed 20 min, over SLA",
    ]


def test_bold_and_italic_are_drawn_on_a_terminal() -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SQL* by _sato_, 3*4 = 12"}}]
    assert render_blocks(blocks, style=Style(ansi=True)) == [
        "\x1b[1mSQL\x1b[22m by \x1b[3msato\x1b[23m, 3*4 = 12"
    ]
    assert render_blocks(blocks) == ["SQL by sato, 3*4 = 12"]


def test_every_shortcode_the_bot_writes_is_shown_as_an_emoji() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3] / "handlers"
    used = {
        code
        for path in root.rglob("*.py")
        for code in re.findall(r":([a-z_]+):", path.read_text(encoding="utf-8"))
    }
    assert used, "the bot's messages use shortcodes; the scan found none"
    assert used <= set(EMOJI), used - set(EMOJI)
    text = render_blocks(
        [
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": ":stopwatch: 5 min :repeat: again :unknown_one: 09:00:00",
                    }
                ],
            }
        ]
    )
    assert text == ["· ⏱️ 5 min 🔁 again :unknown_one: 09:00:00"]


def test_slack_labels_follow_the_language() -> None:
    state = Workspace.seeded(clock=lambda: 1732492800.0)
    first = state.post_message("C_SDR", text="v1")
    state.update_message("C_SDR", first.ts, text="v2")
    state.post_ephemeral("C_SDR", "U_SATO", text="すでに担当されています。")
    text = render_channel(state, "C_SDR", for_user="U_SATO", style=Style(language="ja"))
    assert "mqlbot  2024-11-25 00:00  （編集済み）" in text
    assert "（あなただけに表示されています）  2024-11-25 00:00" in text
    assert "edited" not in text
    assert "only visible" not in text
