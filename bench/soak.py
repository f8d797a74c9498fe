"""Soak: the whole bot under load and faults on PostgreSQL with replicas, then every promise checked.

Run: python bench/soak.py [--profile ci|long] [--seed N] [--keep DIR]
A private PostgreSQL cluster (initdb in a temporary directory, on a free loopback port), three
`mqlbot serve` replicas, the Slack stand-in as the Web API, and a driver that plays the
marketing tools (native, Segment, Marketo) and the people (10 SDRs racing for every card,
owners working their MQLs through the modals, managers releasing, reassigning, reopening).
Faults follow a schedule printed at the start: Slack answering 429 and 5xx, calls that take
effect but whose answer never comes, Slack down, kill -9 of a replica and its restart, one
PostgreSQL restart, a webhook batch sent again after a client timeout; bad input runs all along.
At the end the invariants are checked from the database and the stand-in's record; the exit
status is 1 when any is broken. `ci` takes about two minutes, `long` about fifteen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.soaking.invariants import Verdict
from bench.soaking.pgcluster import ClusterUnavailable
from bench.soaking.scenario import PROFILES, Soak


def table(soak: Soak, verdicts: list[Verdict], seconds: float) -> str:
    r = soak.record
    state = soak.standin.state if soak.standin else None
    calls = state.calls() if state else []
    sent = sum(1 for c in calls if c.method in ("chat.postMessage", "chat.update") and c.status == 200
               and c.error is None)  # fmt: skip
    failed = sum(1 for c in calls if c.status != 200)
    figures = [
        ("profile", f"{soak.profile.name}, {seconds:.0f} s"),
        ("events sent (logical)", f"{len(r.events_sent)}, {r.webhook_retries} tool retries"),
        ("MQL cards", str(len(soak.cards))),
        ("claim clicks", f"{len(r.clicks)} in {r.rounds} rounds"),
        ("modal submissions", str(len(r.submissions))),
        ("manager actions", str(len(r.manager_actions))),
        ("bad requests", str(len(r.refusals))),
        ("faults injected", str(sum(1 for _, w in r.faults if not w.startswith("driver error")))),
        ("Slack writes accepted", str(sent)),
        ("Slack calls failed by faults", str(failed)),
        (
            "replica kills / PostgreSQL restarts",
            f"{sum(x.kills for x in soak.replicas)} / {soak.pg.restarts if soak.pg else 0}",
        ),
        ("driver gave up waiting", str(r.waits_given_up)),
    ]
    width = max(len(k) for k, _ in figures + [(v.name, "") for v in verdicts])
    lines = [f"{k:<{width}}  {v}" for k, v in figures]
    lines.append("")
    for v in verdicts:
        lines.append(f"{v.name:<{width}}  {'ok  ' if v.ok else 'FAIL'}  {v.detail}")
        lines += [f"{'':<{width}}        - {p}" for p in v.problems]
    answers: dict[str, Counter[int]] = {}
    for a in r.answers:
        answers.setdefault(a.what, Counter())[a.status] += 1
    waited: dict[str, list[float]] = {}
    for a in r.answers:
        if a.status:
            waited.setdefault(a.what, []).append(a.seconds)
    lines.append("")
    lines.append(
        "answers by request (HTTP status: count; 0 = no answer), then p50/p99/max seconds:"
    )
    for what, statuses in sorted(answers.items()):
        shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        times = sorted(waited.get(what, [0.0]))
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        spread = f"{times[len(times) // 2]:.2f}/{p99:.2f}/{times[-1]:.2f}"
        lines.append(f"  {what:<{width - 2}}  {shown:<24} {spread}")
    errors = [w for _, w in r.faults if w.startswith("driver error")]
    if errors:
        lines.append(f"driver errors ({len(errors)}): " + "; ".join(errors[:5]))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="ci")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the replicas' logs and configuration in this directory")  # fmt: skip
    args = parser.parse_args(argv)
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="mqlbot-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    soak = Soak(PROFILES[args.profile], workdir, seed=args.seed)
    began = time.monotonic()
    try:
        asyncio.run(soak.run())
    except ClusterUnavailable as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the replicas and the cluster were stopped on the way out
        print("soak: interrupted", file=sys.stderr)
        return 130
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.keep is not None:  # the raw record, for a post-mortem
        state = soak.standin.state if soak.standin else None
        dump = {
            "started": soak.record.started,
            "answers": [a.__dict__ for a in soak.record.answers],
            "clicks": [c.__dict__ for c in soak.record.clicks],
            "faults": soak.record.faults,
            "slack_calls": [(c.method, c.at, c.status, c.error) for c in state.calls()]
            if state
            else [],
            "ephemerals": [(e.user, e.ts, e.text) for e in state.ephemerals("C_SDR")]
            if state
            else [],
        }
        (workdir / "record.json").write_text(json.dumps(dump), encoding="utf-8")
    print()
    print(table(soak, soak.verdicts, time.monotonic() - began))
    broken = [v.name for v in soak.verdicts if not v.ok]
    print()
    print(f"BROKEN: {', '.join(broken)}" if broken else "every invariant holds")
    return 1 if broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
