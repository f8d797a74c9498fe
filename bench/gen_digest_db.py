"""Build a digest benchmark database: 1,000,000 leads, 100,000 MQLs, 20,000 opportunities and
10,000,000 events over a year.

Run: python bench/gen_digest_db.py [--url sqlite:///bench/out/digest.db | postgresql://…/mqlbot_bench]
     [--leads N] [--mqls N] [--opportunities N] [--events N] [--end ISO] [--seed N] [--force]

The schema comes from the real migrations. Rows are generated in chunks (numpy for events) and
written with sqlite3 executemany (synchronous=OFF, no journal) or PostgreSQL COPY; events are
generated in (lead, time) order so both event indexes grow at their right edge. Distributions:
weekday/office-hours arrivals, six sources with different conversion, ~120 campaigns with
long-tail popularity, threshold/trigger/external MQLs, scores above the threshold with a long
tail, SQL odds rising with the score band, dispositions with reasons, recycle periods, returns,
and a backlog of forgotten open MQLs; opportunities for most SQLs (a tenth from no MQL), opened
days to weeks after the SQL, won, lost or still open, in JPY, USD and EUR. A PostgreSQL
database that does not exist is created.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.engine import make_url

from store.migrate import upgrade

DEFAULT_URL = f"sqlite:///{Path(__file__).resolve().parent / 'out' / 'digest.db'}"
DEFAULT_END = "2026-11-30T09:00:00+09:00"
CHUNK = 500_000

SOURCES = (  # name, share of leads, base SQL odds of an MQL
    ("website", 0.35, 0.16),
    ("webinar", 0.25, 0.24),
    ("ads", 0.15, 0.08),
    ("seminar", 0.10, 0.30),
    ("event", 0.10, 0.20),
    ("referral", 0.05, 0.40),
)
EVENT_TYPES = (  # type, share, points
    ("email_opened", 0.38, 1),
    ("page_visited", 0.30, 2),
    ("email_clicked", 0.14, 3),
    ("content_downloaded", 0.08, 15),
    ("video_watched", 0.05, 10),
    ("form_submitted", 0.03, 25),
    ("event_attended", 0.02, 30),
)
DISQUALIFY = (("competitor", 3), ("student", 2), ("spam", 2), ("invalid_contact", 2),
              ("existing_customer", 1))  # fmt: skip
RECYCLE = (("timing", 5, 90), ("budget", 3, 120), ("competitor_contract", 2, 180),
           ("no_project", 2, 60))  # fmt: skip
SDRS = tuple(f"U0SDR{n:02d}" for n in range(12))


def sqlite_ts(moment: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for an aware instant (stored as naive UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def office_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A random instant, four times likelier on weekdays 09:00–18:00 Tokyo (00:00–09:00 UTC)."""
    span = (end - start).total_seconds()
    while True:
        moment = start + timedelta(seconds=rng.random() * span)
        office = moment.weekday() < 5 and moment.hour < 9
        if office or rng.random() < 0.25:
            return moment


def campaigns(rng: random.Random, end: datetime) -> dict[tuple[str, str], list[tuple[str, float]]]:
    """(source, "YYYY-MM") → [(campaign name, popularity)]: ten campaigns a month, long-tailed."""
    result: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for month_back in range(14):
        month = (end.replace(day=15) - timedelta(days=30 * month_back)).strftime("%Y-%m")
        for n in range(10):
            source = SOURCES[n % len(SOURCES)][0]
            entry = (f"{month} {source} #{n + 1}", rng.paretovariate(1.2))
            result.setdefault((source, month), []).append(entry)
    return result


def weighted(rng: random.Random, items: Sequence[tuple[Any, ...]], weight: int = 1) -> Any:
    return rng.choices(items, weights=[item[weight] for item in items])[0]


