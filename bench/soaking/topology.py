"""The system under test: `mqlbot serve` replicas against the Slack stand-in and a private PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.soaking.pgcluster import free_port

TOKEN = "xoxb-standin"
SIGNING_SECRET = "soak-signing-secret"
WEBHOOK_SECRET = "soak-webhook-secret"
SEGMENT_SECRET = "soak-segment-secret"
MARKETO_SECRET = "soak-marketo-token"
SDR_CHANNEL = "C_SDR"
MARKETING_CHANNEL = "C_MKT"
MANAGERS = ("U_SUZUKI", "U_JAMES")
SDRS = tuple(f"U_SDR{i:03d}" for i in range(10))
MQLBOT = str(Path(sys.executable).with_name("mqlbot"))


def config_toml() -> str:
    """Round-the-clock business hours and SLA durations in seconds, so that reminders and
    escalations fall due while the run lasts; recycling returns a lead the next day."""
    sdrs = ", ".join(f'"{u}"' for u in SDRS)
    managers = ", ".join(f'"{u}"' for u in MANAGERS)
    return f"""\
[slack]
sdr_channel = "{SDR_CHANNEL}"
marketing_channel = "{MARKETING_CHANNEL}"
sdr_users = [{sdrs}]
managers = [{managers}]

[sla]
timezone = "UTC"
business_hours = "00:00-24:00"
workdays = "mon-sun"
claim_within = "20s"
work_within = "40s"
escalate_after = "50s"

[recycle.reasons]
timing = "1d"
budget = "2d"

[sender]
per_channel_interval = "50ms"
poll_interval = "50ms"

[sources.segment]
enabled = true

[sources.marketo]
enabled = true
"""


@dataclass
class Replica:
    """One `mqlbot serve` process; killed with SIGKILL and started again by the fault schedule."""

    index: int
    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    # The balancer's view: answering its health check (False from the kill until healthy again).
    ready: bool = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        log = (self.workdir / f"replica-{self.index}.log").open("ab")
        command = [MQLBOT, "serve", "--config", str(self.workdir / "mqlbot.toml"),
                   "--port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(
            command, env=self.env, cwd=self.workdir, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.starts += 1

    def wait_healthy(self, within: float = 180.0) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if not self.alive:
                raise RuntimeError(f"replica {self.index} exited: see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    self.ready = True
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"replica {self.index} not healthy within {within:.0f} s")

    @property
    def log_path(self) -> Path:
        return self.workdir / f"replica-{self.index}.log"

    def kill(self) -> None:
        """kill -9: no shutdown, leases and half-done work left as they are."""
        self.ready = False
        if self.process is not None and self.alive:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.alive:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def bot_env(db_url: str, api_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "MQLBOT_DATABASE_URL": db_url,
        "MQLBOT_SLACK_API_URL": api_url,
        "MQLBOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "MQLBOT_SEGMENT_SECRET": SEGMENT_SECRET,
        "MQLBOT_MARKETO_SECRET": MARKETO_SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }


def run_cli(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """One `mqlbot …` command (db upgrade, jobs run) with the replicas' configuration."""
    command = [MQLBOT, *args, "--config", str(workdir / "mqlbot.toml")]
    return subprocess.run(
        command, env=env, cwd=workdir, capture_output=True, text=True, timeout=120
    )
