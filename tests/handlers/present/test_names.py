"""Display names of sources, campaigns and triggers: configured, built in, or the key as sent."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.runtime import handler_config
from bot.settings import ConfigError, load_settings
from handlers.present.blocks import card_blocks
from handlers.present.catalog import Catalog
from handlers.present.digest_blocks import group_name
from handlers.present.names import DisplayNames
from scoring.digest import Conversion
from tests.handlers.present.blockkit import visible_text
from tests.handlers.present.test_blocks_card import CARD, NOW

TOKYO = ZoneInfo("Asia/Tokyo")
TEAM = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
[names.sources]
webinar = { en = "Webinars", ja = "自社ウェビナー" }
trade_fair = "展示会ブース"
[names.campaigns]
"2026-11 MA seminar" = { en = "MA seminar, November", ja = "11月MAセミナー" }
[names.triggers]
demo_then_pricing = { ja = "デモ視聴→料金確認" }
"""


def _names(tmp_path: Path, toml: str = TEAM) -> DisplayNames:
    path = tmp_path / "team.toml"
    path.write_text(toml, encoding="utf-8")
    return handler_config(load_settings(path)).names


def test_configured_names_win_in_each_language(tmp_path: Path) -> None:
    names = _names(tmp_path)
    en, ja = Catalog("en", TOKYO, names=names), Catalog("ja", TOKYO, names=names)
    assert (en.source_label("webinar"), ja.source_label("webinar")) == (
        "Webinars",
        "自社ウェビナー",
    )
    # One name for every language; keys are matched whatever their case and separators.
    assert en.source_label("Trade-Fair") == ja.source_label("TRADE_FAIR") == "展示会ブース"
    assert ja.campaign_label("2026-11 MA seminar") == "11月MAセミナー"
    # A trigger named only in Japanese keeps the shipped English name.
    assert ja.trigger_label("demo_then_pricing") == "デモ視聴→料金確認"
    assert en.trigger_label("demo_then_pricing") == "Demo video, then pricing page"


def test_common_sources_have_names_and_anything_else_shows_as_sent() -> None:
    en, ja = Catalog("en", TOKYO), Catalog("ja", TOKYO)
    assert en.source_label("content_syndication") == "Content syndication"
    assert ja.source_label("content_syndication") == "コンテンツシンジケーション"
    assert ja.source_label("ORGANIC_SEARCH") == "自然検索"  # HubSpot's original source
    assert ja.source_label("paid_search") == "リスティング広告"
    assert en.source_label("Partner portal") == "Partner portal"
    assert ja.campaign_label("Q4 pricing") == "Q4 pricing"
    assert ja.trigger_label("my_rule") == "my_rule"


def test_the_card_and_the_digest_show_the_names(tmp_path: Path) -> None:
    ja = Catalog("ja", TOKYO, names=_names(tmp_path))
    text = visible_text(card_blocks(CARD, ja, now=NOW))
    assert "*流入元*\n自社ウェビナー" in text
    assert "*キャンペーン*\n11月MAセミナー" in text
    row = Conversion("2026-11 MA seminar", 5, 2)
    assert group_name(row, ja, "campaigns") == "11月MAセミナー"
    assert group_name(replace(row, key="webinar"), ja) == "自社ウェビナー"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('[names.sources]\nwebinar = { fr = "Webinaire" }\n', "names.sources.webinar"),
        ('[names.sources]\nwebinar = ""\n', "names.sources.webinar"),
        ('[names.places]\nhq = "HQ"\n', "names.places: unknown key"),
    ],
)
def test_bad_names_are_refused_naming_the_key(tmp_path: Path, table: str, message: str) -> None:
    path = tmp_path / "team.toml"
    path.write_text('[slack]\nsdr_channel = "C1"\nmarketing_channel = "C2"\n' + table, "utf-8")
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load_settings(path)
