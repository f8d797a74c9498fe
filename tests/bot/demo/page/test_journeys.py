"""The demo page in headless Chromium: what a marketer or an SDR does with it, end to end."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bot.demo.run import SDR_CHANNEL
from tests.bot.demo.page.browser import RunningDemo

WAIT_MS = 15_000


@pytest.fixture
def fresh(demo: RunningDemo) -> RunningDemo:
    demo.restart("en")
    return demo


def open_as(browser: Any, demo: RunningDemo, user: str, channel: str = SDR_CHANNEL) -> Page:
    context = browser.new_context(locale="en-US")
    page: Page = context.new_page()
    page.goto(f"{demo.url}?as={user}&c={channel}")
    return page


def card(page: Page, name: str) -> Any:
    return page.locator("article.msg", has=page.locator("h3.b-header", has_text=name))


def test_a_lead_becomes_an_mql_and_its_card_appears(browser: Any, fresh: RunningDemo) -> None:
    page = open_as(browser, fresh, "U_SATO")
    expect(card(page, "佐藤 愛子")).to_be_visible(timeout=WAIT_MS)
    expect(card(page, "Lisa Chen")).to_have_count(0)
    # Lisa watches the demo video, then opens the pricing page: the trigger makes her an MQL.
    form = page.locator("form[data-control=event]")
    form.get_by_label("Lead").select_option(label="Lisa Chen")
    form.get_by_label("Event").select_option("video_watched")
    form.get_by_role("button", name="Send").click()
    expect(page.locator("#result")).to_contain_text('"accepted":1', timeout=WAIT_MS)
    form.get_by_label("Event").select_option("page_visited")
    form.get_by_role("button", name="Send").click()
    expect(page.locator("#result")).to_contain_text("crm-00200", timeout=WAIT_MS)
    lisa = card(page, "Lisa Chen")
    expect(lisa).to_be_visible(timeout=WAIT_MS)  # no reload: the page follows the stream
    expect(lisa.get_by_role("button", name="Claim")).to_be_visible()
    expect(lisa).to_contain_text("Fabrikam")
    page.context.close()


def test_two_sdrs_claim_at_once_and_exactly_one_wins(browser: Any, fresh: RunningDemo) -> None:
    sato, tanaka = open_as(browser, fresh, "U_SATO"), open_as(browser, fresh, "U_TANAKA")
    buttons = [card(p, "Daniel Kim").get_by_role("button", name="Claim") for p in (sato, tanaka)]
    for button in buttons:
        expect(button).to_be_visible(timeout=WAIT_MS)
    for button in buttons:  # a few ms apart: both leave before the first one is answered
        button.evaluate("button => button.click()")
    for page in (sato, tanaka):
        expect(card(page, "Daniel Kim")).to_contain_text("Claimed by @", timeout=WAIT_MS)
    shown = card(sato, "Daniel Kim").inner_text()
    winner = "sato" if "Claimed by @sato" in shown else "tanaka"
    loser_page = tanaka if winner == "sato" else sato
    other_page = sato if winner == "sato" else tanaka
    notice = loser_page.locator("article.ephemeral", has_text=f"Already claimed by @{winner}.")
    expect(notice).to_be_visible(timeout=WAIT_MS)
    expect(other_page.locator("article.ephemeral")).to_have_count(0)
    # Slack received one card edit naming the winner, and only the loser was told.
    state = fresh.page.state
    told = [e.user for e in state.ephemerals(SDR_CHANNEL) if "Already claimed" in e.text]
    assert told == [f"U_{('tanaka' if winner == 'sato' else 'sato').upper()}"]
    for page in (sato, tanaka):
        page.context.close()


def test_the_owner_recycles_through_the_modal(browser: Any, fresh: RunningDemo) -> None:
    page = open_as(browser, fresh, "U_EMILY")
    lead = card(page, "山田 花子")
    lead.get_by_role("button", name="Claim").click(timeout=WAIT_MS)
    expect(lead.get_by_role("button", name="Recycled")).to_be_visible(timeout=WAIT_MS)
    # Her App Home lists the claim; its button leads back to the card.
    page.get_by_role("link", name="Home").click()
    mine = page.locator(".home .b-section", has_text="山田 花子")
    expect(mine).to_be_visible(timeout=WAIT_MS)
    mine.get_by_role("button", name="Open card").click()
    expect(page.locator("article.msg:target h3")).to_have_text("山田 花子", timeout=WAIT_MS)
    lead.get_by_role("button", name="Recycled").click(timeout=WAIT_MS)
    dialog = page.get_by_role("dialog", name="Recycle")
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    dialog.get_by_label("Reason").select_option(label="Budget")
    # Changing the reason resets the date to the reason's period, as the bot redraws the modal.
    budget_day = (date.today() + timedelta(days=120)).isoformat()
    expect(dialog.get_by_label("Back to Lead on")).to_have_value(
        re.compile(rf"{budget_day[:7]}"), timeout=WAIT_MS
    )
    dialog.get_by_label("Back to Lead on").fill("")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text("Please complete this required field.")
    dialog.get_by_label("Back to Lead on").fill("2020-01-01")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_have_text("Pick a date after today.", timeout=WAIT_MS)
    back = (date.today() + timedelta(days=60)).isoformat()
    dialog.get_by_label("Back to Lead on").fill(back)
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_have_count(0, timeout=WAIT_MS)
    expect(lead).to_contain_text("Reason: Budget", timeout=WAIT_MS)
    expect(lead.get_by_role("button", name="Recycled")).to_be_visible()
    page.context.close()


def test_a_reminder_appears_after_the_clock_advances(browser: Any, fresh: RunningDemo) -> None:
    page = open_as(browser, fresh, "U_TANAKA")
    expect(card(page, "佐藤 愛子")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="+20 min").click()
    reminder = page.locator("article.msg", has_text="This MQL has been unclaimed for 20 min")
    expect(reminder.first).to_be_visible(timeout=WAIT_MS)
    expect(reminder.first).to_contain_text("@sato @tanaka @emily")
    page.get_by_label("Acting as").select_option("U_SUZUKI")  # the manager sees it too
    expect(page.locator("body")).to_have_attribute("data-user", "U_SUZUKI", timeout=WAIT_MS)
    expect(reminder.first).to_be_visible()
    page.context.close()


def test_the_weekly_digest_with_its_chart_reaches_marketing(
    browser: Any, fresh: RunningDemo
) -> None:
    page = open_as(browser, fresh, "U_YAMAMOTO", "C_MKT")
    expect(page.get_by_role("heading", name="#marketing")).to_be_visible()
    page.get_by_role("button", name="+1 week").click()
    expect(page.locator(".messages")).to_contain_text("MQL digest", timeout=WAIT_MS)
    chart = page.locator("figure.file img")
    expect(chart).to_be_visible(timeout=WAIT_MS)
    assert chart.evaluate("img => img.complete && img.naturalWidth > 100")
    expect(page.locator("figure.file figcaption")).to_contain_text("Chart")
    page.context.close()


def test_a_japanese_run_is_japanese_throughout(browser: Any, demo: RunningDemo) -> None:
    page = open_as(browser, demo, "U_SATO")
    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja", timeout=WAIT_MS)
    first = card(page, "佐藤 愛子")
    expect(first.get_by_role("button", name="担当する")).to_be_visible(timeout=WAIT_MS)
    expect(page.get_by_role("navigation")).to_contain_text("チャンネル")
    expect(page.get_by_role("button", name="+20 分")).to_be_visible()
    text = page.locator("body").inner_text()
    for english in ("Claim", "Why it qualified", "Channels", "Demo controls"):
        assert english not in text
    demo.restart("en")
    page.context.close()
