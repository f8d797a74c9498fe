"""The backfill on SQLite and PostgreSQL: same result as the webhook, resumable, bad lines, races."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, pool, text
from sqlmodel import col, select

from bot.runtime import Runtime
from handlers.ingest.backfill import Backfill, InputChanged
from handlers.ingest.native import validate_events
from handlers.ingest.webhook import ingest, prepare
from scoring.engine import LeadScoreState, apply_event
from store.engine import SessionFactory, sync_url
from store.imports import CheckpointConflict, get_checkpoint
from store.migrate import upgrade
from store.models import Event, Lead, Mql
from tests.handlers.ingest.builders import counts
from tests.handlers.ingest.conftest import RuntimeFactory

T0 = datetime.fromisoformat("2026-11-10T09:00:00+09:00")
TYPES = ("content_downloaded", "page_visited", "video_watched", "email_clicked", "form_submitted")


def history(n: int, leads: int = 40, *, prefix: str = "h") -> list[dict[str, Any]]:
    """n native events in time order over `leads` leads, some of which qualify."""
    out = []
    for i in range(n):
        lead = (i * 7) % leads
        out.append(
            {
                "id": f"{prefix}{i}",
                "type": TYPES[i % len(TYPES)] if lead % 3 else "email_opened",
                "occurred_at": (T0 + timedelta(minutes=11 * i)).isoformat(),
                "lead": {
                    "id": f"crm-{lead}",
                    "email": f"lead{lead}@example.co.jp",
                    "company": f"Company {lead % 5}",
                },
                "properties": {"url": "https://example.co.jp/pricing", "asset": "MA guide"},
            }
        )
    return out


def jsonl(events: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(e).encode() + b"\n" for e in events)


class Crashing(io.BytesIO):
    """An input whose reading fails after `lines` lines, as a process killed mid-import would."""

    def __init__(self, data: bytes, lines: int) -> None:
        super().__init__(data)
        self.left = lines

    def __next__(self) -> bytes:
        if self.left == 0:
            raise OSError("the import was killed here")
        self.left -= 1
        return super().__next__()


class Pipe(io.BytesIO):
    """stdin: cannot seek back."""

    def seekable(self) -> bool:
        return False


async def snapshot(sessions: SessionFactory) -> dict[str, Any]:
    """Everything the ingest decides, by lead key and event key (ids may differ between stores).

    Not the scoring state's text: stale trigger candidates are cut off at amortised moments, so
    its bytes depend on where batches began, while every score and decision it leads to does not.
    """
    async with sessions() as session:
        leads = (await session.exec(select(Lead).order_by(col(Lead.key)))).all()
        key_of = {lead.id: lead.key for lead in leads}
        events = (await session.exec(select(Event).order_by(col(Event.dedupe_key)))).all()
        mqls = (await session.exec(select(Mql).order_by(col(Mql.id)))).all()
    return {
        "leads": [
            (
                lead.key,
                lead.stage,
                lead.score,
                lead.last_activity_at,
                lead.email,
                lead.company,
            )
            for lead in leads
        ],
        "events": [
            (e.dedupe_key, key_of[e.lead_id], e.type, e.occurred_at, e.points, e.properties)
            for e in events
        ],
        # By lead: a batch opens its MQLs lead by lead, the webhook in arrival order.
        "mqls": sorted(
            (key_of[m.lead_id], m.kind, m.score, m.reasons, m.state, m.nag_due_at) for m in mqls
        ),
    }


def migrated(sqlite_url: str, name: str) -> str:
    """Another SQLite database beside the test's own (to compare two runs)."""
    other = sqlite_url.replace("mqlbot.db", f"{name}.db")
    upgrade(other)
    return other


def backfill(runtime: Runtime, name: str = "history", **options: Any) -> Backfill:
    return Backfill(runtime.deps, name=name, writer=runtime.writer, **options)


