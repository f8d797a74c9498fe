"""`/mql` on a real database: every sub-command, its errors (exact answers) and the manager check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from handlers.context import Deps
from handlers.slack.commands import CommandError, Request, handle_mql, parse
from store.engine import SessionFactory
from store.models import Lead, OutboxMessage, SdrState
from store.sdrs import pick_sdr
from tests.handlers.present.blockkit import message_problems, visible_text
from tests.handlers.slack.test_home_data import (
    AIKO,
    KEN,
    MANAGER,
    MIO,
    NOW,
    deps,
    seed_history,
    seed_team,
)

CARD = "https://slack.com/archives/C0SDR/p1764000000000"
HELP = (
    "*`/mql`*: what you can ask\n"
    "• `/mql queue`: your claimed MQLs without an outcome, oldest first\n"
    "• `/mql stats [7d|30d|quarter]`: MQL figures for the period (default 7d)\n"
    "• `/mql lead <email or id>`: a lead's score, reasons, history, owner and state\n"
    "• `/mql away`: stop receiving auto-assigned MQLs (holidays, training)\n"
    "• `/mql back`: receive auto-assigned MQLs again\n"
    "• `/mql digest`: post the digest of the last 7 days to marketing now (managers)\n"
    "• `/mql help`: this list"
)


class Recorder:
    """Fake ack and respond: what the listener sent Slack, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def ack(self, **kwargs: Any) -> None:
        self.calls.append(("ack", kwargs))

    async def respond(self, **kwargs: Any) -> None:
        self.calls.append(("respond", kwargs))

    @property
    def answer(self) -> dict[str, Any]:
        assert [name for name, _ in self.calls] == ["ack", "respond"]
        assert self.calls[0][1] == {}  # acked at once, empty: the answer follows
        answer = self.calls[1][1]
        assert answer["response_type"] == "ephemeral"
        assert message_problems(answer["text"], answer["blocks"]) == []
        return answer


