"""Thread replies, reminders, DMs and ephemeral answers in English and Japanese."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.present.blocks import (
    already_claimed,
    auto_assign_notice,
    claim_reply,
    disposition_reply,
    format_mentions,
    mql_not_found,
    not_a_manager,
    not_allowed_to_claim,
    not_allowed_to_disposition,
    owner_reminder_dm,
    reassign_reply,
    recycle_return_reply,
    release_reply,
    reopen_reply,
    unclaimed_escalation,
    unclaimed_reminder,
    unworked_escalation,
)
from handlers.present.catalog import Catalog

TOKYO = ZoneInfo("Asia/Tokyo")
EN = Catalog("en", TOKYO)
JA = Catalog("ja", TOKYO)


@pytest.mark.parametrize(
    ("kwargs", "en", "ja"),
    [
        (
            {"disposition": "recycled", "reason": "timing", "recycle_until": date(2026, 5, 24)},
            "<@U1> → Recycled (Timing), back on 2026-05-24",
            "<@U1> → リサイクル（検討時期が先）、2026年5月24日(日) にリードへ戻ります",
        ),
        (
            {"disposition": "disqualified", "reason": "competitor", "note": "Works at <Rival>"},
            "<@U1> → Disqualified (Competitor)\n> Works at &lt;Rival&gt;",
            "<@U1> → 失格（競合企業）\n> Works at &lt;Rival&gt;",
        ),
        ({"disposition": "sql"}, "<@U1> → SQL", "<@U1> → SQL"),
        (
            {"disposition": "lead", "next_step": "Call back", "next_step_date": date(2026, 12, 1)},
            "<@U1> → Lead, next step: Call back (2026-12-01)",
            "<@U1> → リード、次のアクション: Call back（2026年12月1日(火)）",
        ),
        (
            {"disposition": "recycled", "reason": "no_budget_now"},
            "<@U1> → Recycled (No budget now)",
            "<@U1> → リサイクル（No budget now）",
        ),
    ],
)
def test_disposition_reply(kwargs: dict[str, object], en: str, ja: str) -> None:
    disposition = str(kwargs.pop("disposition"))
    assert disposition_reply("U1", disposition, EN, **kwargs) == en  # type: ignore[arg-type]
    assert disposition_reply("U1", disposition, JA, **kwargs) == ja  # type: ignore[arg-type]


def test_claim_release_reassign_reopen_replies() -> None:
    assert claim_reply("U1", timedelta(minutes=3), EN) == "<@U1> claimed this MQL · 3 min after MQL"
    assert claim_reply("U1", timedelta(minutes=3), JA) == "<@U1> が担当しました（MQL から 3分）"
    assert release_reply("UM", "U1", EN) == (
        "<@UM> released the claim of <@U1>: this MQL is open again."
    )
    assert reassign_reply("UM", "U1", "U2", EN) == (
        "<@UM> reassigned this MQL from <@U1> to <@U2>."
    )
    assert reassign_reply("UM", None, "U2", JA) == "<@UM> がこの MQL を <@U2> に割り当てました。"
    assert reopen_reply("UM", EN) == "<@UM> reopened this MQL."


def test_reminders_and_escalations() -> None:
    sdrs = format_mentions(user_ids=["U1", "U2"])
    assert unclaimed_reminder(sdrs, timedelta(minutes=15), EN) == (
        "<@U1> <@U2> This MQL has been unclaimed for 15 min (business time). Who takes it?"
    )
    group = format_mentions(usergroup_ids=["S0SDR"])
    assert unclaimed_reminder(group, timedelta(minutes=15), JA) == (
        "<!subteam^S0SDR> この MQL は 15分（営業時間）担当者がいません。どなたか担当してください。"
    )
    assert format_mentions(channel=True) == "<!channel>"
    assert unclaimed_escalation(["UM"], timedelta(hours=2), EN) == (
        "<@UM> Escalation: this MQL is still unclaimed after 2 h (business time)."
    )
    assert unworked_escalation(["UM", "UN"], "U1", timedelta(days=2), EN) == (
        "<@UM> <@UN> Escalation: <@U1> claimed this MQL 2 d ago (business time) and it has no "
        "disposition yet."
    )
    assert owner_reminder_dm(
        "Aiko <Sato>", "https://example.slack.com/archives/C1/p1", timedelta(days=1, hours=4), EN
    ) == (
        "Reminder: you claimed <https://example.slack.com/archives/C1/p1|Aiko &lt;Sato&gt;> "
        "1 d 4 h ago (business time) and it has no disposition yet."
    )
    assert owner_reminder_dm("Aiko Sato", None, timedelta(hours=24), JA) == (
        "リマインダー: 担当中の Aiko Sato が 1日（営業時間）経っても未分類です。"
    )
    assert auto_assign_notice("U3", EN) == (
        "Nobody claimed this MQL in time: assigned to <@U3> (round robin)."
    )
    assert recycle_return_reply("timing", EN) == (
        "Back from recycle (Timing): this is a Lead again and must qualify again through "
        "fresh activity."
    )


def test_ephemeral_answers() -> None:
    assert already_claimed("U1", EN) == "Already claimed by <@U1>."
    assert already_claimed("U1", JA) == "すでに <@U1> が担当しています。"
    assert not_allowed_to_claim(EN) == "Only the inside-sales team can claim MQLs."
    assert not_allowed_to_disposition("U1", EN) == (
        "Only the owner (<@U1>) or a manager can change this MQL."
    )
    assert not_allowed_to_disposition(None, JA) == "先にこの MQL を担当してください。"
    assert not_a_manager(JA) == "この操作はマネージャーだけが行えます。"
    assert mql_not_found(EN) == "This MQL no longer exists."


def test_a_mention_cannot_smuggle_mrkdwn() -> None:
    with pytest.raises(ValueError, match="not a Slack user"):
        already_claimed("U1> <!channel", EN)
    with pytest.raises(ValueError, match="not a Slack user"):
        format_mentions(usergroup_ids=[""])


def test_long_notes_are_cut() -> None:
    text = disposition_reply("U1", "sql", EN, note="n" * 10_000)
    assert text == "<@U1> → SQL\n> " + "n" * 1000
