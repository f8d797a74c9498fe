"""Block Kit as HTML: what the Slack client shows, escaped, and what it cannot draw kept visible."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.standin import Workspace
from bot.standin.html import Surface, blocks, mrkdwn
from bot.standin.page_text import JA


def surface(**kwargs: object) -> Surface:
    return Surface(Workspace.seeded(), ZoneInfo("Asia/Tokyo"), {"channel": "C_SDR"}, **kwargs)  # type: ignore[arg-type]


def test_mrkdwn_resolves_mentions_links_and_formatting_and_escapes_html() -> None:
    out = mrkdwn(
        "*Hot* lead <@U_SATO> see <https://x.example/a?b=1&c=2|CRM> &lt;script&gt; _now_", surface()
    )
    assert "<strong>Hot</strong>" in out
    assert '<span class="mention">@sato</span>' in out
    assert '<a href="https://x.example/a?b=1&amp;c=2"' in out
    assert ">CRM</a>" in out
    assert "&lt;script&gt;" in out
    assert "<script>" not in out
    assert "<em>now</em>" in out


def test_a_date_token_is_shown_in_the_readers_time_zone() -> None:
    assert mrkdwn("<!date^0^{date_num} {time}|fallback>", surface()) == "1970-01-01 09:00"


def test_a_block_the_page_cannot_draw_is_shown_with_its_json_in_the_readers_language() -> None:
    out = blocks(
        [{"type": "video", "title": {"type": "plain_text", "text": "Demo"}}], surface(words=JA)
    )
    assert "このページでは表示できません（video block）" in out
    assert "&quot;video&quot;" in out


def test_a_field_error_is_shown_under_its_input_and_tied_to_it() -> None:
    block = {
        "type": "input",
        "block_id": "date",
        "label": {"type": "plain_text", "text": "Back to Lead on"},
        "element": {"type": "datepicker", "action_id": "d", "initial_date": "2026-01-01"},
    }
    out = blocks([block], surface(errors={"date": "Pick a date after today."}))
    assert '<label for="field-date">Back to Lead on</label>' in out
    assert 'aria-invalid="true" aria-describedby="err-date"' in out
    assert (
        '<div class="field-error" id="err-date" role="alert">Pick a date after today.</div>' in out
    )


def test_buttons_and_menus_carry_what_a_click_must_send() -> None:
    actions = {
        "type": "actions",
        "block_id": "b1",
        "elements": [
            {"type": "button", "action_id": "claim", "value": "7", "style": "primary",
             "text": {"type": "plain_text", "text": "Claim"}},
            {"type": "overflow", "action_id": "menu",
             "options": [{"text": {"type": "plain_text", "text": "Release"}, "value": "r:7"}]},
        ],
    }  # fmt: skip
    out = blocks([actions], surface())
    assert 'class="btn btn-primary" data-channel="C_SDR" data-block="b1" data-action="claim"' in out
    assert 'data-value="7">Claim</button>' in out
    assert '<option value="r:7">Release</option>' in out
