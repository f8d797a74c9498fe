"""The backfill use case: native events from JSON lines, stored in checkpointed batches that resume.

Every batch goes through the webhook's own transaction (same scoring, same dedupe keys, so an
event the webhook already received counts as a duplicate), and the import's checkpoint (lines
and bytes stored, and the SHA-256 of those bytes) is advanced inside that same transaction: after
Ctrl-C or a crash, a batch and its checkpoint are both stored or neither is. Running the same
import again skips what the checkpoint covers when the input still starts with those exact
bytes, else it starts over, where the stored dedupe keys turn what was stored into duplicates.

A batch with a bad line is never stored. By default the import then stops storing and reads on
only to report the bad lines (up to ``max_errors``), so all of them can be fixed at once and the
same command resumes from the last good batch; with ``skip_invalid`` bad lines are reported and
left out while the rest is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import IO

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.context import Deps
from handlers.ingest.native import NativeEvent, validation_details
from handlers.ingest.webhook import IngestResult, PreparedEvent, prepare, run_transaction
from scoring.statecache import StateCache
from store.engine import SessionFactory
from store.imports import (
    Checkpoint,
    Position,
    advance_checkpoint,
    forget_checkpoint,
    get_checkpoint,
)
from store.writer import Writer

DEFAULT_BATCH = 2000
DEFAULT_MAX_ERRORS = 100
_SKIP_CHUNK = 1 << 20
_EMPTY_DIGEST = hashlib.sha256().hexdigest()
_NO_TOTALS = Position(0, 0, "")


class InputChanged(Exception):
    """A resumed import whose input no longer starts with the bytes stored, and cannot be re-read."""


@dataclass(frozen=True)
class BadLine:
    """One problem of one input line (a line can have several)."""

    line: int
    field: str
    error: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.error}"


@dataclass
class ImportReport:
    """What an import run did; `position` is what the checkpoint holds now (totals of all runs)."""

    name: str
    position: Position
    resumed_at: int = 0  # the line the run started after (0: from the first line)
    restarted: bool = False  # the input differed from the checkpoint: read again from line 1
    lines: int = 0  # lines read by this run
    accepted: int = 0
    duplicates: int = 0
    mqls: int = 0
    bad: list[BadLine] = field(default_factory=list)
    bad_lines: int = 0  # bad lines seen
    unlisted: int = 0  # problems seen but not kept in `bad` (beyond max_errors)
    stopped_at: int | None = None  # the first line of the batch not stored because of a bad line
    finished: bool = False  # the whole input is stored (the checkpoint says so too)


Progress = Callable[[ImportReport], None]


@dataclass
class _Reader:
    """Lines of the input with their numbers, the bytes consumed and their running SHA-256."""

    stream: IO[bytes]
    line: int = 0
    byte_offset: int = 0
    sha: hashlib._Hash = field(default_factory=hashlib.sha256)

    def skip_to(self, position: Position) -> bool:
        """Consume the checkpointed prefix; True when the input starts with exactly those bytes."""
        left = position.byte_offset
        while left:
            chunk = self.stream.read(min(left, _SKIP_CHUNK))
            if not chunk:
                break
            self.sha.update(chunk)
            left -= len(chunk)
        if left or self.sha.hexdigest() != position.digest:
            return False
        self.line, self.byte_offset = position.line, position.byte_offset
        return True

    def rewind(self) -> None:
        """Back to the first line (only for inputs that can seek)."""
        self.stream.seek(0)
        self.line, self.byte_offset, self.sha = 0, 0, hashlib.sha256()

    def take(self, count: int) -> list[tuple[int, bytes]]:
        """Up to `count` non-blank lines with their numbers; fewer only at the end of the input."""
        out: list[tuple[int, bytes]] = []
        raw_lines: list[bytes] = []
        number = self.line
        for raw in self.stream:
            number += 1
            raw_lines.append(raw)
            if raw.strip():
                out.append((number, raw))
                if len(out) == count:
                    break
        data = b"".join(raw_lines)
        self.sha.update(data)
        self.line, self.byte_offset = number, self.byte_offset + len(data)
        return out

    def position(self, done: Position) -> Position:
        return Position(
            self.line,
            self.byte_offset,
            self.sha.hexdigest(),
            done.accepted,
            done.duplicates,
            done.mqls,
        )


def _validate(
    lines: Sequence[tuple[int, bytes]],
    known_types: frozenset[str],
    report: ImportReport,
    limit: int,
) -> list[NativeEvent]:
    """The valid events of these lines; each bad line is noted in the report."""
    context = {"known_types": known_types}
    events: list[NativeEvent] = []
    validate = NativeEvent.model_validate_json
    for number, raw in lines:
        try:
            events.append(validate(raw, context=context))
        except ValidationError as exc:
            report.bad_lines += 1
            for detail in validation_details(exc):
                if len(report.bad) < limit:
                    where = "event" if detail["field"] == "body" else detail["field"]
                    report.bad.append(BadLine(number, where, detail["error"]))
                else:
                    report.unlisted += 1
    return events


class Backfill:
    """One run of a named import over one input stream (see the module docstring)."""

    def __init__(
        self,
        deps: Deps,
        *,
        name: str,
        writer: Writer | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_errors: int = DEFAULT_MAX_ERRORS,
        skip_invalid: bool = False,
        namespace: str = "native",
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self._deps = deps
        self._name = name
        self._writer = writer
        self._batch_size = batch_size
        self._max_errors = max_errors
        self._skip_invalid = skip_invalid
        self._namespace = namespace
        self._states = StateCache()

    async def forget(self) -> None:
        """Drop this import's checkpoint: the next run reads its input from the first line."""
        async with self._deps.sessions() as session, session.begin():
            await forget_checkpoint(session, name=self._name)

    async def run(self, stream: IO[bytes], progress: Progress | None = None) -> ImportReport:
        """Import `stream` from where this import's checkpoint left off; see ImportReport."""
        async with self._deps.sessions() as session:
            checkpoint = await get_checkpoint(session, name=self._name)
        reader = _Reader(stream)
        restarted = not self._resume(reader, checkpoint)
        stored = None if checkpoint is None else checkpoint.position
        report = ImportReport(
            self._name,
            stored or reader.position(Position(0, 0, _EMPTY_DIGEST)),
            resumed_at=reader.line,
            restarted=restarted,
        )
        known = self._deps.config.known_types
        if progress is not None:
            progress(report)
        # While one batch's transaction runs (on SQLite, in the writer's thread), the next batch
        # is read, validated and prepared here.
        storing: asyncio.Task[Position] | None = None
        try:
            while True:
                lines = reader.take(self._batch_size)
                report.lines = reader.line - report.resumed_at
                events = _validate(lines, known, report, self._max_errors)
                if len(events) < len(lines) and not self._skip_invalid:
                    report.stopped_at = report.stopped_at or lines[0][0]
                if report.stopped_at is None:
                    at = reader.position(_NO_TOTALS)
                    items = prepare(events, self._namespace)
                    if storing is not None:
                        stored = await storing
                    storing = asyncio.ensure_future(
                        self._store(items, at, stored, report, final=not lines)
                    )
                elif len(report.bad) >= self._max_errors:
                    break  # nothing more will be stored or listed: stop reading
                if progress is not None:
                    progress(report)
                if not lines:
                    break
        except BaseException:
            if storing is not None:  # a batch read in full is still stored (or rolled back)
                await asyncio.wait({storing})
            raise
        if storing is not None:
            await storing
        report.finished = report.stopped_at is None
        if progress is not None:
            progress(report)
        return report

    def _resume(self, reader: _Reader, checkpoint: Checkpoint | None) -> bool:
        """Skip what the checkpoint covers; False when the input differs and is read from line 1."""
        if checkpoint is None or reader.skip_to(checkpoint.position):
            return True
        if not reader.stream.seekable():
            raise InputChanged(
                f"the input is not the one import {self._name!r} stored up to line"
                f" {checkpoint.position.line}; start it again from the first line (--restart)"
                " or give this import another --name"
            )
        reader.rewind()
        return False

    async def _store(
        self,
        items: list[PreparedEvent],
        at: Position,
        stored: Position | None,
        report: ImportReport,
        *,
        final: bool,
    ) -> Position:
        """Store one batch and move the checkpoint from `stored` to `at`, in one transaction."""
        before = report.position
        moved: list[Position] = []

        async def checkpoint(session: AsyncSession, results: Sequence[IngestResult]) -> None:
            (result,) = results
            to = replace(
                at,
                accepted=before.accepted + result.accepted,
                duplicates=before.duplicates + result.duplicates,
                mqls=before.mqls + len(result.mql_ids),
            )
            await advance_checkpoint(
                session,
                name=self._name,
                previous=stored,
                to=to,
                now=self._deps.clock(),
                finished=final,
            )
            moved[:] = [to]

        (result,) = await self._transaction(items, checkpoint)
        report.position = moved[0]
        report.accepted += result.accepted
        report.duplicates += result.duplicates
        report.mqls += len(result.mql_ids)
        return moved[0]

    async def _transaction(
        self,
        items: list[PreparedEvent],
        also: Callable[[AsyncSession, Sequence[IngestResult]], Awaitable[None]],
    ) -> list[IngestResult]:
        if self._writer is None:
            return await run_transaction(self._deps, [items], self._states, also)

        async def work(sessions: SessionFactory) -> list[IngestResult]:
            deps = replace(self._deps, sessions=sessions)
            return await run_transaction(deps, [items], self._states, also)

        return await self._writer.run(work)
