"""The promises checked at the end, from the database and from what the stand-in received."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import psycopg

from bench.soaking.badinput import BAD_LEAD, FORGER, MALLORY
from bench.soaking.people import card_mql_id
from bench.soaking.topology import SDR_CHANNEL
from bot.sender import MARKER_KEY
from bot.standin import Workspace
from bot.standin.state import StandinError

if TYPE_CHECKING:
    from bench.soaking.scenario import Soak

ALREADY = re.compile(r"Already claimed by <@(U[A-Z0-9_]+)>")


@dataclass
class Verdict:
    name: str
    ok: bool
    detail: str
    problems: list[str] = field(default_factory=list)


def _rows(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        return list(conn.execute(sql, args).fetchall())


def outbox_drained(url: str) -> bool:
    """Nothing due is left in the outbox (a Home tab refresh waiting its minute is not due)."""
    try:
        [(due,)] = _rows(url, "SELECT count(*) FROM outbox WHERE status = 'pending' "
                              "AND next_attempt_at <= now() + interval '1 second'")  # fmt: skip
    except psycopg.Error:
        return False
    return bool(due == 0)


def _verdict(name: str, problems: list[str], detail: str) -> Verdict:
    # A few of each kind, so that one flood does not hide another kind of problem.
    shown: list[str] = []
    kinds: Counter[str] = Counter()
    for problem in problems:
        kind = re.sub(r"[0-9]+|U_[A-Z0-9]+|id:\S+", "#", problem)
        kinds[kind] += 1
        if kinds[kind] <= 3:
            shown.append(problem)
    return Verdict(name, not problems, detail, shown)


def check(soak: Soak, url: str, state: Workspace) -> list[Verdict]:
    record = soak.record
    out: list[Verdict] = []

    # 1. Every event acknowledged with a 2xx is stored once; nothing of a refused body is.
    [(events,)] = _rows(url, "SELECT count(*) FROM event")
    [(bad_leads,)] = _rows(url, "SELECT count(*) FROM lead WHERE key LIKE %s", f"%{BAD_LEAD}%")
    problems = []
    if events != len(record.events_acked):
        problems.append(f"{events} events stored, {len(record.events_acked)} acknowledged")
    if unacked := record.events_sent - record.events_acked:
        problems.append(f"{len(unacked)} events never got a 2xx, e.g. {sorted(unacked)[:3]}")
    if bad_leads:
        problems.append(f"{bad_leads} leads stored from refused bodies")
    for size, accepted, duplicates in record.batch_replays:
        if accepted + duplicates != size:
            problems.append(f"replayed batch of {size}: {accepted} accepted + {duplicates} dup")
    out.append(_verdict("events stored once", problems,
                        f"{events} stored, {len(record.batch_replays)} batch replayed"))  # fmt: skip

    # 2. Every lead over the threshold has one MQL open at a time and each MQL one card.
    mqls = _rows(url, "SELECT m.id, l.key, m.state, m.owner_id, m.slack_ts, m.open_lead_id "
                      "FROM mql m JOIN lead l ON l.id = m.lead_id")  # fmt: skip
    by_lead = Counter(key for _, key, *_ in mqls)
    problems = [f"lead {k} never became an MQL" for k in soak.plan.qualifying if not by_lead[k]]
    problems += [f"cold lead {k} became an MQL" for k in soak.plan.below if by_lead[k]]
    open_per_lead = Counter(key for _, key, st, *_ in mqls if st in ("open", "claimed"))
    problems += [f"lead {k} has {n} open MQLs" for k, n in open_per_lead.items() if n > 1]
    cards: dict[int, list[str]] = defaultdict(list)
    for message in state.top_level(SDR_CHANNEL):
        if message.user == state.bot_user_id and (mql_id := card_mql_id(state, message.ts)):
            cards[mql_id].append(message.ts)
    for mql_id, _, _, _, slack_ts, _ in mqls:
        if len(cards[mql_id]) != 1:
            problems.append(f"MQL {mql_id} has {len(cards[mql_id])} cards"
                            + _post_history(url, state, record.started, mql_id))  # fmt: skip
        elif slack_ts != cards[mql_id][0]:
            problems.append(f"MQL {mql_id} points at {slack_ts}, its card is {cards[mql_id][0]}")
    out.append(_verdict("one MQL and one card per lead", problems,
                        f"{len(mqls)} MQLs, {sum(map(len, cards.values()))} cards"))  # fmt: skip

    # 3. One owner per claim; every losing clicker told who won.
    audit = _rows(url, "SELECT mql_id, at, actor, action, from_state, to_state, detail "
                       "FROM audit ORDER BY mql_id, id")  # fmt: skip
    problems = []
    claims: dict[int, list[tuple[float, str]]] = defaultdict(list)
    owner: dict[int, str | None] = {}
    for mql_id, at, actor, action, *_ in audit:
        if action == "claim":
            if owner.get(mql_id):
                problems.append(f"MQL {mql_id} claimed by {actor} while {owner[mql_id]} owned it")
            owner[mql_id] = actor
            claims[mql_id].append((at.timestamp(), actor))
        elif action == "release":
            owner[mql_id] = None
    # Each losing click (once per round and clicker) must be answered by an ephemeral naming
    # the owner, sent after the click: matched in time order, per clicker.
    excused = 0
    lost: dict[tuple[int, str], float] = {}
    began: dict[int, float] = {}
    for click in record.clicks:
        began[click.round_id] = min(click.at, began.get(click.round_id, click.at))
    for click in record.clicks:
        winner = _winner(
            claims[click.mql_id], click.at, began[click.round_id] if click.round_id else None
        )
        if click.status != 200 or winner in (None, click.user):
            continue
        if record.excused(click.at, click.replica):
            excused += 1
            continue
        key = (click.round_id or -len(lost), click.user)  # stale clicks each count
        lost.setdefault(key, click.at)
    told = _told(state, ALREADY)
    unanswered = _unmatched({(u, at) for (_, u), at in lost.items()}, told)
    problems += [f"{user} lost a claim at t+{at - record.started:.1f}s and was never told"
                 for user, at in unanswered]  # fmt: skip
    out.append(_verdict("one owner; losers told", problems,
                        f"{len(record.clicks)} clicks in {record.rounds} rounds, "
                        f"{len(lost)} lost, {len(lost) - len(unanswered)} told, "
                        f"{excused} excused"))  # fmt: skip

    # 4. No Slack message twice (by its outbox marker), none lost (sent or dead-lettered).
    markers: Counter[str] = Counter()
    for channel in state.channels:
        for message in state.messages(channel):
            key = ((message.metadata or {}).get("event_payload") or {}).get(MARKER_KEY)
            if key and message.user == state.bot_user_id:
                markers[str(key)] += 1
    problems = [f"{key} is in Slack {n} times" for key, n in markers.items() if n > 1]
    status = dict(_rows(url, "SELECT status, count(*) FROM outbox GROUP BY status"))
    [(due,)] = _rows(url, "SELECT count(*) FROM outbox WHERE status = 'pending' "
                          "AND next_attempt_at <= now()")  # fmt: skip
    if due:
        problems.append(f"{due} outbox rows still due, not sent")
    # A card's marker is replaced by each update's; replies and DMs keep theirs.
    posted = _rows(url, "SELECT dedupe_key, kind, result_channel, result_ts FROM outbox "
                        "WHERE status = 'sent' AND kind IN ('post', 'reply', 'dm')")  # fmt: skip
    for key, kind, channel, ts in posted:
        if not _in_slack(state, channel, ts) or (kind != "post" and not markers[key]):
            problems.append(f"{key} marked sent as {channel}/{ts} but not in Slack")
    dead = status.get("dead", 0)
    # Every live replica reports the database's count: the largest answer is the total.
    shown = _metric_max(soak, "mqlbot_outbox_dead{")
    if dead and shown < dead:
        problems.append(f"{dead} dead letters in the outbox, /metrics shows {shown:.0f}")
    out.append(_verdict("no message twice, none lost", problems,
                        f"{status.get('sent', 0)} sent, {dead} dead, "
                        f"{status.get('pending', 0)} scheduled later, "
                        f"{status.get('superseded', 0)} superseded"))  # fmt: skip

    # 5. Every reminder level at most once per MQL; every scheduled slot run once.
    problems = [f"MQL {m} got {stage} level {lvl} {n} times" for m, stage, lvl, n in _rows(
        url, "SELECT mql_id, stage, level, count(*) FROM reminder "
             "GROUP BY mql_id, stage, level HAVING count(*) > 1")]  # fmt: skip
    [(reminders,)] = _rows(url, "SELECT count(*) FROM reminder")
    slots = _rows(url, "SELECT job, slot, count(*), min(status) FROM job_run GROUP BY job, slot")
    problems += [f"{job} slot {slot} ran {n} times" for job, slot, n, _ in slots if n > 1]
    problems += [f"{job} slot {slot} is {st}" for job, slot, _, st in slots
                 if st != "done" and job != "nag"]  # fmt: skip
    by_job = Counter(job for job, *_ in slots)
    if not by_job["nag"]:
        problems.append("the nag job never ran")
    if by_job["digest"] != 1 or by_job["recycle"] < 1:
        problems.append(f"digest ran in {by_job['digest']} slots, recycle in {by_job['recycle']}")
    # Each job was run twice at once from two processes: one ran it, the other found it taken.
    runs: dict[str, list[str]] = defaultdict(list)
    for job, summary in record.jobs:
        try:
            runs[job].append(str(json.loads(summary.splitlines()[-1]).get("outcome")))
        except (ValueError, IndexError, AttributeError):
            runs[job].append(f"unreadable: {summary[:80]}")
    problems += [f"{job} run twice at once: {sorted(outcomes)}" for job, outcomes in runs.items()
                 if sorted(outcomes) != ["done", "skipped"]]  # fmt: skip
    escalations = sum(1 for m in state.messages(SDR_CHANNEL) if m.is_reply and "<@U_SUZUKI>" in m.text
                      and "<@U_JAMES>" in m.text)  # fmt: skip
    out.append(_verdict("reminders once, slots once", problems,
                        f"{reminders} reminders ({escalations} escalations), "
                        + ", ".join(f"{j} {n}" for j, n in sorted(by_job.items()))))  # fmt: skip

    # 6. Disposition history complete in the audit trail; refused actors changed nothing.
    problems = []
    done = [(m, a, t, r) for m, a, _, st, r, t in record.submissions if st == 200]
    dispositions = defaultdict(list)
    for mql_id, at, actor, action, _, to_state, _ in audit:
        if action == "disposition":
            dispositions[mql_id].append((at.timestamp(), actor, to_state))
    # An accepted submission is in the audit trail, or its author was told why not.
    answered = _told(state, None)
    pending = []
    for mql_id, actor, at, replica in done:
        if any(a == actor and t >= at - 1 for t, a, _ in dispositions[mql_id]):
            continue
        if not record.excused(at, replica):
            pending.append((actor, at, mql_id))
    refused = _unmatched({(a, t) for a, t, _ in pending}, answered)
    problems += [f"MQL {m}: {a}'s disposition at t+{t - record.started:.1f}s is neither in the "
                 "audit nor refused" for a, t, m in pending if (a, t) in refused]  # fmt: skip
    final = {m: st for m, _, st, *_ in mqls}
    for mql_id in dispositions:
        last = [e for e in audit if e[0] == mql_id][-1]
        if last[3] == "disposition" and final[mql_id] != last[5]:
            problems.append(f"MQL {mql_id} is {final[mql_id]}, its last disposition {last[5]}")
    owners_ever = {(m, a) for m, _, a, act, *_ in audit if act == "claim"}
    owners_ever |= {(m, (d or {}).get("to") or "") for m, _, _, act, _, _, d in audit
                    if act == "reassign"}  # fmt: skip
    # The nag's escalation may hand an unclaimed card to an SDR: that SDR owns it from then on.
    owners_ever |= {(m, (d or {}).get("owner") or "") for m, _, _, act, _, _, d in audit
                    if act == "auto_assign"}  # fmt: skip
    for mql_id, intruder, _ in record.intrusions:
        if (mql_id, intruder) in owners_ever:
            continue
        if any(a == intruder for _, a, _ in dispositions[mql_id]):
            problems.append(f"MQL {mql_id}: non-owner {intruder}'s disposition was applied")
    bad_actors = [e for e in audit if e[2] in (MALLORY, FORGER)]
    problems += [f"{e[2]} did {e[3]} on MQL {e[0]}" for e in bad_actors]
    problems += [f"MQL {m} owned by {o}" for m, _, _, o, *_ in mqls if o in (MALLORY, FORGER)]
    forged_seen = [e for e in state.ephemerals(SDR_CHANNEL) if e.user == FORGER]
    if forged_seen:
        problems.append(f"forged requests were processed ({len(forged_seen)} answers to {FORGER})")
    out.append(_verdict("disposition history complete", problems,
                        f"{len(done)} accepted, {sum(map(len, dispositions.values()))} in audit, "
                        f"{len(record.intrusions)} non-owner attempts"))  # fmt: skip

    # 7. Bad input refused with the right status (and explained); no 5xx outside a fault that
    # made it unavoidable.
    problems = [f"{r.what}: {r.got}, expected {r.expected}" for r in record.refusals
                if r.got != r.expected]  # fmt: skip
    for text in {t for _, _, t in record.must_tell}:
        asks = {(u, at) for u, at, t in record.must_tell if t == text
                and not record.excused(at)}  # fmt: skip
        told_text = _told(state, re.compile(re.escape(text)))
        problems += [f"{u} was not told {text!r} after bad input at t+{at - record.started:.1f}s"
                     for u, at in _unmatched(asks, told_text)]  # fmt: skip
    server_errors = [a for a in record.answers if a.status >= 500]
    problems += [f"{a.what} answered {a.status} by replica {a.replica} at t+"
                 f"{a.at - record.started:.1f}s" for a in server_errors
                 if not record.excused(a.at, a.replica)]  # fmt: skip
    out.append(_verdict("bad input refused, no 5xx", problems,
                        f"{len(record.refusals)} refused, {len(server_errors)} 5xx "
                        f"(all during faults)" if not problems else
                        f"{len(record.refusals)} refused, {len(server_errors)} 5xx"))  # fmt: skip
    return out


def _post_history(url: str, state: Workspace, started: float, mql_id: int) -> str:
    """Why a card may be there twice: its outbox row and the stand-in's chat.postMessage calls."""
    rows = _rows(url, "SELECT dedupe_key, status, attempts, last_error, in_doubt_since, result_ts "
                      "FROM outbox WHERE kind = 'post' AND mql_id = %s", mql_id)  # fmt: skip
    calls = [f"t+{c.at - started:.1f}s {c.status} {c.error or 'ok'}"
             for c in state.calls("chat.postMessage")
             if re.search(rf"card:{mql_id}['\"]", str(c.args.get("metadata")))]  # fmt: skip
    return f" (outbox {rows}; chat.postMessage calls {calls})"


