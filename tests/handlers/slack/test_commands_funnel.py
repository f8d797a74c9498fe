"""What `/mql lead`, `/mql stats` and the managers' Home say about opportunities and won deals."""

from __future__ import annotations

from pathlib import Path

from handlers.present.home import load_home, render_home
from store.engine import SessionFactory
from store.models import Opportunity
from tests.handlers.present.blockkit import visible_text
from tests.handlers.slack.test_commands import run
from tests.handlers.slack.test_home_data import AIKO, KEN, MANAGER, NOW, deps, seed_team, tokyo


async def seed_opportunities(sessions: SessionFactory) -> None:
    """Mio's SQL (MQL 3, Aiko's) became two deals, one won; Ken's MQL 5 one open deal; one
    opportunity of Ryo's lead came from no MQL."""
    common = {"last_event_at": tokyo(24, 9), "updated_at": tokyo(24, 9)}
    async with sessions() as session, session.begin():
        session.add_all(
            [
                Opportunity(external_id="006A", lead_id=3, mql_id=3, name="Tanaka MA suite",
                            status="won", stage="Closed Won", amount="3200000",
                            amount_minor=3200000, currency="JPY", opened_at=tokyo(23, 16),
                            won_at=tokyo(24, 9), **common),
                Opportunity(external_id="006B", lead_id=3, mql_id=3, name="Tanaka add-on",
                            status="open", stage="Proposal", amount="32000.00",
                            amount_minor=3200000, currency="USD", opened_at=tokyo(23, 17),
                            **common),
                Opportunity(external_id="006C", lead_id=5, mql_id=5, name="Mori pilot",
                            status="open", stage="Discovery", opened_at=tokyo(24, 9, 30),
                            **common),
                Opportunity(external_id="006D", lead_id=4, mql_id=None, name="Abe renewal",
                            status="lost", stage="Closed Lost", lost_reason="budget",
                            opened_at=tokyo(20, 9), lost_at=tokyo(22, 9), **common),
            ]
        )  # fmt: skip


async def test_lead_lists_its_opportunities(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    await seed_opportunities(sessions)
    texts = visible_text((await run(deps(sessions, tmp_path), "lead crm-00003"))["blocks"])
    assert (
        "*Opportunities*\n"
        "• Tanaka add-on — Opportunity open · Proposal · $32,000.00 (opened 2026-11-23)\n"
        "• Tanaka MA suite — Won · ¥3,200,000 (opened 2026-11-23)"
    ) in texts
    other = visible_text((await run(deps(sessions, tmp_path), "lead crm-00004"))["blocks"])
    assert "*Opportunities*\n• Abe renewal — Lost · not from an MQL (opened 2026-11-20)" in other


async def test_lead_opportunities_in_japanese(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    await seed_opportunities(sessions)
    answer = await run(deps(sessions, tmp_path, "ja"), "lead crm-00003")
    joined = "\n".join(visible_text(answer["blocks"]))
    assert "*商談*" in joined
    assert "• Tanaka MA suite — 受注 · ¥3,200,000（2026年11月23日(月) 開始）" in joined


async def test_stats_show_each_sdrs_funnel(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    await seed_opportunities(sessions)
    texts = visible_text((await run(deps(sessions, tmp_path), "stats"))["blocks"])
    assert (
        "*MQL → SQL → Opportunity → Won per SDR*\n"
        f"• <@{AIKO}>: 4 → 1 → 1 → 1\n"
        f"• <@{KEN}>: 1 → 0 → 1 → 0"
    ) in texts


async def test_managers_home_shows_each_sdrs_funnel(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    await seed_opportunities(sessions)
    d = deps(sessions, tmp_path)
    async with sessions() as session:
        view = await render_home(session, d, MANAGER, NOW)
        mine = await load_home(session, d, AIKO, NOW)
    texts = visible_text(view["blocks"])
    assert (
        "*MQL → SQL → Opportunity → Won per SDR (MQLs of the last 13 weeks)*\n"
        f"• <@{AIKO}>: 4 → 1 → 1 → 1\n"
        f"• <@{KEN}>: 1 → 0 → 1 → 0"
    ) in texts
    assert mine.team is None  # an SDR's own tab has no team view
