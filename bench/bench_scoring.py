"""Benchmark of the pure scoring core: events applied per second in one process (goal ≥ 200,000/s).

Run: python bench/bench_scoring.py [--events N] [--leads N] [--seed N]
1,000,000 events over 10,000 leads by default: mixed types with negative points, some external
scores, trigger sequences, inactivity gaps, ~10% out-of-order arrivals and ~1% retries. Events are built
before the clock starts (the ingest builds them anyway); the figure is for apply_event alone,
including the per-lead state lookup. A second figure includes building the events.

The prebuilt events and the other leads' states stand in for the database; a real ingest
process never holds them. So that Python's cyclic collector does not rescan a million of
them over and over, they are moved out of its reach with gc.freeze() before the clock starts
(the engine itself creates no reference cycles). `--plain-gc` measures without that.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import sys
import time
import timeit
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.engine import LeadScoreState, ScoredEvent, apply_event
from scoring.rules import ScoringRules, TriggerRule, TriggerStep

RULES = ScoringRules(
    points={
        "email_opened": 1,
        "email_clicked": 3,
        "page_visited": 2,
        "content_downloaded": 15,
        "video_watched": 10,
        "form_submitted": 25,
        "event_attended": 30,
        "unsubscribed": -50,
        "score_changed": 0,
    },
    threshold=100,
    triggers=(
        TriggerRule(
            "demo then pricing",
            (
                TriggerStep("video_watched", {"video": "demo"}),
                TriggerStep("page_visited", {"url": "/pricing"}),
            ),
            timedelta(hours=72),
        ),
        TriggerRule(
            "webinar, guide, contact",
            (
                TriggerStep("event_attended", {}),
                TriggerStep("content_downloaded", {"asset": "guide"}),
                TriggerStep("form_submitted", {"form": "contact"}),
            ),
            timedelta(days=14),
        ),
    ),
)
START = datetime(2026, 1, 1, tzinfo=UTC)
KINDS: tuple[tuple[str, int, dict[str, str]], ...] = (
    ("email_opened", 30, {"email": "newsletter"}),
    ("email_clicked", 12, {"email": "newsletter"}),
    ("page_visited", 25, {"url": "https://example.com/blog/ma"}),
    ("page_visited", 6, {"url": "https://example.com/pricing"}),
    ("content_downloaded", 6, {"asset": "MA guide"}),
    ("video_watched", 5, {"video": "Product demo"}),
    ("form_submitted", 3, {"form": "contact"}),
    ("event_attended", 3, {"event": "webinar"}),
    ("unsubscribed", 1, {}),
    ("score_changed", 9, {}),
)
TYPES = [k for k, weight, _ in KINDS for _ in range(weight)]
PROPS_BY_INDEX = [p for k, weight, p in KINDS for _ in range(weight)]


# What a webhook request carries for one event: key, type, occurred_at, properties, score, delta.
Raw = tuple[str, str, datetime, dict[str, str], float | None, float | None]


def lead_events(rng: random.Random, lead: int, count: int) -> list[tuple[str, Raw]]:
    """One lead's events in arrival order: mostly in time order, ~10% arriving late."""
    at = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 30))
    events: list[Raw] = []
    for n in range(count):
        # Mostly minutes to hours apart; now and then a quiet month that resets the score.
        gap = (
            timedelta(days=35)
            if rng.random() < 0.01
            else timedelta(minutes=rng.expovariate(1 / 300))
        )
        at += gap
        index = rng.randrange(len(TYPES))
        event_type = TYPES[index]
        score = score_delta = None
        if event_type == "score_changed":
            if rng.random() < 0.5:
                score = float(rng.randrange(0, 150))
            else:
                score_delta = float(rng.randrange(-10, 30))
        events.append((f"L{lead}-E{n}", event_type, at, PROPS_BY_INDEX[index], score, score_delta))
    # Out-of-order arrival: swap ~10% of events with a neighbour up to 5 places later.
    for i in range(count):
        if rng.random() < 0.1:
            j = min(count - 1, i + rng.randrange(1, 6))
            events[i], events[j] = events[j], events[i]
    # Retries: ~1% of events arrive a second time a little later (they replace another event,
    # so the total stays --events).
    for i in range(count - 3):
        if rng.random() < 0.01:
            events[i + 3] = events[i]
    return [(f"L{lead}", e) for e in events]


def build(rng: random.Random, leads: range, per_lead: int) -> list[tuple[str, ScoredEvent]]:
    """Events of a group of leads, interleaved across leads as a webhook would see them, and
    built in arrival order as a webhook would build them."""
    streams = [lead_events(rng, lead, per_lead) for lead in leads]
    arrivals: list[tuple[str, Raw]] = []
    positions = [0] * len(streams)
    live = list(range(len(streams)))
    while live:
        pick = rng.randrange(len(live))
        s = live[pick]
        arrivals.append(streams[s][positions[s]])
        positions[s] += 1
        if positions[s] == len(streams[s]):
            live[pick] = live[-1]
            live.pop()
    return [
        (lead, ScoredEvent(key, kind, at, props, score, delta, label=kind))
        for lead, (key, kind, at, props, score, delta) in arrivals
    ]


