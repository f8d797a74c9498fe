"""The demo switched to Japanese the documented way speaks Japanese throughout (names and URLs aside)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.demo.samples import SAMPLE_LEADS, in_language
from bot.standin import Workspace

# What may stay in Latin letters in a Japanese Slack: addresses, ids, and the acronyms Japanese
# sales teams write as they are.
NOT_WORDS = [
    r"[A-Za-z0-9.-]+\.png",  # the chart's file name
    r"https?://\S+",
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+",  # e-mail addresses
    r"@\w+",  # mentions
    r"#[\w-]+",  # channels
    r"POST /\S+",  # the request the demo sends
    r"crm-\d+",  # lead ids
    r"\d{4}-W\d{2}",  # ISO week slots
    r"\d{4}-\d{2}-\d{2}T[\d:]+",  # minute slots
    r"Asia/Tokyo",  # the configured time zone's id
    r"(?<![A-Za-z])(MQL|SQL|SLA|CRM|MA)(?![A-Za-z])",
]


def _names() -> list[str]:
    """People and companies of the sample data and the stand-in's workspace, and the bot."""
    leads = [in_language(sample.lead, "ja") for sample in SAMPLE_LEADS]
    people = [user.real_name for user in Workspace.seeded().users.values()]
    return [*(lead["name"] for lead in leads), *(lead["company"] for lead in leads), *people]


def english_lines(out: str) -> list[str]:
    """The lines of ``out`` that still hold a Latin word once names, ids and URLs are gone."""
    found = []
    for line in out.splitlines():
        rest = line
        for name in sorted(_names(), key=len, reverse=True):
            rest = rest.replace(name, " ")
        for pattern in NOT_WORDS:
            rest = re.sub(pattern, " ", rest)
        rest = re.sub(r"(?<![A-Za-z])(Emily|mqlbot)(?![A-Za-z])", " ", rest)  # a name, the bot
        if re.search(r"[A-Za-z]{2,}", rest):
            found.append(line)
    return found


@pytest.fixture(scope="module")
def japanese_demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    """`MQLBOT_LOCALE__LANGUAGE=ja mqlbot demo --script`, as the README shows it."""
    workdir = tmp_path_factory.mktemp("ja-demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(workdir)
        patch.setenv("MQLBOT_LOCALE__LANGUAGE", "ja")
        result = CliRunner().invoke(app, ["demo", "--script"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_japanese_demo_has_no_english_line(japanese_demo: str) -> None:
    assert english_lines(japanese_demo) == []


def test_the_japanese_demo_tells_the_whole_story(japanese_demo: str) -> None:
    out = japanese_demo
    assert "MQL になったリード 4件：crm-00042、crm-00077、crm-00105、crm-00131" in out
    assert "#inside-sales に MQL カードが4件投稿されました" in out
    assert "すでに @sato が担当しています。" in out
    assert "（あなただけに表示されています）" in out
    assert "リマインド 1件" in out
    assert "@sato @tanaka @emily この MQL は 20分（営業時間）担当者がいません。" in out
    assert re.search(r"MQLダイジェスト：第\d+週 \d+月\d+日\(月\)〜", out)
    assert "ダイジェストのジョブ" in out
    assert "MQL 4件・SQL 1件" in out
    # Sources and campaigns by their Japanese names, not the keys the tools sent.
    assert "• ウェビナー：SQL化 1/1" in out
    assert "• 2026年11月 MAセミナー：SQL化 1/1" in out
    assert "流入元" in out
    assert "コンテンツシンジケーション" in out


def test_the_check_finds_english_where_there_is_some() -> None:
    sample = "  · MQL 作成: 2026年12月3日(木) 16:02  CRM で開く\n  Unclaimed 20 min\n(edited)"
    assert english_lines(sample) == ["  Unclaimed 20 min", "(edited)"]
    assert english_lines("Daniel Kim (Northwind Traders) daniel.kim@northwind.example") == []
