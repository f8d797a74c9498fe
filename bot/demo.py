"""`mqlbot demo`: the whole bot on SQLite against the local Slack stand-in, with sample leads."""

from __future__ import annotations

from pathlib import Path


def run_demo(*, keep: Path | None = None) -> int:
    """Run the demo to its end; return the exit status."""
    raise NotImplementedError("the demo is assembled once the ingest and card pieces land")