async def run(d: Deps, text: str, user: str = AIKO) -> dict[str, Any]:
    recorder = Recorder()
    command = {"command": "/mql", "text": text, "user_id": user, "trigger_id": "13345.trig"}
    await handle_mql(recorder.ack, command, recorder.respond, d)
    return recorder.answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Request("help")),
        ("help", Request("help")),
        ("HELP me", Request("help")),
        ("queue", Request("queue")),
        ("stats", Request("stats", "7d")),
        ("stats Quarter", Request("stats", "quarter")),
        ("  stats   30d ", Request("stats", "30d")),
        ("lead aiko@example.co.jp", Request("lead", "aiko@example.co.jp")),
        (
            "lead <mailto:aiko@example.co.jp|aiko@example.co.jp>",
            Request("lead", "aiko@example.co.jp"),
        ),
        ("lead crm-00001", Request("lead", "crm-00001")),
        ("digest", Request("digest")),
        ("Away", Request("away")),
        ("back", Request("back")),
    ],
)
def test_parse(text: str, expected: Request) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("que", "command.unknown"),
        ("queue mine", "command.no_arguments"),
        ("stats 1y", "command.bad_period"),
        ("stats 7d 30d", "command.one_argument"),
        ("lead", "command.lead_missing"),
        ("lead Aiko Sato", "command.one_argument"),
        ("digest now", "command.no_arguments"),
        ("away until monday", "command.no_arguments"),
    ],
)
def test_parse_errors_name_the_problem(text: str, key: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.key == key


@pytest.mark.parametrize("text", ["", "help"])
async def test_help_lists_every_sub_command(
    text: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    answer = await run(deps(sessions, tmp_path), text)
    assert answer["text"] == HELP
    assert visible_text(answer["blocks"]) == [HELP]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("que", f"`que` is not a `/mql` sub-command.\n{HELP}"),
        (
            "queue mine",
            "`/mql queue` takes no arguments, but got `mine`.\n"
            "Usage: `/mql queue`: your claimed MQLs without an outcome, oldest first",
        ),
        (
            "stats 1y",
            "`1y` is not a period: use 7d, 30d or quarter.\n"
            "Usage: `/mql stats [7d|30d|quarter]`: MQL figures for the period (default 7d)",
        ),
        (
            "lead",
            "`/mql lead` needs an e-mail address or a lead id.\n"
            "Usage: `/mql lead <email or id>`: a lead's score, reasons, history, owner and state",
        ),
        (
            "lead <b>x</b> y",
            "`/mql lead` takes one argument, but got `&lt;b&gt;x&lt;/b&gt; y`.\n"
            "Usage: `/mql lead <email or id>`: a lead's score, reasons, history, owner and state",
        ),
        (
            "lead nobody@example.com",
            "No lead matches `nobody@example.com`. Try the e-mail address or the CRM id.\n"
            "Usage: `/mql lead <email or id>`: a lead's score, reasons, history, owner and state",
        ),
    ],
)
async def test_bad_requests_get_what_was_wrong_and_the_usage(
    text: str, expected: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    answer = await run(deps(sessions, tmp_path), text)
    assert answer["text"] == expected
    assert visible_text(answer["blocks"]) == [expected]


async def test_errors_in_japanese(sessions: SessionFactory, tmp_path: Path) -> None:
    answer = await run(deps(sessions, tmp_path, "ja"), "stats 1y")
    assert answer["text"] == (
        "`1y` は期間として使えません。7d、30d、quarter のいずれかを指定してください。\n"
        "使い方：`/mql stats [7d|30d|quarter]`：期間の MQL 集計（既定は 7d）"
    )


async def test_queue_lists_my_claimed_mqls_oldest_claim_first_with_card_links(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    answer = await run(deps(sessions, tmp_path), "queue")
    assert answer["text"] == "Your queue: 2 claimed MQL(s) without an outcome, oldest first"
    assert visible_text(answer["blocks"]) == [
        "Your queue: 2 claimed MQL(s) without an outcome, oldest first",
        f"*<{CARD}002|Ken Ito>* · Ito &amp; Sons · score 120 · claimed Wed 18 Nov 2026, 10:00\n"
        ":rotating_light: No disposition for 1 d 12 h — over SLA",
        f"*<{CARD}001|Aiko Sato>* · Example KK · score 105 · claimed Mon 23 Nov 2026, 09:10\n"
        ":stopwatch: No disposition for 10 h 5 min",
    ]


async def test_an_empty_queue_says_so(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    answer = await run(deps(sessions, tmp_path), "queue", user=MANAGER)
    assert answer["text"] == "Your queue is empty: no claimed MQL is waiting for an outcome."


@pytest.mark.parametrize("query", ["mio@example.co.jp", "MIO@Example.co.jp", "crm-00003", "3"])
async def test_lead_shows_score_reasons_history_owner_and_state(
    query: str, sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    await seed_history(sessions)
    answer = await run(deps(sessions, tmp_path), f"lead {query}")
    assert answer["text"] == "Mio Tanaka (Tanaka Trading) · score 110 · MQL"
    assert visible_text(answer["blocks"]) == [
        "Mio Tanaka",
        "*Company*\nTanaka Trading",
        "*E-mail*\nmio@example.co.jp",
        "*Score*\n110",
        "*Stage*\nMQL",
        "*Source*\n—",
        "*Campaign*\n—",
        "*MQL state*\nSQL",
        "*Owner*\n<@U0AIKO>",
        "*MQLs so far*\n1",
        "*Why it qualified*\nscore 150 ≥ 100",
        "*History*\n"
        "Mon 23 Nov 2026, 15:00 · <@U0AIKO> · set the outcome → SQL\n"
        "Mon 23 Nov 2026, 09:20 · <@U0AIKO> · claimed\n"
        "Mon 23 Nov 2026, 09:00 · mqlbot · became an MQL",
        "*Recent activity*\n"
        "Mon 23 Nov 2026, 08:55 · Page visited (/pricing) · +20 pts\n"
        "Sun 22 Nov 2026, 20:00 · Content downloaded (MA guide) · +30 pts",
        f"<{CARD}003|Open the MQL card>",
    ]


async def test_lead_that_never_qualified(sessions: SessionFactory, tmp_path: Path) -> None:
    async with sessions() as session, session.begin():
        session.add(Lead(key="email:new@example.com", email="new@example.com", name="New Person",
                         score=40, created_at=NOW, updated_at=NOW))  # fmt: skip
    answer = await run(deps(sessions, tmp_path), "lead new@example.com")
    texts = visible_text(answer["blocks"])
    assert texts[0] == "New Person"
    assert "*Stage*\nTarget" in texts
    assert texts[-1] == "Not an MQL yet: the score has not reached the threshold (100)."


async def test_stats_default_to_the_last_7_days(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    answer = await run(deps(sessions, tmp_path), "stats")
    texts = visible_text(answer["blocks"])
    assert texts[0] == "MQL figures: 2026-11-17 – 2026-11-24"
    assert texts[2] == (
        "*Funnel*\nMQLs created: *7* (before: 0)\nClaimed: *5* (71%)\n"
        "Time to claim (business hours): median *10 min*, 90th percentile *26 min*\n"
        "SLA breaches: *4* (before: 0)\n"
        "Outcomes: SQL *1* · Lead *0* · Recycled *1* · Disqualified *0* · still open *5*\n"
        "MQL → SQL: *14%* (1/7)"
    )
    assert answer["text"] == "MQL digest 2026-11-17 – 2026-11-24: 7 MQLs, 1 SQL (14%)"


async def test_stats_for_a_quarter(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    answer = await run(deps(sessions, tmp_path), "stats quarter")
    assert visible_text(answer["blocks"])[0] == "MQL figures: 2026-08-25 – 2026-11-24"


async def _outbox(sessions: SessionFactory) -> list[OutboxMessage]:
    async with sessions() as session:
        rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))
        return list(rows.all())


async def test_digest_is_refused_to_a_non_manager(sessions: SessionFactory, tmp_path: Path) -> None:
    await seed_team(sessions)
    answer = await run(deps(sessions, tmp_path), "digest", user=KEN)
    assert answer["text"] == "Only managers can post the digest."
    assert await _outbox(sessions) == []


async def test_a_manager_posts_the_digest_now_once_per_request(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    await seed_team(sessions)
    d = deps(sessions, tmp_path)
    answer = await run(d, "digest", user=MANAGER)
    assert answer["text"] == "The digest of 2026-11-17 – 2026-11-24 is on its way to <#C0MKT>."
    # The same request delivered twice (same trigger id) queues nothing more.
    await run(d, "digest", user=MANAGER)
    rows = await _outbox(sessions)
    assert [(r.kind, r.channel, r.dedupe_key) for r in rows] == [
        ("post", "C0MKT", "digest:now:13345.trig"),
        ("upload", "C0MKT", "digest:now:13345.trig:chart"),
    ]
    assert rows[0].payload["text"] == "MQL digest 2026-11-17 – 2026-11-24: 7 MQLs, 1 SQL (14%)"
    assert rows[1].payload["filename"] == "mql-digest-2026-11-24.png"


async def _sdr_states(sessions: SessionFactory) -> dict[str, tuple[bool, int]]:
    async with sessions() as session:
        rows = await session.exec(select(SdrState))
        return {r.user_id: (r.away, r.assigned_count) for r in rows.all()}


async def test_an_sdr_away_is_skipped_by_auto_assignment_and_back_without_a_burst(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    d = deps(sessions, tmp_path)
    answer = await run(d, "away", user=KEN)
    assert answer["text"] == (
        "You are away: overdue MQLs are no longer auto-assigned to you."
        " Send `/mql back` when you return."
    )
    assert (await _sdr_states(sessions))[KEN] == (True, 0)
    # The managers' Home tabs show who is away: they are refreshed with the change.
    assert [(r.kind, r.payload["user_id"]) for r in await _outbox(sessions)] == [("home", MANAGER)]
    picked = []
    for _ in range(4):
        async with sessions() as session, session.begin():
            picked.append(await pick_sdr(session, user_ids=d.config.sdr_users, now=NOW))
    assert KEN not in picked
    answer = await run(d, "back", user=KEN)
    assert answer["text"] == (
        "Welcome back: overdue MQLs can be auto-assigned to you again,"
        " starting level with the team."
    )
    # Aiko and Mio got 2 each meanwhile: Ken comes back at 2, not 0, so no burst follows.
    assert await _sdr_states(sessions) == {AIKO: (False, 2), KEN: (False, 2), MIO: (False, 2)}


async def test_away_is_only_for_sdrs_in_the_rotation(
    sessions: SessionFactory, tmp_path: Path
) -> None:
    answer = await run(deps(sessions, tmp_path), "away", user=MANAGER)
    assert answer["text"] == "Only SDRs listed in `slack.sdr_users` take part in auto-assignment."
    assert await _sdr_states(sessions) == {}


async def test_away_in_japanese(sessions: SessionFactory, tmp_path: Path) -> None:
    answer = await run(deps(sessions, tmp_path, "ja"), "away", user=AIKO)
    assert answer["text"].startswith("不在にしました。")
