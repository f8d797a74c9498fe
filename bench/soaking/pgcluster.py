"""A private PostgreSQL cluster in a temporary directory, on a free loopback port, that we may restart.

The shared server on 5432 must never be restarted, so the soak brings its own: initdb into a
temporary directory (as the ``postgres`` user when we run as root, since PostgreSQL refuses to
run as root), pg_ctl start/restart/stop, and the directory removed at the end.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ClusterUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine (or no user to run them as)."""


def find_bindir() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, or PG_BINDIR."""
    wanted = os.environ.get("PG_BINDIR")
    candidates = (
        [wanted] if wanted else sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version)
    )
    for directory in reversed(candidates):
        path = Path(directory)
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent
    raise ClusterUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH; "
        "install the postgresql package or set PG_BINDIR"
    )


def _version(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateCluster:
    """initdb + pg_ctl on 127.0.0.1:<free port>; ``url`` is a database of our own in it."""

    def __init__(self, database: str = "soak") -> None:
        self.bindir = find_bindir()
        self.database = database
        self.port = free_port()
        self._root = Path(tempfile.mkdtemp(prefix="mqlbot-soak-pg-"))
        self.datadir = self._root / "data"
        self.logfile = self._root / "postgres.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            if shutil.which("runuser") is None:
                raise ClusterUnavailable("running as root without runuser: cannot start PostgreSQL")
            # PostgreSQL refuses to run as root: the postgres user owns the cluster directory.
            shutil.chown(self._root, user="postgres", group="postgres")
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd=self._root)

    def _options(self) -> str:
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._root} "
            "-c max_connections=200 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c shared_buffers=64MB"
        )

    def start(self) -> PrivateCluster:
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self._pg_ctl("start")
        self._psql_create()
        return self

    def _pg_ctl(self, action: str, *extra: str) -> None:
        args = ["-D", str(self.datadir), "-l", str(self.logfile), "-w", "-t", "60"]
        if action in ("start", "restart"):
            args += ["-o", self._options()]
        result = self._run("pg_ctl", action, *args, *extra, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"pg_ctl {action} failed: {result.stderr or result.stdout}")

    def _psql_create(self) -> None:
        import psycopg

        admin = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'CREATE DATABASE "{self.database}"')
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def restart(self) -> float:
        """Stop (fast: every connection is cut) and start again; returns the seconds it was down."""
        began = time.monotonic()
        self._pg_ctl("restart", "-m", "fast")
        self.restarts += 1
        return time.monotonic() - began

    def stop(self) -> None:
        if self.datadir.exists():
            self._run(
                "pg_ctl", "stop", "-D", str(self.datadir), "-m", "immediate", "-w", check=False
            )
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
