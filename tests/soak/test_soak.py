"""The CI soak: bench/soak.py --profile ci, the whole bot under load and faults, every invariant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bench.soaking.pgcluster import ClusterUnavailable, find_bindir

ROOT = Path(__file__).resolve().parents[2]
# The CI profile runs about two minutes; far beyond that something hangs.
LIMIT_SECONDS = 600


@pytest.mark.postgres
def test_the_ci_soak_keeps_every_promise(tmp_path: Path) -> None:
    try:
        find_bindir()
    except ClusterUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the soak needs PostgreSQL's server binaries in CI: {exc}")
        pytest.skip(str(exc))
    command = [sys.executable, str(ROOT / "bench" / "soak.py"), "--profile", "ci",
               "--keep", str(tmp_path / "soak")]  # fmt: skip
    # On a timeout the soak is interrupted, not killed: it then stops its replicas and removes
    # its PostgreSQL cluster (a SIGKILL would leave both running).
    with subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as soak:
        try:
            stdout, stderr = soak.communicate(timeout=LIMIT_SECONDS)
        except subprocess.TimeoutExpired:
            soak.send_signal(signal.SIGINT)
            stdout, stderr = soak.communicate(timeout=120)
            pytest.fail(f"the CI soak took over {LIMIT_SECONDS} s\n{stdout}{stderr}")
    result = subprocess.CompletedProcess(command, soak.returncode, stdout, stderr)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report + _logs(tmp_path / "soak")
    assert "every invariant holds" in result.stdout


def _logs(workdir: Path) -> str:
    """The end of each replica's log, to see why an invariant broke."""
    out = []
    for log in sorted(workdir.glob("replica-*.log")):
        out.append(
            f"\n--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-40:])
        )
    return "".join(out)