def make_leads(
    rng: random.Random, count: int, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """(id, source, campaign of the lead's first month, created_at) per lead."""
    camps = campaigns(rng, end)
    leads = []
    for n in range(1, count + 1):
        source = weighted(rng, SOURCES)[0]
        created = office_time(rng, start, end)
        pool = camps.get((source, created.strftime("%Y-%m")), [])
        campaign = None
        if pool and rng.random() < 0.9:
            campaign = rng.choices(pool, weights=[c[1] for c in pool])[0][0]
        leads.append((n, source, campaign, created))
    return leads


def make_mqls(
    rng: random.Random, leads: list[tuple[Any, ...]], count: int, end: datetime
) -> list[dict[str, Any]]:
    """``count`` MQL rows; half the recycled leads that returned qualify again later."""
    odds = {name: base for name, _, base in SOURCES}
    mqls: list[dict[str, Any]] = []
    for lead_index in rng.sample(range(len(leads)), k=min(len(leads), int(count * 1.3))):
        lead_id, source, campaign, lead_created = leads[lead_index]
        created = lead_created + timedelta(days=rng.expovariate(1 / 20))
        while created < end and len(mqls) < count:
            row = _mql(rng, len(mqls) + 1, lead_id, source, campaign, created, end, odds)
            if row["state"] in ("open", "claimed"):
                row["open_lead_id"] = lead_id  # at most one: a lead only repeats after a return
            mqls.append(row)
            if row["returned_at"] is None or rng.random() < 0.5:
                break
            created = row["returned_at"] + timedelta(days=rng.expovariate(1 / 10))
        if len(mqls) >= count:
            break
    mqls.sort(key=lambda m: m["created_at"])
    for number, row in enumerate(mqls, start=1):
        row["id"] = number
    return mqls


def _mql(
    rng: random.Random,
    mql_id: int,
    lead_id: int,
    source: str,
    campaign: str | None,
    created: datetime,
    end: datetime,
    odds: dict[str, float],
) -> dict[str, Any]:
    kind = rng.choices(("threshold", "trigger", "external"), weights=(80, 15, 5))[0]
    score = (
        round(rng.uniform(40, 120), 1)
        if kind == "trigger"
        else round(100 + rng.expovariate(1 / 25), 1)
    )
    row: dict[str, Any] = {
        "id": mql_id, "lead_id": lead_id, "open_lead_id": None, "created_at": created,
        "kind": kind, "score": score, "source": source, "campaign": campaign, "state": "open",
        "owner_id": None, "claimed_at": None, "claim_business_seconds": None,
        "disposition_at": None, "disposition_by": None, "reason": None, "recycle_until": None,
        "returned_at": None, "sla_breached": False, "nag_due_at": None,
        "slack_channel": "C0SDR", "slack_ts": f"{int(created.timestamp())}.{mql_id % 1_000_000:06d}",
    }  # fmt: skip
    age = end - created
    forgotten = rng.random() < 0.01
    claim_delay = timedelta(seconds=rng.lognormvariate(7.0, 1.2))  # median ~18 min
    if forgotten or created + claim_delay >= end:
        return row
    row.update(
        state="claimed",
        owner_id=rng.choice(SDRS),
        claimed_at=created + claim_delay,
        # Roughly the business share of the wait (the bench does not replay the calendar).
        claim_business_seconds=int(claim_delay.total_seconds() * (0.9 if age.days else 1.0)),
        sla_breached=claim_delay > timedelta(minutes=15),
    )
    decide_delay = timedelta(seconds=rng.lognormvariate(10.5, 1.0))  # median ~10 h
    if rng.random() < 0.02 or row["claimed_at"] + decide_delay >= end:
        return row
    decided = row["claimed_at"] + decide_delay
    band = 0.6 if score < 100 else 1.0 if score < 125 else 1.3 if score < 150 else 1.6
    sql_odds = min(0.9, odds[source] * band * (1.3 if kind == "trigger" else 1.0))
    roll = rng.random()
    if roll < sql_odds:
        state = "sql"
    elif roll < sql_odds + 0.3:
        state = "lead"
    elif roll < sql_odds + 0.55:
        state = "recycled"
    else:
        state = "disqualified"
    row.update(state=state, disposition_at=decided, disposition_by=row["owner_id"])
    if state == "disqualified":
        row["reason"] = weighted(rng, DISQUALIFY)[0]
    elif state == "recycled":
        reason, _, days = weighted(rng, RECYCLE)
        until = (decided + timedelta(days=days)).date()
        row.update(reason=reason, recycle_until=until)
        if until < end.date():
            row["returned_at"] = datetime(until.year, until.month, until.day, 0, 5, tzinfo=UTC)
    return row


def event_chunks(
    seed: int, leads: list[tuple[Any, ...]], mql_leads: set[int], total: int, end: datetime
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(lead ids, occurred epoch µs, type index, points) in (lead, time) order, chunk by chunk."""
    gen = np.random.default_rng(seed)
    count = len(leads)
    weights = np.where(np.isin(np.arange(1, count + 1), list(mql_leads)), 3.5, 1.0)
    per_lead = gen.multinomial(total, weights / weights.sum())  # exactly `total` events
    created = np.array([int(lead[3].timestamp() * 1_000_000) for lead in leads], dtype=np.int64)
    end_us = int(end.timestamp() * 1_000_000)
    shares = np.array([t[1] for t in EVENT_TYPES])
    points = np.array([t[2] for t in EVENT_TYPES], dtype=np.float64)
    first = 0
    while first < count:
        last = first
        rows = 0
        while last < count and rows < CHUNK:
            rows += int(per_lead[last])
            last += 1
        counts = per_lead[first:last]
        lead_ids = np.repeat(np.arange(first + 1, last + 1, dtype=np.int64), counts)
        start = np.repeat(created[first:last], counts)
        offsets = (gen.random(len(lead_ids)) * (end_us - start)).astype(np.int64)
        occurred = start + offsets
        order = np.lexsort((occurred, lead_ids))
        lead_ids, occurred = lead_ids[order], occurred[order]
        types = gen.choice(len(EVENT_TYPES), size=len(lead_ids), p=shares / shares.sum())
        yield lead_ids, occurred, types, points[types]
        first = last


def us_to_sqlite(values: np.ndarray) -> list[str]:
    text = np.datetime_as_string(values.astype("datetime64[us]"), unit="us")
    return [t.replace("T", " ") for t in text.tolist()]


LEAD_COLS = ("id", "key", "external_id", "email", "name", "company", "title", "source",
             "campaign", "stage", "score", "score_state", "last_activity_at", "created_at",
             "updated_at")  # fmt: skip
MQL_COLS = ("id", "lead_id", "open_lead_id", "previous_mql_id", "created_at", "kind", "reasons",
            "score", "source", "campaign", "state", "owner_id", "claimed_at",
            "claim_business_seconds", "disposition_at", "disposition_by", "reason", "note",
            "next_step", "next_step_on", "recycle_until", "returned_at", "sla_breached",
            "nag_due_at", "slack_channel", "slack_ts", "version", "updated_at")  # fmt: skip
EVENT_COLS = ("id", "dedupe_key", "lead_id", "type", "occurred_at", "received_at", "score",
              "score_delta", "points", "properties")  # fmt: skip


def lead_rows(
    leads: list[tuple[Any, ...]], stages: dict[int, str], ts: Any
) -> Iterator[tuple[Any, ...]]:
    for lead_id, source, campaign, created in leads:
        stamp = ts(created)
        yield (lead_id, f"id:crm-{lead_id:07d}", f"crm-{lead_id:07d}",
               f"lead{lead_id}@example.co.jp", f"Lead {lead_id}", f"Company {lead_id % 50_000}",
               None, source, campaign, stages.get(lead_id, "target"), 0.0, "{}", stamp, stamp,
               stamp)  # fmt: skip


def mql_rows(mqls: list[dict[str, Any]], ts: Any, day: Any, flag: Any) -> Iterator[tuple[Any, ...]]:
    def opt(value: datetime | None) -> Any:
        return None if value is None else ts(value)

    reasons = json.dumps([{"kind": "threshold", "score": 100, "threshold": 100}])
    for m in mqls:
        yield (m["id"], m["lead_id"], m["open_lead_id"], None, ts(m["created_at"]), m["kind"],
               reasons, m["score"], m["source"], m["campaign"], m["state"], m["owner_id"],
               opt(m["claimed_at"]), m["claim_business_seconds"], opt(m["disposition_at"]),
               m["disposition_by"], m["reason"], None, None, None,
               None if m["recycle_until"] is None else day(m["recycle_until"]),
               opt(m["returned_at"]), flag(m["sla_breached"]), None, m["slack_channel"],
               m["slack_ts"], 1, ts(m["created_at"]))  # fmt: skip


def stages_of(mqls: list[dict[str, Any]]) -> dict[int, str]:
    stages: dict[int, str] = {}
    for m in mqls:  # in creation order per lead: the latest MQL decides the stage
        stages[m["lead_id"]] = "mql" if m["state"] in ("open", "claimed") else m["state"]
    return stages


OPP_COLS = ("id", "external_id", "lead_id", "mql_id", "name", "status", "stage", "amount",
            "amount_minor", "currency", "lost_reason", "opened_at", "won_at", "lost_at",
            "last_event_at", "updated_at")  # fmt: skip
CURRENCIES = (("JPY", 0, 6, 3_200_000), ("USD", 2, 3, 32_000), ("EUR", 2, 1, 25_000))


def make_opportunities(
    rng: random.Random, mqls: list[dict[str, Any]], lead_count: int, count: int, end: datetime
) -> list[dict[str, Any]]:
    """``count`` opportunities: nine in ten from SQL MQLs (after the SQL), the rest from no MQL."""
    sqls = [m for m in mqls if m["state"] == "sql" and m["disposition_at"] is not None]
    rows: list[dict[str, Any]] = []
    for n in range(1, count + 1):
        if sqls and rng.random() < 0.9:
            m = rng.choice(sqls)
            lead_id, mql_id = m["lead_id"], m["id"]
            opened = m["disposition_at"] + timedelta(days=rng.expovariate(1 / 12))
        else:
            lead_id, mql_id = rng.randint(1, lead_count), None
            opened = end - timedelta(days=rng.random() * 365)
        if opened >= end:
            opened = end - timedelta(hours=1)
        code, places, _, typical = weighted(rng, CURRENCIES, 2)
        amount = round(rng.lognormvariate(0, 0.8) * typical, places)
        closed = opened + timedelta(days=rng.expovariate(1 / 30))
        status = rng.choices(("won", "lost", "open"), weights=(3, 3, 4))[0]
        if closed >= end:
            status = "open"
        rows.append({
            "id": n, "external_id": f"006BENCH{n:09d}", "lead_id": lead_id, "mql_id": mql_id,
            "name": f"Deal {n}", "status": status, "stage": {"won": "Closed Won",
            "lost": "Closed Lost"}.get(status, "Proposal"), "amount": f"{amount:.{places}f}",
            "amount_minor": round(amount * 10**places), "currency": code,
            "lost_reason": "budget" if status == "lost" else None, "opened_at": opened,
            "won_at": closed if status == "won" else None,
            "lost_at": closed if status == "lost" else None,
            "last_event_at": closed if status != "open" else opened,
            "updated_at": closed if status != "open" else opened,
        })  # fmt: skip
    return rows


def write_opportunities(url: str, rows: list[dict[str, Any]]) -> None:
    """Opportunities in one transaction (sqlite3 executemany or PostgreSQL COPY)."""
    times = ("opened_at", "won_at", "lost_at", "last_event_at", "updated_at")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        conn = sqlite3.connect(parsed.database or "", isolation_level=None)
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO opportunity ({','.join(OPP_COLS)}) VALUES ({marks(OPP_COLS)})",
            (tuple(sqlite_ts(r[c]) if c in times and r[c] else r[c] for c in OPP_COLS)
             for r in rows),
        )  # fmt: skip
        conn.execute("COMMIT")
        conn.close()
        return
    import psycopg

    conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY opportunity ({','.join(OPP_COLS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(tuple(r[c] for c in OPP_COLS))
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('opportunity', 'id'), (SELECT max(id) FROM opportunity))"
        )
        cur.execute("ANALYZE opportunity")


def marks(cols: Sequence[str]) -> str:
    return ",".join("?" * len(cols))


def write_sqlite(path: Path, leads: list[tuple[Any, ...]], mqls: list[dict[str, Any]],
                 events: Iterator[tuple[np.ndarray, ...]]) -> None:  # fmt: skip
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1000000")
    conn.execute("BEGIN")
    conn.executemany(
        f"INSERT INTO lead ({','.join(LEAD_COLS)}) VALUES ({marks(LEAD_COLS)})",
        lead_rows(leads, stages_of(mqls), sqlite_ts),
    )
    conn.executemany(
        f"INSERT INTO mql ({','.join(MQL_COLS)}) VALUES ({marks(MQL_COLS)})",
        mql_rows(mqls, sqlite_ts, date.isoformat, int),
    )
    conn.execute("COMMIT")
    names = [t[0] for t in EVENT_TYPES]
    next_id = 1
    for lead_ids, occurred, types, points in events:
        n = len(lead_ids)
        occurred_text = us_to_sqlite(occurred)
        received_text = us_to_sqlite(occurred + 2_000_000)
        ids = range(next_id, next_id + n)
        conn.execute("BEGIN")
        conn.executemany(
            f"INSERT INTO event ({','.join(EVENT_COLS)}) VALUES ({marks(EVENT_COLS)})",
            zip(ids, (f"bench:{i:09d}" for i in ids), lead_ids.tolist(),
                (names[t] for t in types.tolist()), occurred_text, received_text,
                (None for _ in ids), (None for _ in ids), points.tolist(),
                ("{}" for _ in ids), strict=True),
        )  # fmt: skip
        conn.execute("COMMIT")
        next_id += n
        print(f"  events: {next_id - 1:,}", flush=True)
    conn.close()


def _copy_text(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def write_postgres(conninfo: str, leads: list[tuple[Any, ...]], mqls: list[dict[str, Any]],
                   events: Iterator[tuple[np.ndarray, ...]]) -> None:  # fmt: skip
    import psycopg

    def iso(moment: datetime) -> str:
        return moment.astimezone(UTC).isoformat()

    with psycopg.connect(conninfo) as conn:
        with conn.cursor() as cur:
            for table, cols, rows in (
                ("lead", LEAD_COLS, lead_rows(leads, stages_of(mqls), iso)),
                ("mql", MQL_COLS, mql_rows(mqls, iso, date.isoformat, bool)),
            ):
                with cur.copy(f"COPY {table} ({','.join(cols)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        names = [t[0] for t in EVENT_TYPES]
        next_id = 1
        for lead_ids, occurred, types, points in events:
            n = len(lead_ids)
            occurred_iso = np.datetime_as_string(occurred.astype("datetime64[us]"), unit="us")
            received_iso = np.datetime_as_string(
                (occurred + 2_000_000).astype("datetime64[us]"), unit="us"
            )
            buffer = io.StringIO()
            for i, lead, kind, at, got, pts in zip(
                range(next_id, next_id + n), lead_ids.tolist(), types.tolist(),
                occurred_iso.tolist(), received_iso.tolist(), points.tolist(), strict=True,
            ):  # fmt: skip
                buffer.write(
                    f"{i}\tbench:{i:09d}\t{lead}\t{names[kind]}\t{at}+00\t{got}+00\t\\N\t\\N\t{pts}\t{{}}\n"
                )
            with (
                conn.cursor() as cur,
                cur.copy(f"COPY event ({','.join(EVENT_COLS)}) FROM STDIN") as copy,
            ):
                copy.write(buffer.getvalue())
            conn.commit()
            next_id += n
            print(f"  events: {next_id - 1:,}", flush=True)
        with conn.cursor() as cur:
            for table in ("lead", "mql", "event"):
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # what autovacuum would reach soon after such a load


def prepare(url: str, force: bool) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if path.exists():
            if not force:
                sys.exit(f"{path} exists; pass --force to rebuild it")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import psycopg

        name = parsed.database
        admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if exists and not force:
                sys.exit(f"database {name} exists; pass --force to rebuild it")
            if exists:
                conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--mqls", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--opportunities", type=int, default=20_000)
    parser.add_argument("--end", default=DEFAULT_END, help="the last instant of the year of data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="replace an existing database")
    args = parser.parse_args()
    end = datetime.fromisoformat(args.end).astimezone(UTC)
    start = end - timedelta(days=365)
    began = time.perf_counter()
    prepare(args.url, args.force)
    rng = random.Random(args.seed)
    leads = make_leads(rng, args.leads, start, end)
    mqls = make_mqls(rng, leads, args.mqls, end)
    print(
        f"generated {len(leads):,} leads and {len(mqls):,} MQLs in {time.perf_counter() - began:.1f} s"
    )
    events = event_chunks(args.seed, leads, {m["lead_id"] for m in mqls}, args.events, end)
    parsed = make_url(args.url)
    if parsed.get_backend_name() == "sqlite":
        write_sqlite(Path(parsed.database or ""), leads, mqls, events)
        size = Path(parsed.database or "").stat().st_size
        print(f"database file: {size / 1e9:.2f} GB")
    else:
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        write_postgres(conninfo, leads, mqls, events)
    opportunities = make_opportunities(rng, mqls, len(leads), args.opportunities, end)
    write_opportunities(args.url, opportunities)
    print(f"opportunities: {len(opportunities):,}")
    states: dict[str, int] = {}
    for m in mqls:
        states[m["state"]] = states.get(m["state"], 0) + 1
    print(f"MQL states: {dict(sorted(states.items()))}")
    print(f"done in {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