@pytest.fixture
def url(any_db_url: str) -> str:
    return any_db_url


async def test_an_import_stores_what_the_webhook_would_have_event_by_event(
    make_runtime: RuntimeFactory, url: str, sqlite_url: str
) -> None:
    events = history(900)
    events.insert(300, events[10])  # a repeated line is a duplicate, as a repeated webhook is
    webhook = make_runtime(migrated(sqlite_url, "webhook"))
    for one in events:
        await ingest(webhook.deps, validate_events(one, webhook.config.known_types))

    runtime = make_runtime(url)
    report = await backfill(runtime, batch_size=250).run(io.BytesIO(jsonl(events)))

    assert (report.accepted, report.duplicates, report.lines) == (900, 1, 901)
    assert report.finished
    assert not report.bad
    assert report.mqls > 0
    assert await snapshot(runtime.sessions) == await snapshot(webhook.sessions)
    assert await counts(runtime.sessions) == await counts(webhook.sessions)


async def test_imported_scores_are_the_scoring_engines_own(
    make_runtime: RuntimeFactory, url: str
) -> None:
    events = history(600)
    runtime = make_runtime(url)
    await backfill(runtime, batch_size=128).run(io.BytesIO(jsonl(events)))

    rules = runtime.config.rules
    expected: dict[str, LeadScoreState] = {}
    parsed = validate_events({"events": events[:500]}, runtime.config.known_types)
    parsed += validate_events({"events": events[500:]}, runtime.config.known_types)
    for item in prepare(parsed, "native"):
        state = expected.get(item.identity.key, LeadScoreState.empty())
        expected[item.identity.key] = apply_event(state, item.scored, rules).state
    async with runtime.sessions() as session:
        stored = {lead.key: lead.score for lead in (await session.exec(select(Lead))).all()}
    assert stored == {key: state.score for key, state in expected.items()}


async def test_a_killed_import_resumes_after_its_last_batch_without_counting_twice(
    make_runtime: RuntimeFactory, url: str, sqlite_url: str
) -> None:
    data = jsonl(history(1000))
    runtime = make_runtime(url)
    with pytest.raises(OSError, match="killed"):
        await backfill(runtime, batch_size=300).run(Crashing(data, 750))
    async with runtime.sessions() as session:
        checkpoint = await get_checkpoint(session, name="history")
    assert checkpoint is not None
    assert (checkpoint.position.line, checkpoint.position.accepted) == (600, 600)
    assert (await counts(runtime.sessions))["event"] == 600  # the third batch left nothing

    again = await backfill(runtime, batch_size=300).run(io.BytesIO(data))
    assert (again.resumed_at, again.accepted, again.duplicates, again.lines) == (600, 400, 0, 400)
    assert again.position.accepted == 1000
    assert again.finished

    reference = make_runtime(migrated(sqlite_url, "reference"))
    await backfill(reference).run(io.BytesIO(data))
    assert await snapshot(runtime.sessions) == await snapshot(reference.sessions)

    done = await backfill(runtime).run(io.BytesIO(data))
    assert (done.resumed_at, done.accepted, done.lines) == (1000, 0, 0)


async def test_bad_lines_are_listed_by_number_and_their_batch_is_not_stored(
    make_runtime: RuntimeFactory, url: str
) -> None:
    events = history(1000)
    lines = jsonl(events).splitlines(keepends=True)
    lines[449] = b'{"id": "x", "type": "email_opened", "occurred_at": "2026-11-20T10:00:00"}\n'
    lines[460] = b"not json\n"
    bad_type = {**events[800], "type": "webinar_joined"}
    lines[800] = json.dumps(bad_type).encode() + b"\n"
    runtime = make_runtime(url)

    report = await backfill(runtime, batch_size=200).run(io.BytesIO(b"".join(lines)))

    listed = [(b.line, b.field) for b in report.bad]
    assert listed == [(450, "occurred_at"), (450, "lead"), (461, "event"), (801, "type")]
    assert "unknown event type 'webinar_joined'" in str(report.bad[-1])
    assert report.stopped_at == 401
    assert not report.finished
    assert report.bad_lines == 3
    assert report.accepted == 400
    assert report.position.line == 400
    assert (await counts(runtime.sessions))["event"] == 400  # nothing of lines 401-600

    fixed = jsonl(events)
    resumed = await backfill(runtime, batch_size=200).run(io.BytesIO(fixed))
    assert (resumed.resumed_at, resumed.accepted, resumed.duplicates) == (400, 600, 0)
    assert (await counts(runtime.sessions))["event"] == 1000


