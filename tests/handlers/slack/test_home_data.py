"""A hand-built team for the App Home and `/mql` tests: Tokyo, Tue 24 Nov 2026 10:15, two SDRs at work."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.runtime import handler_config
from bot.settings import load_settings
from handlers.context import Deps, HandlerConfig
from store.engine import SessionFactory
from store.models import AuditEntry, Event, Lead, Mql

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 24, 1, 15, tzinfo=UTC)  # Tue 24 Nov 2026 10:15 in Tokyo
MANAGER = "U0MGR"
AIKO, KEN, MIO = "U0AIKO", "U0KEN", "U0MIO"

TOML = """
[slack]
sdr_channel = "C0SDR"
marketing_channel = "C0MKT"
managers = ["U0MGR"]
sdr_users = ["U0AIKO", "U0KEN", "U0MIO"]

[sla]
timezone = "Asia/Tokyo"
claim_within = "15m"
work_within = "24h"
escalate_after = "48h"

[locale]
language = "{language}"
"""


def tokyo(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in November 2026, given on the Tokyo wall clock, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def config(tmp_path: Path, language: str = "en") -> HandlerConfig:
    path = tmp_path / f"mqlbot-{language}.toml"
    path.write_text(TOML.format(language=language), encoding="utf-8")
    return handler_config(load_settings(path))


def deps(sessions: SessionFactory, tmp_path: Path, language: str = "en") -> Deps:
    return Deps(config=config(tmp_path, language), sessions=sessions, clock=lambda: NOW)


def _lead(number: int, name: str, company: str, **extra: Any) -> Lead:
    return Lead(
        id=number,
        key=f"id:crm-{number:05d}",
        external_id=f"crm-{number:05d}",
        email=f"{name.split()[0].lower()}@example.co.jp",
        name=name,
        company=company,
        stage="mql",
        score=extra.pop("score", 110.0),
        created_at=tokyo(1, 9),
        updated_at=tokyo(1, 9),
        **extra,
    )


def _mql(number: int, lead_id: int, created: datetime, score: float, **extra: Any) -> Mql:
    return Mql(
        id=number,
        lead_id=lead_id,
        created_at=created,
        updated_at=created,
        kind="threshold",
        reasons=[{"kind": "threshold", "score": score, "threshold": 100}],
        score=score,
        source="webinar",
        slack_channel="C0SDR",
        slack_ts=f"1764000000.00{number:04d}",
        **extra,
    )


async def seed_team(sessions: SessionFactory) -> None:
    """Seven MQLs: Aiko holds two (one past the 24 h work SLA) and decided two this week, Ken
    holds one, two are unclaimed (one past the 15 min claim SLA)."""
    leads = [
        _lead(1, "Aiko Sato", "Example KK"),
        _lead(2, "Ken Ito", "Ito & Sons"),
        _lead(3, "Mio Tanaka", "Tanaka Trading"),
        _lead(4, "Ryo Abe", "Abe Works"),
        _lead(5, "Yui Mori", "Mori Inc"),
        _lead(6, "Sho Kato", "Kato Labs"),
        _lead(7, "Emi Ono", "Ono Foods"),
    ]
    mqls = [
        # Aiko's: claimed Monday 09:10 (10 min to claim), 10 h 05 min of business time since.
        _mql(1, 1, tokyo(23, 9), 105, state="claimed", owner_id=AIKO, open_lead_id=1,
             claimed_at=tokyo(23, 9, 10), claim_business_seconds=600),
        # Aiko's: claimed last Wednesday 10:00, 36 h 15 min of business time since: overdue.
        _mql(2, 2, tokyo(18, 9, 50), 120, state="claimed", owner_id=AIKO, open_lead_id=2,
             claimed_at=tokyo(18, 10), claim_business_seconds=600),
        # Aiko decided these this week: one claimed Monday (20 min to claim), one last week.
        _mql(3, 3, tokyo(23, 9), 150, state="sql", owner_id=AIKO, claimed_at=tokyo(23, 9, 20),
             claim_business_seconds=1200, disposition_at=tokyo(23, 15), disposition_by=AIKO),
        _mql(4, 4, tokyo(19, 9), 101, state="recycled", owner_id=AIKO, reason="timing",
             claimed_at=tokyo(19, 9, 30), claim_business_seconds=1800,
             disposition_at=tokyo(24, 9, 30), disposition_by=AIKO),
        # Ken's, claimed this morning.
        _mql(5, 5, tokyo(24, 9), 130, state="claimed", owner_id=KEN, open_lead_id=5,
             claimed_at=tokyo(24, 9, 5), claim_business_seconds=300),
        # Unclaimed: 10 min old, and since Monday 17:00 (2 h 15 min of business time).
        _mql(6, 6, tokyo(24, 10, 5), 100, state="open", open_lead_id=6),
        _mql(7, 7, tokyo(23, 17), 140, state="open", open_lead_id=7),
    ]  # fmt: skip
    async with sessions() as session, session.begin():
        session.add_all(leads)
        await session.flush()
        session.add_all(mqls)


async def seed_history(sessions: SessionFactory) -> None:
    """Audit entries and events of lead 3 (Mio Tanaka, SQL on Monday)."""
    async with sessions() as session, session.begin():
        session.add_all(
            [
                AuditEntry(mql_id=3, at=tokyo(23, 9), actor="system", action="mql_created",
                           to_state="open"),
                AuditEntry(mql_id=3, at=tokyo(23, 9, 20), actor=AIKO, action="claim",
                           from_state="open", to_state="claimed"),
                AuditEntry(mql_id=3, at=tokyo(23, 15), actor=AIKO, action="disposition",
                           from_state="claimed", to_state="sql"),
                Event(dedupe_key="native:e1", lead_id=3, type="content_downloaded",
                      occurred_at=tokyo(22, 20), received_at=tokyo(22, 20), points=30,
                      properties={"asset": "MA guide"}),
                Event(dedupe_key="native:e2", lead_id=3, type="page_visited",
                      occurred_at=tokyo(23, 8, 55), received_at=tokyo(23, 8, 55), points=20,
                      properties={"url": "/pricing"}),
            ]
        )  # fmt: skip
