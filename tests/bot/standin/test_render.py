"""Terminal rendering of channels and views, Japanese included."""

from __future__ import annotations

from typing import Any

from bot.standin import Workspace, render_channel, render_view
from bot.standin.render import display_width

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
        "  *佐藤 愛子* (Example KK) @sato\n"
        "    *Score* 120\n"
        "    *Source* webinar\n"
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
    from bot.standin.render import render_blocks

    blocks = [
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "Unclaimed &lt; 1 min · R&amp;D &gt; ops"}],
        }
    ]
    assert render_blocks(blocks) == ["· Unclaimed < 1 min · R&D > ops"]