async def test_skip_invalid_stores_the_good_lines_and_lists_the_bad(
    make_runtime: RuntimeFactory, url: str
) -> None:
    lines = jsonl(history(300)).splitlines(keepends=True)
    lines[99] = b"{}\n"
    lines.insert(150, b"\n")  # blank lines are not events
    runtime = make_runtime(url)

    report = await backfill(runtime, batch_size=64, skip_invalid=True).run(
        io.BytesIO(b"".join(lines))
    )

    assert {b.line for b in report.bad} == {100}
    assert (report.accepted, report.bad_lines, report.lines) == (299, 1, 301)
    assert report.finished
    assert report.stopped_at is None
    assert (await counts(runtime.sessions))["event"] == 299


async def test_a_changed_file_is_read_again_and_a_changed_pipe_is_refused(
    make_runtime: RuntimeFactory, url: str
) -> None:
    runtime = make_runtime(url)
    await backfill(runtime, batch_size=100).run(io.BytesIO(jsonl(history(200))))
    changed = jsonl(history(250, prefix="other"))

    with pytest.raises(InputChanged, match="--restart"):
        await backfill(runtime).run(Pipe(changed))

    report = await backfill(runtime, batch_size=100).run(io.BytesIO(changed))
    assert report.restarted
    assert report.resumed_at == 0
    assert (report.accepted, report.duplicates) == (250, 0)
    assert report.position.accepted == 450  # the import's totals over all its runs


class MovedMeanwhile(io.BytesIO):
    """An input during whose reading another run of the same import moves its checkpoint."""

    def __init__(self, data: bytes, url: str, at_line: int) -> None:
        super().__init__(data)
        self.url, self.at_line, self.read_lines = url, at_line, 0

    def __next__(self) -> bytes:
        self.read_lines += 1
        if self.read_lines == self.at_line:
            engine = create_engine(sync_url(self.url), poolclass=pool.NullPool)
            with engine.begin() as conn:
                conn.execute(text("UPDATE import_checkpoint SET line = line + 1000"))
            engine.dispose()
        return super().__next__()


async def test_two_runs_of_one_import_cannot_both_advance_it(
    make_runtime: RuntimeFactory, url: str
) -> None:
    runtime = make_runtime(url)
    data = jsonl(history(300))

    with pytest.raises(CheckpointConflict, match="moved meanwhile"):
        await backfill(runtime, batch_size=100).run(MovedMeanwhile(data, url, 250))

    assert (await counts(runtime.sessions))["event"] == 100  # the second batch rolled back
    async with runtime.sessions() as session:
        checkpoint = await get_checkpoint(session, name="history")
    assert checkpoint is not None
    assert checkpoint.position.line == 1100


async def test_events_the_webhook_already_received_are_duplicates(
    make_runtime: RuntimeFactory, url: str
) -> None:
    events = history(100)
    runtime = make_runtime(url)
    await ingest(runtime.deps, validate_events({"events": events[:30]}, runtime.config.known_types))

    report = await backfill(runtime).run(io.BytesIO(jsonl(events)))

    assert (report.accepted, report.duplicates) == (70, 30)
    async with runtime.sessions() as session:
        stored = await session.exec(text("SELECT count(*) FROM event"))
        assert stored.scalar_one() == 100
