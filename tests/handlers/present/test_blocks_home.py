"""The App Home for an SDR and for a manager."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from handlers.present.blocks import HOME_ITEMS, home_view
from handlers.present.catalog import Catalog
from handlers.present.views import (
    CardState,
    HomeItem,
    HomeView,
    SdrCount,
    SlaStage,
    SlaView,
    TeamView,
    WeekFigures,
)
from tests.handlers.present.blockkit import view_problems, visible_text

TOKYO = ZoneInfo("Asia/Tokyo")
EN = Catalog("en", TOKYO)
JA = Catalog("ja", TOKYO)
NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
MINE = HomeItem(
    mql_id="42",
    lead_name="Aiko Sato",
    company="Example KK",
    score=105,
    state=CardState.CLAIMED,
    created_at=datetime(2026, 11, 24, 1, 12, tzinfo=UTC),
    owner_id="U1",
    permalink="https://example.slack.com/archives/C1/p42",
    sla=SlaView(SlaStage.UNWORKED, timedelta(hours=3), over_sla=False),
)
UNCLAIMED = HomeItem(
    mql_id="43",
    lead_name="Ken Ito",
    company="Ito & Sons",
    score=120,
    state=CardState.OPEN,
    created_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
    permalink="https://example.slack.com/archives/C1/p43",
    sla=SlaView(SlaStage.UNCLAIMED, timedelta(minutes=22), over_sla=True),
)
WEEK = WeekFigures(claimed=4, sql=1, lead=1, recycled=1, disqualified=0,
                   median_time_to_claim=timedelta(minutes=7))  # fmt: skip


def test_sdr_home_lists_open_mqls_and_the_week() -> None:
    view = home_view(HomeView("U1", False, [MINE], WEEK), EN, NOW)
    assert view["type"] == "home"
    assert visible_text(view["blocks"]) == [
        "Your open MQLs",
        "*<https://example.slack.com/archives/C1/p42|Aiko Sato>* · Example KK · score 105\n"
        "Claimed <@U1> · MQL since Tue 24 Nov 2026, 10:12 · :stopwatch: No disposition for 3 h",
        "Open card",
        "Your week",
        "*Claimed*\n4",
        "*SQL*\n1",
        "*Lead*\n1",
        "*Recycled*\n1",
        "*Disqualified*\n0",
        "*Median time to claim*\n7 min",
    ]
    button = view["blocks"][1]["accessory"]
    assert (button["action_id"], button["value"], button["url"]) == (
        "home_open_card",
        "42",
        "https://example.slack.com/archives/C1/p42",
    )
    assert view_problems(view) == []


def test_manager_home_has_the_team_view_in_japanese() -> None:
    team = TeamView(
        unclaimed_count=3,
        unclaimed=[UNCLAIMED],
        overdue=[],
        per_sdr=[SdrCount("U1", open=2, overdue=1), SdrCount("U2", open=0, overdue=0, away=True)],
    )
    view = home_view(HomeView("UM", True, [], WeekFigures(), team), JA, NOW)
    texts = visible_text(view["blocks"])
    assert texts[:2] == ["担当中の MQL", "担当中の MQL はありません。"]
    assert "*担当までの時間（中央値）*\n—" in texts
    assert texts[texts.index("チーム") :] == [
        "チーム",
        "*未担当: 3 件*",
        "*<https://example.slack.com/archives/C1/p43|Ken Ito>*・Ito &amp; Sons・スコア 120\n"
        "未担当・MQL 作成: 2026年11月24日(火) 11:00 · :rotating_light: 未担当 22分 — SLA 超過",
        "担当する",
        "ほか 2 件",
        "*SLA 超過*",
        "SLA 超過はありません。",
        "*SDR 別*\n<@U1>: 担当中 2 件、超過 1 件\n<@U2>（不在・自動割り当てなし）: 担当中 0 件、超過 0 件",
    ]
    claim = next(
        b for b in view["blocks"] if b.get("accessory", {}).get("action_id") == "mql_claim"
    )
    assert claim["accessory"]["value"] == "43"
    assert view_problems(view) == []


def test_an_sdr_never_sees_the_team_view() -> None:
    view = home_view(HomeView("U1", False, [], WEEK, TeamView(unclaimed_count=5)), EN, NOW)
    assert "Team" not in visible_text(view["blocks"])


def test_huge_lists_stay_under_one_hundred_blocks() -> None:
    items = [MINE] * 500
    team = TeamView(
        unclaimed_count=900,
        unclaimed=[UNCLAIMED] * 500,
        overdue=[MINE] * 500,
        per_sdr=[SdrCount(f"U{i}", 3, 1) for i in range(1000)],
    )
    view = home_view(HomeView("UM", True, items, WEEK, team), EN, NOW)
    assert view_problems(view) == []
    texts = visible_text(view["blocks"])
    assert texts.count(f"+{500 - HOME_ITEMS} more") == 2
    assert f"+{900 - HOME_ITEMS} more" in texts
