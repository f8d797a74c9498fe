"""`mqlbot import events`: run a backfill from a file or stdin, with a progress bar on the terminal."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TextIO

from bot.runtime import Runtime
from bot.settings import Settings
from handlers.ingest.backfill import Backfill, ImportReport, InputChanged
from store.imports import get_checkpoint

# Without a terminal (a log file, a pipe), a progress line this often instead of a bar.
PLAIN_EVERY = 10.0
BAR_EVERY = 0.2
BAR_WIDTH = 30


@dataclass(frozen=True)
class ImportOptions:
    """What the command line asked for (see `mqlbot import events --help`)."""

    source: str  # a path, or "-" for stdin
    name: str | None = None
    batch_size: int = 2000
    max_errors: int = 100
    skip_invalid: bool = False
    restart: bool = False
    progress: bool = True


def import_name(source: str, name: str | None) -> str:
    """The checkpoint's name: given, else the file's absolute path, else "stdin"."""
    if name:
        return name
    return "stdin" if source == "-" else f"file:{Path(source).resolve()}"


@dataclass
class ProgressBar:
    """Renders an ImportReport on stderr: a bar on a terminal, a line every few seconds otherwise."""

    out: TextIO
    total_bytes: int | None
    started: float = field(default_factory=time.monotonic)
    _shown: float = 0.0
    _base_offset: int | None = None

    def __call__(self, report: ImportReport) -> None:
        now = time.monotonic()
        tty = self.out.isatty()
        if self._base_offset is None:  # the first call: where this run starts
            self._base_offset = report.position.byte_offset
        if now - self._shown < (BAR_EVERY if tty else PLAIN_EVERY):
            return
        self._shown = now
        text = self.line(report, now)
        self.out.write(f"\r{text}\033[K" if tty else text + "\n")
        self.out.flush()

    def line(self, report: ImportReport, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = (report.accepted + report.duplicates) / elapsed
        counts = f"line {report.position.line:,}  {rate:,.0f} events/s"
        if report.bad_lines:
            counts += f"  {report.bad_lines:,} bad lines"
        if not self.total_bytes:
            return counts
        done = min(report.position.byte_offset / self.total_bytes, 1.0)
        filled = int(done * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        read = report.position.byte_offset - (self._base_offset or 0)
        left = self.total_bytes - report.position.byte_offset
        eta = f"  ETA {_duration(left * elapsed / read)}" if read > 0 else ""
        return f"[{bar}] {done:4.0%}  {counts}{eta}"

    def finish(self, report: ImportReport | None) -> None:
        """Show the final state (a terminal's bar then ends its line)."""
        if report is not None:
            self._shown = 0.0
            self(report)
        if self.out.isatty():
            self.out.write("\n")
            self.out.flush()


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _size(stream: IO[bytes]) -> int | None:
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def summary(report: ImportReport, seconds: float) -> str:
    """The closing line: what this run stored and how fast."""
    events = report.accepted + report.duplicates
    rate = events / seconds if seconds > 0 else 0.0
    start = f", resumed after line {report.resumed_at:,}" if report.resumed_at else ""
    if report.restarted:
        start = ", read again from line 1: the input differs from the one checkpointed"
    return (
        f"imported {report.accepted:,} events ({report.duplicates:,} duplicates,"
        f" {report.mqls:,} new MQLs) from {report.lines:,} lines in {seconds:.1f} s:"
        f" {rate:,.0f} events/s{start}"
    )


async def _run(runtime: Runtime, options: ImportOptions, stream: IO[bytes]) -> ImportReport:
    backfill = Backfill(
        runtime.deps,
        name=import_name(options.source, options.name),
        writer=runtime.writer,
        batch_size=options.batch_size,
        max_errors=options.max_errors,
        skip_invalid=options.skip_invalid,
    )
    if options.restart:
        await backfill.forget()
    bar = ProgressBar(sys.stderr, _size(stream)) if options.progress else None
    report: ImportReport | None = None
    try:
        report = await backfill.run(stream, bar)
        return report
    finally:
        if bar is not None:
            bar.finish(report)
        await runtime.close()


async def _stored_line(settings: Settings, name: str) -> int:
    runtime = Runtime.build(settings)
    try:
        async with runtime.sessions() as session:
            checkpoint = await get_checkpoint(session, name=name)
        return 0 if checkpoint is None else checkpoint.position.line
    finally:
        await runtime.close()


def run_import(settings: Settings, options: ImportOptions) -> int:
    """Run the import; print the summary (stdout) and problems (stderr); the exit status."""
    stream: IO[bytes] = sys.stdin.buffer if options.source == "-" else open(options.source, "rb")  # noqa: SIM115
    started = time.monotonic()
    try:
        report = asyncio.run(_run(Runtime.build(settings), options, stream))
    except InputChanged as exc:
        print(f"mqlbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        line = asyncio.run(_stored_line(settings, import_name(options.source, options.name)))
        print(
            f"\ninterrupted: stored up to line {line:,}; run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    for bad in report.bad:
        print(str(bad), file=sys.stderr)
    print(summary(report, time.monotonic() - started))
    if report.unlisted:
        print(f"{report.unlisted:,} more problems not listed (--max-errors)", file=sys.stderr)
    if report.stopped_at is not None:
        full = len(report.bad) >= options.max_errors
        listed = f" (reading stopped at {len(report.bad)} problems, --max-errors)" if full else ""
        print(
            f"{report.bad_lines:,} bad lines{listed}: nothing stored from line"
            f" {report.stopped_at:,} on (its batch holds the first bad line). Fix them and run"
            f" the same command again: it resumes after line {report.position.line:,}.",
            file=sys.stderr,
        )
        return 1
    if report.bad_lines:
        print(f"{report.bad_lines:,} bad lines left out (--skip-invalid)", file=sys.stderr)
        return 1
    return 0
