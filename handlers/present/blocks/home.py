"""The App Home tab: a user's open MQLs and week, and the team view for managers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from handlers.present.actions import ActionId, check_opaque_id
from handlers.present.blocks._text import (
    DASH,
    MAX_BUTTON_TEXT,
    MAX_HEADER_TEXT,
    MAX_SECTION_TEXT,
    MAX_URL,
    MAX_VIEW_BLOCKS,
    Block,
    esc,
    escape,
    lines_within,
    link,
    mrkdwn_text,
    plain_text,
)
from handlers.present.blocks.card import sla_text
from handlers.present.blocks.funnel import sdr_funnel_section
from handlers.present.catalog import Catalog, format_number
from handlers.present.views import CardState, HomeItem, HomeView, WeekFigures

HOME_ITEMS: Final = 20
"""How many MQLs each App Home list shows before "+N more" (keeps the tab under 100 blocks)."""
_NAME: Final = 150


def home_view(view: HomeView, catalog: Catalog, now: datetime) -> dict[str, Any]:
    """The ``views.publish`` view for ``view.user_id``: ``{"type": "home", "blocks": [...]}``.

    Lists the user's open MQLs (oldest first as given) with SLA state, an "Open card" link
    button and, for unclaimed ones in the team view, a Claim button (same ``ActionId.CLAIM``
    as the card, value = MQL id). Managers also get the team view: unclaimed count and list,
    overdue list, per-SDR counts. At most ``HOME_ITEMS`` per list and 100 blocks in all.
    ``now`` (aware) is when the tab is drawn (it shows "as of"-free absolute times).
    """
    if now.tzinfo is None:
        raise ValueError("home_view needs an aware 'now'")
    blocks: list[Block] = [_header(catalog.t("home.mine"))]
    if view.my_open:
        blocks += _items(view.my_open, catalog, claim_button=False)
    else:
        blocks.append(_context(escape(catalog.t("home.mine_empty"))))
    blocks += [{"type": "divider"}, _header(catalog.t("home.week")), _week(view.my_week, catalog)]
    if view.is_manager and view.team is not None:
        team = view.team
        blocks += [{"type": "divider"}, _header(catalog.t("home.team"))]
        unclaimed = escape(catalog.t("home.unclaimed", count=team.unclaimed_count))
        blocks.append({"type": "section", "text": mrkdwn_text(f"*{unclaimed}*")})
        blocks += _items(
            team.unclaimed, catalog, claim_button=True, total=max(team.unclaimed_count, 0)
        )
        blocks.append(
            {"type": "section", "text": mrkdwn_text(f"*{escape(catalog.t('home.overdue'))}*")}
        )
        if team.overdue:
            blocks += _items(team.overdue, catalog, claim_button=False)
        else:
            blocks.append(_context(escape(catalog.t("home.overdue_empty"))))
        if team.per_sdr:
            lines = [
                catalog.t(
                    "home.sdr_line_away" if s.away else "home.sdr_line",
                    user=escape(s.user_id),
                    open=s.open,
                    overdue=s.overdue,
                )
                for s in team.per_sdr
            ]
            title = f"*{escape(catalog.t('home.per_sdr'))}*"
            more = escape(catalog.t("card.more", count="{count}"))
            body = lines_within(lines, MAX_SECTION_TEXT - len(title) - 1, more)
            blocks.append({"type": "section", "text": mrkdwn_text(f"{title}\n{body}")})
        if team.funnel:
            title = catalog.t("funnel.sdr_title_quarter")
            funnel = sdr_funnel_section(team.funnel, title, catalog)
            blocks.append({"type": "section", "text": mrkdwn_text(funnel)})
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _header(text: str) -> Block:
    return {"type": "header", "text": plain_text(text, MAX_HEADER_TEXT)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn_text(text)]}


def _items(
    items: Sequence[HomeItem], catalog: Catalog, *, claim_button: bool, total: int | None = None
) -> list[Block]:
    shown = list(items[:HOME_ITEMS])
    blocks = [_item(item, catalog, claim_button=claim_button) for item in shown]
    hidden = max(len(items) if total is None else total, len(items)) - len(shown)
    if hidden > 0:
        blocks.append(_context(escape(catalog.t("card.more", count=hidden))))
    return blocks


def _item(item: HomeItem, catalog: Catalog, *, claim_button: bool) -> Block:
    mql_id = check_opaque_id(item.mql_id)
    name = " ".join(item.lead_name.split()) or catalog.t("card.unknown_lead")
    first = catalog.t(
        "home.item",
        link=f"*{link(item.permalink, name[:_NAME])}*",
        company=esc(item.company, _NAME),
        score=esc(format_number(item.score), _NAME),
    )
    state = catalog.state_label(item.state)
    if item.owner_id and item.state is not CardState.OPEN:
        state = f"{escape(state)} <@{escape(item.owner_id)}>"
    else:
        state = escape(state)
    second = catalog.t(
        "home.item_since", state=state, when=catalog.format_datetime(item.created_at)
    )
    if item.sla is not None:
        icon = ":rotating_light:" if item.sla.over_sla else ":stopwatch:"
        second += f" · {icon} {escape(sla_text(item.sla, catalog))}"
    block: Block = {"type": "section", "text": mrkdwn_text(f"{first}\n{second}")}
    if claim_button and item.state is CardState.OPEN:
        block["accessory"] = {
            "type": "button",
            "text": plain_text(catalog.t("button.claim"), MAX_BUTTON_TEXT),
            "action_id": ActionId.CLAIM.value,
            "value": mql_id,
            "style": "primary",
        }
    elif item.permalink and len(item.permalink) <= MAX_URL:
        block["accessory"] = {
            "type": "button",
            "text": plain_text(catalog.t("home.open_card"), MAX_BUTTON_TEXT),
            "action_id": ActionId.HOME_OPEN_CARD.value,
            "value": mql_id,
            "url": item.permalink,
        }
    return block


def _week(week: WeekFigures, catalog: Catalog) -> Block:
    median = (
        catalog.format_duration(max(week.median_time_to_claim, timedelta(0)))
        if week.median_time_to_claim is not None
        else DASH
    )
    figures = (
        (catalog.t("home.week.claimed"), str(week.claimed)),
        (catalog.disposition_label("sql"), str(week.sql)),
        (catalog.disposition_label("lead"), str(week.lead)),
        (catalog.disposition_label("recycled"), str(week.recycled)),
        (catalog.disposition_label("disqualified"), str(week.disqualified)),
        (catalog.t("home.week.median"), median),
    )
    return {
        "type": "section",
        "fields": [mrkdwn_text(f"*{escape(label)}*\n{value}") for label, value in figures],
    }
