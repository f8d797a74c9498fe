"""One soak run: the topology up, load and bad input while the fault schedule fires, then quiet."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psycopg

from bench.soaking.badinput import FORGER, MALLORY, BadInput
from bench.soaking.invariants import Verdict, check, outbox_drained
from bench.soaking.people import People, card_mql_id, labels, shown_owner, until
from bench.soaking.pgcluster import PrivateCluster
from bench.soaking.record import Record
from bench.soaking.tools import LeadPlan, Request, native_headers, send
from bench.soaking.topology import (
    SDR_CHANNEL,
    SDRS,
    TOKEN,
    Replica,
    bot_env,
    config_toml,
    run_cli,
)  # fmt: skip
from bot.standin import Fault, StandinServer, User, Workspace
from handlers.present.actions import ManagerAction

DISPOSITIONS = ("sql", "lead", "recycled", "disqualified")
# What a replica acknowledged this long before its kill -9 may have been lost with it.
KILL_MARGIN = 5.0


@dataclass(frozen=True)
class Profile:
    """How long and how much: the CI profile takes about two minutes, the long one fifteen."""

    name: str
    load_seconds: float
    mqls: int
    kill_every: float  # seconds between kill -9 of a replica (in turn)
    fault_every: float  # seconds between Slack fault stretches


PROFILES = {
    "ci": Profile("ci", load_seconds=70, mqls=80, kill_every=20, fault_every=10),
    "long": Profile("long", load_seconds=840, mqls=600, kill_every=45, fault_every=30),
}


def workspace() -> Workspace:
    ws = Workspace.seeded()
    for user_id in SDRS:
        ws.add_user(User(user_id, user_id.lower(), f"SDR {user_id[5:]}"))
        ws.channel(SDR_CHANNEL).members.append(user_id)
    for user_id in (MALLORY, FORGER):
        ws.add_user(User(user_id, user_id.lower(), user_id.title()))
    ws.channel(SDR_CHANNEL).members.append(MALLORY)
    return ws


class Schedule:
    """The fault schedule, fixed before the run and printed, then fired on time."""

    def __init__(self, profile: Profile) -> None:
        self.items: list[tuple[float, str]] = []
        end = profile.load_seconds
        kinds = ["429 stretch", "500 stretch", "answer lost", "slack down"]
        t, n = 6.0, 0
        while t < end - 5:
            self.items.append((t, kinds[n % len(kinds)]))
            t += profile.fault_every
            n += 1
        t, replica = profile.kill_every * 0.6, 0
        while t < end - 5:
            self.items.append((t, f"kill -9 replica {replica % 3}"))
            t += profile.kill_every
            replica += 1
        self.items.append((end * 0.5, "restart PostgreSQL"))
        self.items.append((end * 0.35, "webhook batch replayed after a client timeout"))
        self.items.append((end * 0.8, "jobs run recycle --at two days ahead, twice at once"))
        self.items.sort()

    def describe(self) -> str:
        return "\n".join(f"  t+{t:5.1f}s  {what}" for t, what in self.items)


class Soak:
    """Runs the scenario; `record` and the database are then judged by bench.soaking.invariants."""

    def __init__(self, profile: Profile, workdir: Path, *, seed: int = 13,
                 say: Callable[[str], None] = print) -> None:  # fmt: skip
        self.profile = profile
        self.workdir = workdir
        self.rng = random.Random(seed)
        self.say = say
        self.record = Record()
        self.schedule = Schedule(profile)
        self.cards: dict[str, int] = {}  # card ts -> MQL id
        self.replicas: list[Replica] = []
        self.pg: PrivateCluster | None = None
        self.standin: StandinServer | None = None
        self.plan = LeadPlan(self.rng, profile.mqls)
        self.env: dict[str, str] = {}
        self.verdicts: list[Verdict] = []
        self._tasks: set[asyncio.Task[None]] = set()

    # ----- topology --------------------------------------------------------------------------

    def pick(self) -> tuple[int, str]:
        """The load balancer: any replica that is up (a dead one refuses the connection)."""
        live = [r for r in self.replicas if r.ready] or self.replicas
        chosen = self.rng.choice(live)
        return chosen.index, chosen.url

    async def run(self) -> None:
        with PrivateCluster() as pg, StandinServer(workspace(), token=TOKEN) as standin:
            self.pg, self.standin = pg, standin
            (self.workdir / "mqlbot.toml").write_text(config_toml(), encoding="utf-8")
            env = bot_env(pg.url, standin.base_url)
            upgraded = run_cli(self.workdir, env, "db", "upgrade")
            if upgraded.returncode != 0:
                raise RuntimeError(f"mqlbot db upgrade failed: {upgraded.stderr}")
            self.replicas = [Replica(i, self.workdir, env) for i in range(3)]
            for replica in self.replicas:
                replica.start()
            for replica in self.replicas:
                await asyncio.to_thread(replica.wait_healthy)
            self.env = env
            self.say("fault schedule:\n" + self.schedule.describe())
            self.record.started = time.time()
            try:
                await self._load(standin)
                await self._quiet()
                self.verdicts = await asyncio.to_thread(check, self, pg.url, standin.state)
            finally:
                for replica in self.replicas:
                    replica.stop()

    # ----- the load --------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # a person's story must not stop the run; it is counted
                self.record.fault(f"driver error: {type(exc).__name__}: {exc}")

        task = asyncio.create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _load(self, standin: StandinServer) -> None:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
        async with httpx.AsyncClient(timeout=30, limits=limits) as http:
            self.people = People(standin.state, self.pick, http, standin.url, self.record,
                                 self.rng)  # fmt: skip
            bad = BadInput(self.people, self.pick, http, self.record, self.rng)
            end = time.monotonic() + self.profile.load_seconds
            await asyncio.gather(
                self._watch_database(end),
                self._feed(http, end),
                # Cards still arriving after the load get their story too (faults are over).
                self._watch_cards(standin.state, end + 20),
                self._faults(http),
                self._bad_input(bad, end),
            )
            # Every story started finishes (each waits for Slack with a bound).
            while self._tasks:
                await asyncio.gather(*list(self._tasks))

    async def _feed(self, http: httpx.AsyncClient, end: float) -> None:
        requests = self.plan.requests
        # Half the run for the stream, the rest lets the last cards be worked under the faults.
        gap = (self.profile.load_seconds * 0.5) / max(1, len(requests))
        for request in requests:
            if time.monotonic() > end:
                break
            self._spawn(self._send(http, request))
            await asyncio.sleep(gap)

    async def _send(self, http: httpx.AsyncClient, request: Request) -> None:
        await send(http, self.pick, self.record, request)  # a 2xx or every retry used

    async def _watch_database(self, end: float) -> None:
        """Every two seconds, what the database's sessions are doing (kept for a post-mortem)."""
        assert self.pg is not None
        url = self.pg.url
        lines: list[str] = []

        def snapshot() -> None:
            try:
                with psycopg.connect(url, connect_timeout=2) as conn:
                    rows = conn.execute(
                        "SELECT state, wait_event_type, wait_event, "
                        "round(extract(epoch FROM now() - xact_start)::numeric, 1), "
                        "left(query, 120) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "ORDER BY xact_start NULLS LAST"
                    ).fetchall()
            except psycopg.Error as exc:
                lines.append(f"t+{self.record.now():.1f} {type(exc).__name__}")
                return
            busy = [r for r in rows if r[0] != "idle"]
            lines.append(f"t+{self.record.now():.1f} sessions {len(rows)}, busy {len(busy)}")
            lines.extend(f"    {r}" for r in busy[:8])

        while time.monotonic() < end:
            await asyncio.to_thread(snapshot)
            await asyncio.sleep(2)
        (self.workdir / "pg_activity.log").write_text("\n".join(lines), encoding="utf-8")

    async def _watch_cards(self, state: Workspace, end: float) -> None:
        while time.monotonic() < end:
            for message in state.top_level(SDR_CHANNEL):
                if message.ts in self.cards or message.user != state.bot_user_id:
                    continue
                mql_id = card_mql_id(state, message.ts)
                if mql_id is None:
                    continue
                self.cards[message.ts] = mql_id
                self._spawn(self._story(message.ts, mql_id))
            await asyncio.sleep(0.1)

    async def _story(self, ts: str, mql_id: int) -> None:
        """What happens to one card: a claim race, then the owner's (or a manager's) doing."""
        people, state, rng = self.people, self.people.state, self.rng
        if rng.random() < 0.08:
            return  # nobody claims it: reminders, then an escalation to the managers
        owner = await self._claimed(ts, mql_id)
        if owner is None:
            return
        await asyncio.sleep(rng.uniform(0.5, 3))
        await people.stale_click(ts, mql_id)
        if rng.random() < 0.1:
            return  # the owner forgets it: the owner is nagged
        if rng.random() < 0.15:  # another SDR tries to close it: refused
            intruder = rng.choice([u for u in SDRS if u != owner])
            await people.disposition(owner, ts, mql_id, "sql", actor=intruder)
        roll = rng.random()
        if roll < 0.12:  # a manager releases it and the race starts again
            if await people.overflow(people.manager(), ts, ManagerAction.RELEASE, mql_id) != 200:
                return
            if not await until(lambda: "Claim" in labels(state, ts)):
                self.record.waits_given_up += 1
                return
            owner = await self._claimed(ts, mql_id)
            if owner is None:
                return
        elif roll < 0.2:  # a manager hands it to someone else
            to = rng.choice([u for u in SDRS if u != owner])
            if await people.reassign(people.manager(), ts, mql_id, to) != 200:
                return
            if not await until(lambda: shown_owner(state, ts) == to):
                self.record.waits_given_up += 1
                return
            owner = to
        outcome = rng.choice(DISPOSITIONS)
        await people.disposition(owner, ts, mql_id, outcome)
        if outcome == "disqualified" and rng.random() < 0.4:
            await asyncio.sleep(rng.uniform(1, 3))
            if not await until(
                lambda: "Disqualified" in str(state.message(SDR_CHANNEL, ts).blocks)
            ):
                return
            await people.overflow(people.manager(), ts, ManagerAction.REOPEN, mql_id)

    async def _claimed(self, ts: str, mql_id: int) -> str | None:
        """A claim round, again if the card still shows Claim (the winning click was lost)."""
        state = self.people.state
        for _ in range(3):
            await self.people.claim_round(ts, mql_id)
            if await until(lambda: shown_owner(state, ts) is not None, within=30):
                return shown_owner(state, ts)
        self.record.waits_given_up += 1
        return None

    async def _bad_input(self, bad: BadInput, end: float) -> None:
        while time.monotonic() < end:
            await asyncio.sleep(self.rng.uniform(0.5, 1.5))
            cards = list(self.cards.items())
            self._spawn(bad.next(cards))

    # ----- faults ----------------------------------------------------------------------------

    async def _faults(self, http: httpx.AsyncClient) -> None:
        start = time.monotonic()
        for at, what in self.schedule.items:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            self.record.fault(what)
            self.say(f"t+{self.record.now():5.1f}s  {what}")
            await self._fire(http, what)

    async def _fire(self, http: httpx.AsyncClient, what: str) -> None:
        assert self.standin is not None
        assert self.pg is not None
        faults = self.standin.state.faults
        if what == "429 stretch":
            faults.inject("chat.postMessage", Fault.rate_limited(2), count=6)
            faults.inject("chat.update", Fault.rate_limited(1), count=4)
        elif what == "500 stretch":
            faults.inject("chat.postMessage", Fault.server_error(500), count=5)
            faults.inject("chat.update", Fault.server_error(503), count=4)
            faults.inject("conversations.history", Fault.server_error(500), count=2)
        elif what == "answer lost":
            faults.inject("chat.postMessage", Fault.answer_lost(25), count=2)
            faults.inject("chat.update", Fault.answer_lost(25), count=1)
        elif what == "slack down":
            faults.down_for(3)
            self.record.unavoidable.append((time.time(), time.time() + 3, what, None))
        elif what.startswith("kill -9"):
            self._spawn(self._kill(self.replicas[int(what.rsplit(" ", 1)[1])]))
        elif what == "restart PostgreSQL":
            began = time.time()
            down = await asyncio.to_thread(self.pg.restart)
            # Connections cut mid-transaction fail until the pools have reconnected.
            self.record.unavoidable.append((began - 1, time.time() + 2, what, None))
            self.say(f"           PostgreSQL was down {down:.2f} s")
        elif what.startswith("webhook batch replayed"):
            self._spawn(self._replay(http))
        elif what.startswith("jobs run recycle"):
            self._spawn(self._jobs_at_once("recycle", ahead=timedelta(days=2)))

    async def _kill(self, replica: Replica) -> None:
        # One replica down at a time: on a slow machine a restart can outlast the kill interval.
        others = [r for r in self.replicas if r is not replica]
        await until(lambda: all(r.ready for r in others), within=120)
        killed = time.time()
        replica.kill()
        self.record.unavoidable.append((killed - KILL_MARGIN, killed, "kill -9", replica.index))
        await asyncio.sleep(2)
        replica.start()
        await asyncio.to_thread(replica.wait_healthy)

    async def _replay(self, http: httpx.AsyncClient) -> None:
        """A tool whose client gives up before the 202 and sends the very same batch again."""
        request = self.plan.filler_batch(400)
        self.record.events_sent.update(request.events)
        _, base = self.pick()
        with contextlib.suppress(httpx.TimeoutException):
            await http.post(base + request.path, content=request.body,
                            headers=native_headers(request.body), timeout=0.005)  # fmt: skip
        response = await send(http, self.pick, self.record, request)
        if response is not None:
            body = response.json()
            self.record.batch_replays.append((len(request.events), body["accepted"],
                                              body["duplicates"]))  # fmt: skip

    async def _jobs_at_once(self, job: str, *, ahead: timedelta | None = None) -> None:
        """The job run twice at once from two processes, now or as if `ahead` from now."""
        args = ["jobs", "run", job]
        if ahead is not None:
            at = (datetime.now(UTC) + ahead).replace(microsecond=0)
            args += ["--at", at.isoformat()]
        results = await asyncio.gather(
            *(asyncio.to_thread(run_cli, self.workdir, self.env, *args) for _ in range(2))
        )
        for result in results:
            self.record.jobs.append((job, (result.stdout or result.stderr).strip()[-300:]))

    # ----- the end ---------------------------------------------------------------------------

    async def _quiet(self) -> None:
        """Faults over: every replica up, a digest, then wait for the outbox to drain."""
        assert self.standin is not None
        self.standin.state.faults.clear()
        for replica in self.replicas:
            if not replica.alive:
                replica.start()
                await asyncio.to_thread(replica.wait_healthy)
        await self._jobs_at_once("digest")
        self.say(f"t+{self.record.now():5.1f}s  load over; waiting for the outbox to drain")
        assert self.pg is not None
        await until(lambda: outbox_drained(self.pg.url if self.pg else ""), within=120)
        # Direct calls (ephemerals, modals) may still be on their way: wait for Slack to go quiet.
        state = self.standin.state
        seen, quiet_since = -1, time.monotonic()
        deadline = time.monotonic() + 60
        while time.monotonic() - quiet_since < 5 and time.monotonic() < deadline:
            calls = len(state.calls())
            if calls != seen:
                seen, quiet_since = calls, time.monotonic()
            await asyncio.sleep(0.5)