def _in_slack(state: Workspace, channel: str | None, ts: str | None) -> bool:
    try:
        state.message(channel or "", ts or "")
    except StandinError:
        return False
    return True


def _told(state: Workspace, pattern: re.Pattern[str] | None) -> dict[str, list[float]]:
    """When each user was shown an ephemeral in the SDR channel (matching `pattern`)."""
    told: dict[str, list[float]] = defaultdict(list)
    for ephemeral in state.ephemerals(SDR_CHANNEL):
        if pattern is None or pattern.search(ephemeral.text):
            told[ephemeral.user].append(float(ephemeral.ts))
    return told


def _unmatched(
    asks: set[tuple[str, float]], told: dict[str, list[float]]
) -> list[tuple[str, float]]:
    """The (user, time) asks no answer came for: each answer after an ask answers one ask."""
    missing = []
    for user in {u for u, _ in asks}:
        answers = sorted(told.get(user, []))
        for at in sorted(t for u, t in asks if u == user):
            later = next((i for i, t in enumerate(answers) if t >= at - 0.5), None)
            if later is None:
                missing.append((user, at))
            else:
                del answers[: later + 1]
    return sorted(missing, key=lambda m: m[1])


def _winner(claims: list[tuple[float, str]], at: float, round_began: float | None) -> str | None:
    """Who won the race a click took part in: the first claim once its round began; for a
    click on a stale card, the claim it came too late for."""
    if round_began is not None:
        after = [who for t, who in claims if t >= round_began - 0.5]
        return after[0] if after else None
    before = [who for t, who in claims if t <= at]
    return before[-1] if before else None


def _metric_max(soak: Soak, name: str) -> float:
    """A gauge every replica reads from the database: the summed kinds of the freshest one."""
    best = 0.0
    for replica in soak.replicas:
        try:
            text = httpx.get(f"{replica.url}/metrics", timeout=5).text
        except httpx.TransportError:
            continue
        lines = [line for line in text.splitlines() if line.startswith(name)]
        best = max(best, sum(float(line.rsplit(" ", 1)[1]) for line in lines))
    return best
