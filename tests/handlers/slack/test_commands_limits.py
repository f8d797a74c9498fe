"""`/mql` answers stay within Block Kit limits however long the queue, names and history get."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.present.blocks.command import (
    QUEUE_ITEMS,
    HistoryEntry,
    LeadDetail,
    LeadMqlView,
    QueueItem,
    command_error,
    lead_message,
    queue_message,
)
from handlers.present.catalog import Catalog
from handlers.present.views import ActivityView, CardState, LeadView, SlaStage, SlaView
from tests.handlers.present.blockkit import message_problems, visible_text
from tests.handlers.slack.test_home_data import NOW, TOKYO

LONG = "長" * 5000


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_huge_queue_shows_forty_and_counts_the_rest(language: str) -> None:
    catalog = Catalog(language, TOKYO)  # type: ignore[arg-type]
    items = [
        QueueItem(str(n), LONG, LONG, 100, NOW - timedelta(hours=n), f"https://x/{n}",
                  SlaView(SlaStage.UNWORKED, timedelta(hours=n), over_sla=n > 24))
        for n in range(QUEUE_ITEMS)
    ]  # fmt: skip
    message = queue_message(items, 500, catalog)
    assert len(message["blocks"]) == QUEUE_ITEMS + 2
    assert visible_text(message["blocks"])[-1] == catalog.t("card.more", count=460)
    assert message_problems(message["text"], message["blocks"]) == []


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_lead_with_long_everything_fits(language: str) -> None:
    catalog = Catalog(language, TOKYO)  # type: ignore[arg-type]
    reason = {"kind": "trigger", "trigger": LONG, "event_types": ["x"] * 50}
    detail = LeadDetail(
        lead=LeadView(name=LONG, company=LONG, email=LONG, source=LONG, campaign=LONG),
        score=1e9,
        stage="recycled",
        threshold=100,
        mql=LeadMqlView("9", CardState.CLAIMED, 120, [reason] * 30, NOW, "U1", "https://x/9",
                        SlaView(SlaStage.UNWORKED, timedelta(days=3), over_sla=True)),
        mql_count=12,
        history=[HistoryEntry(NOW, "U1", "disposition", "recycled", LONG)] * 10,
        history_total=400,
        activities=[ActivityView("page_visited", LONG, NOW, 5)] * 5,
        activity_total=9000,
    )  # fmt: skip
    message = lead_message(detail, catalog)
    assert message_problems(message["text"], message["blocks"]) == []


def test_user_text_in_an_error_is_escaped_and_clipped() -> None:
    catalog = Catalog("en", TOKYO)
    message = command_error("command.lead_not_found", catalog, sub="lead", query="<!channel>" * 99)
    assert "<!channel>" not in message["text"]
    assert message_problems(message["text"], message["blocks"]) == []