def round_trips(states: list[LeadScoreState], repeat: int, freeze: bool) -> tuple[float, float]:
    """Stored-state round trips per second as the webhook does them per lead and batch:
    from_json of the stored value, then to_json of the state; and the same with the JSON text
    the database column decodes and encodes around them (best of `repeat` runs)."""
    stored = [state.to_json() for state in states]
    texts = [json.dumps(data) for data in stored]
    if freeze:
        gc.freeze()  # the stored values stand in for the database, as the events do above
    rates = []
    for with_text in (False, True):
        best = float("inf")
        for _ in range(repeat):
            began = time.process_time()
            if with_text:
                for text in texts:
                    json.dumps(LeadScoreState.from_json(json.loads(text)).to_json())
            else:
                for data in stored:
                    LeadScoreState.from_json(data).to_json()
            best = min(best, time.process_time() - began)
        rates.append(len(states) / best)
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="runs per chunk; the best counts")
    parser.add_argument("--plain-gc", action="store_true", help="do not gc.freeze() the inputs")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    per_lead = args.events // args.leads
    group = max(1, 100_000 // per_lead)  # build and apply in chunks to bound memory

    states: dict[str, LeadScoreState] = {}
    empty = LeadScoreState.empty()
    applied = qualified = triggers = ignored = 0
    build_seconds = 0.0
    wall = {"interleaved": 0.0, "grouped": 0.0}
    cpu = {"interleaved": 0.0, "grouped": 0.0}
    for first in range(0, args.leads, group):
        began = time.perf_counter()
        batch = build(rng, range(first, min(args.leads, first + group)), per_lead)
        build_seconds += time.perf_counter() - began
        if not args.plain_gc:
            gc.freeze()

        # Best of --repeat runs of the same chunk from the same starting states: on a shared
        # machine the best run is the one least disturbed by other work. Two orders: events
        # interleaved across leads as they arrive, and grouped by lead (arrival order kept
        # within a lead) as the webhook applies a batch: one lead's state stays in the cache.
        by_lead = sorted(batch, key=lambda pair: pair[0])
        starting = dict(states)
        for name, order in (("interleaved", batch), ("grouped", by_lead)):
            best_wall = best_cpu = float("inf")
            for _ in range(args.repeat):
                run_states = dict(starting)
                counts = [0, 0, 0]
                began = time.perf_counter()
                began_cpu = time.process_time()
                get = run_states.get
                for lead, event in order:
                    result = apply_event(get(lead, empty), event, RULES)
                    run_states[lead] = result.state
                    q = result.qualification
                    if q is not None:
                        counts[0] += 1
                        if q.kind == "trigger":
                            counts[1] += 1
                    if result.ignored:
                        counts[2] += 1
                best_wall = min(best_wall, time.perf_counter() - began)
                best_cpu = min(best_cpu, time.process_time() - began_cpu)
            wall[name] += best_wall
            cpu[name] += best_cpu
            if name == "interleaved":
                states = run_states
                qualified += counts[0]
                triggers += counts[1]
                ignored += counts[2]
        applied += len(batch)

    gc.unfreeze()
    # The size as stored: the JSON text the database column holds.
    sizes = sorted(len(json.dumps(s.to_json())) for s in states.values())
    plain, with_text = round_trips(list(states.values()), args.repeat, not args.plain_gc)
    gc.unfreeze()
    print(f"events applied:          {applied:,} over {len(states):,} leads")
    print(f"qualifications:          {qualified:,} ({triggers:,} by trigger), ignored {ignored:,}")
    gc_mode = "plain gc" if args.plain_gc else "inputs gc-frozen"
    print(f"apply_event, best of {args.repeat} runs, {gc_mode}:")
    for name, what in (
        ("interleaved", "interleaved across leads (arrival order)"),
        ("grouped", "grouped by lead (as a webhook batch is applied)"),
    ):
        print(
            f"  {what:48s} {applied / wall[name]:>9,.0f} events/s wall, "
            f"{applied / cpu[name]:>9,.0f} per CPU second"
        )
    print(
        f"with building the events: {applied / (wall['interleaved'] + build_seconds):,.0f} "
        f"events/s wall (building {build_seconds:.2f} s)"
    )
    print(f"state JSON size:         median {sizes[len(sizes) // 2]:,} B, max {sizes[-1]:,} B")
    print(
        f"state round trips:       {plain:,.0f}/s from_json + to_json "
        f"({1e6 / plain:.1f} µs), {with_text:,.0f}/s with json.dumps + json.loads "
        f"({1e6 / with_text:.1f} µs), per CPU second"
    )
    for name in wall:
        rate = applied / cpu[name]
        print(
            f"goal ≥ 200,000 events/s ({name}, per CPU second): {'met' if rate >= 200_000 else 'NOT met'}"
        )
    # A yardstick for comparing machines (and how busy this one is right now).
    yardstick = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"yardstick sum(range(1000)): {yardstick:.1f} µs, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
