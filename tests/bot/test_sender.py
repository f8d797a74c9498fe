"""The sender against the Slack stand-in over real HTTP: order, superseding, retries, dead letters."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.runtime import Runtime
from bot.sender import (
    MARKER_KEY,
    DrainReport,
    Sender,
    SenderOptions,
    backoff_delay,
    drain_once,
)
from bot.settings import load_settings
from bot.standin import Fault, StandinServer, Workspace
from store.engine import SessionFactory
from store.models import ChannelPace, Lead, Mql, OutboxMessage
from store.outbox import card_target, enqueue

TOKEN = "xoxb-standin"
SDR = "C_SDR"
FAST = SenderOptions(per_channel_interval=timedelta(milliseconds=10))


def make_runtime(db_url: str, api_url: str, **overrides: Any) -> Runtime:
    """A runtime like `mqlbot serve` builds, pointed at a test database and the stand-in."""
    settings = load_settings(
        None,
        database_url=db_url,
        slack_api_url=api_url,
        SLACK_BOT_TOKEN=TOKEN,
        slack={"sdr_channel": SDR, "marketing_channel": "C_MKT"},
        **overrides,
    )
    return Runtime.build(settings)


def card_blocks(label: str) -> list[dict[str, Any]]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": label}}]


async def add_mql(sessions: SessionFactory, now: datetime) -> int:
    async with sessions() as session, session.begin():
        lead = Lead(key="id:crm-1", created_at=now, updated_at=now)
        session.add(lead)
        await session.flush()
        assert lead.id is not None
        mql = Mql(lead_id=lead.id, created_at=now, kind="threshold", score=120, updated_at=now)
        session.add(mql)
        await session.flush()
        assert mql.id is not None
        return mql.id


async def queue(sessions: SessionFactory, now: datetime, key: str, kind: str, **kwargs: Any) -> int:
    async with sessions() as session, session.begin():
        row_id = await enqueue(session, dedupe_key=key, kind=kind, now=now, **kwargs)
    assert row_id is not None
    return row_id


async def rows(sessions: SessionFactory) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            (await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
        )


async def drain_all(
    runtime: Runtime, now: datetime, options: SenderOptions = FAST, passes: int = 10
) -> list[DrainReport]:
    """Drain pass after pass (one second apart, so pacing never holds a row) until idle."""
    reports = []
    for i in range(passes):
        report = await drain_once(runtime, now=now + timedelta(seconds=i), options=options)
        reports.append(report)
        if report.claimed == 0 and report.dead == 0:
            break
    return reports


@pytest.fixture(scope="module")
def server() -> Iterator[StandinServer]:
    with StandinServer(Workspace.seeded(), token=TOKEN) as running:
        yield running


@pytest.fixture
def slack(server: StandinServer) -> Workspace:
    server.state.reset()
    return server.state


@pytest.fixture
async def runtime(
    sqlite_url: str, server: StandinServer, slack: Workspace
) -> AsyncIterator[Runtime]:
    rt = make_runtime(sqlite_url, server.base_url)
    yield rt
    await rt.close()


def ok_calls(slack: Workspace, method: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.calls(method) if c.error is None]


async def test_post_update_and_reply_land_in_order_on_the_card(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    mql_id = await add_mql(runtime.sessions, now)
    target = card_target(mql_id)
    common = {"target_key": target, "mql_id": mql_id}
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR,
                payload={"text": "New MQL", "blocks": card_blocks("v1")}, **common)  # fmt: skip
    await queue(runtime.sessions, now, "card:1:v2", "update",
                payload={"text": "Claimed", "blocks": card_blocks("v2")}, **common)  # fmt: skip
    await queue(runtime.sessions, now, "card:1:r1", "reply", channel=SDR,
                payload={"text": "@sato claimed it"}, **common)  # fmt: skip

    reports = await drain_all(runtime, now)

    # One row per pass: a target's rows go one at a time, each after the previous one's answer.
    assert [r.sent for r in reports] == [1, 1, 1, 0]
    [card] = slack.top_level(SDR)
    assert [v.blocks for v in card.history] == [card_blocks("v1"), card_blocks("v2")]
    assert card.text == "Claimed"
    assert [m.text for m in slack.replies(SDR, card.ts)] == ["@sato claimed it"]
    assert [(r.status, r.result_channel, r.result_ts) for r in await rows(runtime.sessions)] == [
        ("sent", SDR, card.ts),
        ("sent", SDR, card.ts),
        ("sent", SDR, slack.replies(SDR, card.ts)[0].ts),
    ]
    async with runtime.sessions() as session:
        mql = await session.get(Mql, mql_id)
    assert mql is not None
    assert (mql.slack_channel, mql.slack_ts) == (SDR, card.ts)
    # Each write carries its row's marker, so a lost answer can be looked up; the card now
    # carries its last update's.
    assert card.metadata == {
        "event_type": "mqlbot_outbox",
        "event_payload": {MARKER_KEY: "card:1:v2"},
    }


async def test_superseded_updates_are_never_sent(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    target = card_target(5)
    await queue(runtime.sessions, now, "card:5", "post", channel=SDR, target_key=target,
                payload={"text": "v1", "blocks": card_blocks("v1")})  # fmt: skip
    for version in (2, 3, 4):
        await queue(runtime.sessions, now, f"card:5:v{version}", "update", target_key=target,
                    payload={"text": f"v{version}", "blocks": card_blocks(f"v{version}")})  # fmt: skip

    await drain_all(runtime, now)

    assert [c["blocks"] for c in ok_calls(slack, "chat.update")] == [card_blocks("v4")]
    assert [r.status for r in await rows(runtime.sessions)] == [
        "sent", "superseded", "superseded", "sent",
    ]  # fmt: skip


async def test_update_without_blocks_clears_the_old_blocks(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    target = card_target(6)
    await queue(runtime.sessions, now, "card:6", "post", channel=SDR, target_key=target,
                payload={"text": "v1", "blocks": card_blocks("v1")})  # fmt: skip
    await queue(runtime.sessions, now, "card:6:v2", "update", target_key=target,
                payload={"text": "withdrawn"})  # fmt: skip

    await drain_all(runtime, now)

    [card] = slack.top_level(SDR)
    assert (card.text, card.blocks) == ("withdrawn", [])


async def test_rate_limit_waits_exactly_retry_after_and_holds_the_channel(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    slack.faults.inject("chat.postMessage", Fault.rate_limited(retry_after=5))
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})

    first = await drain_once(runtime, now=now, options=FAST)
    early = await drain_once(runtime, now=now + timedelta(seconds=4, microseconds=999_999),
                             options=FAST)  # fmt: skip
    calls_before_retry_after = len(slack.calls("chat.postMessage"))
    due = await drain_once(runtime, now=now + timedelta(seconds=5), options=FAST)

    assert (first.rate_limited, early.claimed, due.sent) == (1, 0, 1)
    assert calls_before_retry_after == 1
    [row] = await rows(runtime.sessions)
    assert (row.status, row.attempts) == ("sent", 1)  # the rate limit did not use up an attempt
    async with runtime.sessions() as session:
        pace = await session.get(ChannelPace, SDR)
    assert pace is not None
    assert pace.next_post_at >= now + timedelta(seconds=5)
    sample = runtime.metrics.registry.get_sample_value
    assert sample("mqlbot_slack_calls_total", {"method": "chat.postMessage",
                                               "outcome": "ratelimited"}) == 1  # fmt: skip


async def test_server_error_backs_off_exponentially_with_jitter(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    slack.faults.inject("chat.postMessage", Fault.server_error(500), count=2)
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
    jitter = random.Random(7)
    expected = [
        backoff_delay(n, base=timedelta(seconds=1), cap=timedelta(minutes=5),
                      jitter=jitter.random())
        for n in (1, 2)
    ]  # fmt: skip

    async with Sender(runtime, FAST, rng=random.Random(7)) as sender:
        await sender.drain_once(now)
        [after_first] = await rows(runtime.sessions)
        second_at = after_first.next_attempt_at
        await sender.drain_once(second_at)
        [after_second] = await rows(runtime.sessions)
        final = await sender.drain_once(after_second.next_attempt_at)

    assert after_first.next_attempt_at == now + expected[0]
    assert after_second.next_attempt_at == second_at + expected[1]
    assert after_second.last_error == "Slack answered 500: internal_error"
    assert final.sent == 1
    assert [m.text for m in slack.top_level(SDR)] == ["a"]


async def test_permanent_error_dead_letters_at_once_with_metric_and_log_line(
    runtime: Runtime,
    slack: Workspace,
    now: datetime,
    caplog: pytest.LogCaptureFixture,
    sqlite_url: str,
    server: StandinServer,
) -> None:
    target = card_target(9)
    post_id = await queue(runtime.sessions, now, "card:9", "post", channel="C_NOPE",
                          target_key=target, payload={"text": "a"})  # fmt: skip
    update_id = await queue(runtime.sessions, now, "card:9:v2", "update", target_key=target,
                            payload={"text": "b", "blocks": card_blocks("b")})  # fmt: skip

    with caplog.at_level(logging.ERROR, logger="bot.sender"):
        await drain_all(runtime, now)

    assert [(r.status, r.attempts, r.last_error) for r in await rows(runtime.sessions)] == [
        ("dead", 1, "channel_not_found"),
        ("dead", 0, f"its target's post (outbox #{post_id}) is dead: channel_not_found"),
    ]
    assert [r.getMessage() for r in caplog.records] == [
        f"outbox #{post_id} (post) dead-lettered: channel_not_found",
        f"outbox #{update_id} (update) dead-lettered: its target's post (outbox #{post_id}) "
        "is dead: channel_not_found",
    ]
    sample = runtime.metrics.registry.get_sample_value
    assert sample("mqlbot_outbox_dead_letters_total", {"kind": "post"}) == 1
    assert sample("mqlbot_outbox_dead_letters_total", {"kind": "update"}) == 1
    assert ok_calls(slack, "chat.update") == []

    # Another replica, started after this one is gone, still shows both dead letters.
    other = make_runtime(sqlite_url, server.base_url)
    try:
        async with Sender(other, FAST) as sender:
            await sender.refresh_depth()
        shown = other.metrics.registry.get_sample_value
        assert shown("mqlbot_outbox_dead", {"kind": "post"}) == 1
        assert shown("mqlbot_outbox_dead", {"kind": "update"}) == 1
        assert shown("mqlbot_outbox_dead", {"kind": "reply"}) == 0
        assert shown("mqlbot_outbox_dead_letters_total", {"kind": "post"}) is None
    finally:
        await other.close()


async def test_invalid_blocks_are_dead_lettered_with_slacks_reason(
    runtime: Runtime, now: datetime
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR,
                payload={"text": "a", "blocks": blocks})  # fmt: skip

    await drain_all(runtime, now)

    [row] = await rows(runtime.sessions)
    assert (row.status, row.last_error) == (
        "dead",
        'invalid_blocks ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]',
    )


async def test_repeated_server_errors_dead_letter_after_max_attempts(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    slack.faults.inject("chat.postMessage", Fault.server_error(503), count=3)
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
    options = SenderOptions(max_attempts=3, backoff_base=timedelta(milliseconds=1))

    await drain_all(runtime, now, options)

    [row] = await rows(runtime.sessions)
    assert (row.status, row.attempts, row.last_error) == (
        "dead", 3, "gave up after 3 attempts: Slack answered 503: service_unavailable",
    )  # fmt: skip
    assert slack.top_level(SDR) == []


async def test_network_errors_are_retried(sqlite_url: str, now: datetime) -> None:
    runtime = make_runtime(sqlite_url, "http://127.0.0.1:9/api/")
    try:
        await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
        report = await drain_once(runtime, now=now, options=FAST)
        [row] = await rows(runtime.sessions)
    finally:
        await runtime.close()
    assert report.retried == 1
    assert row.status == "pending"
    assert row.last_error is not None
    assert row.last_error.startswith("network error: ClientConnectorError")


async def test_in_doubt_post_found_in_the_channel_is_not_posted_again(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
    lost = Sender(runtime, FAST, worker_id="lost")
    await lost.claim(now, 10)  # leased, then the process "dies" after Slack accepted the post
    posted = slack.post_message(
        SDR, text="a",
        metadata={"event_type": "mqlbot_outbox", "event_payload": {MARKER_KEY: "card:1"}},
    )  # fmt: skip

    before_lease_end = await drain_once(runtime, now=now + timedelta(seconds=59), options=FAST)
    report = await drain_once(runtime, now=now + timedelta(seconds=60), options=FAST)

    assert (before_lease_end.claimed, report.recovered) == (0, 1)
    assert ok_calls(slack, "chat.postMessage") == []
    [row] = await rows(runtime.sessions)
    assert (row.status, row.result_ts, row.attempts) == ("sent", posted.ts, 2)


async def test_a_post_whose_answer_timed_out_is_looked_up_not_posted_twice(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    # Slack took the post but its answer came after the client's timeout ("sent, no answer").
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
    slack.faults.inject("chat.postMessage", Fault.answer_lost(1.5))
    options = replace(FAST, http_timeout=0.5, backoff_base=timedelta(seconds=1))

    timed_out = await drain_once(runtime, now=now, options=options)
    again = await drain_once(runtime, now=now + timedelta(seconds=5), options=options)

    assert (timed_out.retried, again.recovered, again.sent) == (1, 1, 0)
    assert [m.text for m in slack.top_level(SDR)] == ["a"]
    [row] = await rows(runtime.sessions)
    assert (row.status, row.result_ts) == ("sent", slack.top_level(SDR)[0].ts)


async def test_an_in_doubt_post_stays_in_doubt_when_the_lookup_fails(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    # The sender died after Slack took the post; the first look at the channel gets a 500.
    await queue(runtime.sessions, now, "card:1", "post", channel=SDR, payload={"text": "a"})
    await Sender(runtime, FAST, worker_id="lost").claim(now, 10)
    slack.post_message(
        SDR, text="a",
        metadata={"event_type": "mqlbot_outbox", "event_payload": {MARKER_KEY: "card:1"}},
    )  # fmt: skip
    slack.faults.inject("conversations.history", Fault.server_error(500))

    failed_lookup = await drain_once(runtime, now=now + timedelta(seconds=60), options=FAST)
    report = await drain_once(runtime, now=now + timedelta(seconds=70), options=FAST)

    assert (failed_lookup.retried, report.recovered, report.sent) == (1, 1, 0)
    assert len(slack.top_level(SDR)) == 1
    assert ok_calls(slack, "chat.postMessage") == []


async def test_a_timed_out_card_update_is_not_counted_lost_when_it_was_applied(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    card = slack.post_message(SDR, text="card")
    mql_id = await add_mql(runtime.sessions, now)
    async with runtime.sessions() as session, session.begin():
        mql = await session.get(Mql, mql_id)
        assert mql is not None
        mql.slack_channel, mql.slack_ts = SDR, card.ts
    await queue(
        runtime.sessions, now, "card:1:v2", "update", target_key=card_target(mql_id),
        mql_id=mql_id, payload={"text": "claimed", "blocks": card_blocks("claimed")},
    )  # fmt: skip
    slack.faults.inject("chat.update", Fault.answer_lost(1.5))
    options = replace(FAST, http_timeout=0.5)

    await drain_once(runtime, now=now, options=options)
    again = await drain_once(runtime, now=now + timedelta(seconds=5), options=options)

    assert again.recovered == 1
    assert len(ok_calls(slack, "chat.update")) == 1


async def test_in_doubt_reply_missing_from_the_thread_is_sent_once(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    target = card_target(3)
    await queue(runtime.sessions, now, "card:3", "post", channel=SDR, target_key=target,
                payload={"text": "card"})  # fmt: skip
    await drain_all(runtime, now)
    await queue(runtime.sessions, now, "card:3:r1", "reply", target_key=target,
                payload={"text": "reminder"})  # fmt: skip
    later = now + timedelta(minutes=1)
    await Sender(runtime, FAST, worker_id="lost").claim(later, 10)  # died before sending

    report = await drain_once(runtime, now=later + timedelta(seconds=60), options=FAST)

    [card] = slack.top_level(SDR)
    assert report.sent == 1
    assert [m.text for m in slack.replies(SDR, card.ts)] == ["reminder"]
    assert len(slack.calls("conversations.replies")) == 1


async def test_dm_opens_the_conversation_then_posts(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    await queue(runtime.sessions, now, "dm:1", "dm", payload={"user": "U_SATO", "text": "hi"})

    await drain_all(runtime, now)

    dm = slack.dm_channel("U_SATO")
    assert dm is not None
    assert [m.text for m in slack.messages(dm.id)] == ["hi"]
    [row] = await rows(runtime.sessions)
    assert (row.status, row.result_channel) == ("sent", dm.id)


async def test_home_tab_is_published(runtime: Runtime, slack: Workspace, now: datetime) -> None:
    view = {"type": "home", "blocks": card_blocks("My MQLs")}
    await queue(runtime.sessions, now, "home:U_SATO:1", "home",
                payload={"user_id": "U_SATO", "view": view})  # fmt: skip

    await drain_all(runtime, now)

    assert slack.home_tabs["U_SATO"].payload["blocks"] == card_blocks("My MQLs")


async def test_upload_shares_the_file_in_the_channel(
    runtime: Runtime, slack: Workspace, now: datetime
) -> None:
    await queue(runtime.sessions, now, "digest:2026-W48:csv", "upload", channel="C_MKT",
                payload={"filename": "digest.csv", "title": "Digest", "content": "a,b\n1,2\n",
                         "initial_comment": "This week"})  # fmt: skip

    await drain_all(runtime, now)

    [upload] = slack.files.values()
    assert (upload.filename, upload.title, upload.content, upload.channels) == (
        "digest.csv", "Digest", b"a,b\n1,2\n", ["C_MKT"],
    )  # fmt: skip
    assert [m.text for m in slack.top_level("C_MKT")] == ["This week"]


async def test_upload_with_a_path_is_refused_clearly(runtime: Runtime, now: datetime) -> None:
    await queue(runtime.sessions, now, "up:1", "upload", channel="C_MKT",
                payload={"filename": "x.csv", "path": "/etc/passwd"})  # fmt: skip

    await drain_all(runtime, now)

    [row] = await rows(runtime.sessions)
    assert (row.status, row.last_error) == (
        "dead", "bad payload: an upload needs content_b64 (base64) or content (text)",
    )  # fmt: skip
