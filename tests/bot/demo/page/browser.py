"""Harness: the demo page served from a background thread, and Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx

from bot.demo.page import DemoPage
from bot.demo.web import serve_page

T = TypeVar("T")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """Debian's Chromium (or MQLBOT_CHROMIUM); never a browser downloaded by Playwright."""
    configured = os.environ.get("MQLBOT_CHROMIUM")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class RunningDemo:
    """The demo page on a free port; `call` runs a coroutine on the demo's own event loop."""

    url: str
    page: DemoPage
    loop: asyncio.AbstractEventLoop

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

    def restart(self, language: str = "en") -> None:
        """A fresh demo (empty channels, new database, the sample leads) through the control."""
        answer = httpx.post(f"{self.url}control/language", json={"language": language}, timeout=60)
        assert answer.status_code == 200, answer.text


@contextlib.contextmanager
def running_demo(language: str = "en") -> Iterator[RunningDemo]:
    """`mqlbot demo`'s page on a free port, served by a thread with its own event loop."""
    lines: list[str] = []
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"], box["loop"] = stop, asyncio.get_running_loop()

        def say(line: str) -> None:
            lines.append(line)
            ready.set()

        try:
            await serve_page(
                language=language,
                host="127.0.0.1",
                port=0,
                say=say,
                stop=stop,
                opened=lambda page: box.__setitem__("page", page),
            )
        finally:
            ready.set()

    thread = threading.Thread(target=lambda: asyncio.run(main()), name="demo-page", daemon=True)
    thread.start()
    if not ready.wait(60) or not lines:
        raise RuntimeError("the demo page did not start")
    url = lines[0].split("open ", 1)[1].split(" ", 1)[0]
    try:
        yield RunningDemo(url, box["page"], box["loop"])
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(timeout=30)


@contextlib.contextmanager
def chromium(path: str) -> Iterator[Any]:
    """Headless Chromium at `path`, driven by Playwright (which downloads nothing here)."""
    from playwright.sync_api import sync_playwright  # the dev extra has it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
