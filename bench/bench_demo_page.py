"""Benchmark: `mqlbot demo` from the command to a usable page, and the page with 200 messages.

Run: python bench/bench_demo_page.py [--runs N] [--messages N]
1. Start: `mqlbot demo --port 0` as a user runs it, in its own process, with Chromium already
   open (its own start is not the demo's). Figures per run: until the URL line, and until the
   page shows the first MQL card with its Claim button; plus the demo process's CPU seconds
   until then (getrusage of the child after it stops on Ctrl-C).
2. Load: the demo with a burst of N qualifying leads, i.e. N cards in #inside-sales, opened in a
   fresh browser context per run. Figures from the Navigation Timing API: the HTML's response
   (server render), DOMContentLoaded and the load event; and /parts (what a live update fetches).
Wall-clock figures are noisy on a shared machine: run several times and compare medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.bot.demo.page.browser import chromium, chromium_path, running_demo

MQLBOT = Path(sys.executable).parent / "mqlbot"


def start_once(browser: Any) -> tuple[float, float, float]:
    """(s to the URL line, s to a usable page, CPU s of the demo process) for one start."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [str(MQLBOT), "demo", "--port", "0"], stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        said = time.perf_counter() - began
        url = line.split("open ", 1)[1].split(" ", 1)[0]
        context = browser.new_context()
        page = context.new_page()
        page.goto(url)
        page.locator("article.msg button[data-action]").first.wait_for(timeout=30_000)
        usable = time.perf_counter() - began
        context.close()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return said, usable, cpu


def load_with(browser: Any, messages: int, runs: int) -> None:
    with running_demo() as demo:
        answer = httpx.post(f"{demo.url}control/burst", json={"count": messages}, timeout=120)
        answer.raise_for_status()
        wanted = messages + 4  # the burst's cards and the four sample MQLs
        deadline = time.monotonic() + 10 + messages * 0.5
        while len(demo.page.state.top_level("C_SDR")) < wanted:
            if time.monotonic() > deadline:
                raise SystemExit(f"only {len(demo.page.state.top_level('C_SDR'))} cards posted")
            time.sleep(0.5)
        url = f"{demo.url}?as=U_SATO&c=C_SDR"
        size = len(httpx.get(url).content)
        print(f"\n#inside-sales with {wanted} messages: page {size / 1024:.0f} KiB of HTML")
        rows: dict[str, list[float]] = {"html": [], "dom": [], "load": [], "parts": []}
        for _ in range(runs):
            context = browser.new_context()
            page = context.new_page()
            page.goto(url, wait_until="load")
            shown = page.locator("#pane article.msg").count()
            timing = page.evaluate(
                "() => { const t = performance.getEntriesByType('navigation')[0];"
                " return [t.responseEnd - t.requestStart, t.domContentLoadedEventEnd,"
                " t.loadEventEnd]; }"
            )
            context.close()
            began = time.perf_counter()
            httpx.get(f"{demo.url}parts", params={"as": "U_SATO", "c": "C_SDR"})
            rows["parts"].append((time.perf_counter() - began) * 1000)
            for key, value in zip(("html", "dom", "load"), timing, strict=True):
                rows[key].append(value)
            assert shown >= wanted, f"the page shows {shown} of {wanted} messages"
        labels = {
            "html": "request to last byte of the HTML (server render)",
            "dom": "navigation start to DOMContentLoaded",
            "load": "navigation start to the load event",
            "parts": "GET /parts (a live update's fetch)",
        }
        for key, values in rows.items():
            shown_values = ", ".join(f"{v:.0f}" for v in values)
            print(f"  {labels[key]}: median {statistics.median(values):.0f} ms ({shown_values})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--messages", type=int, default=200)
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        raise SystemExit("no Chromium found: apt-get install chromium (or set MQLBOT_CHROMIUM)")
    with chromium(path) as browser:
        print("`mqlbot demo --port 0` to a usable page (first card's Claim button shown):")
        starts = [start_once(browser) for _ in range(args.runs)]
        for said, usable, cpu in starts:
            print(f"  URL line {said:.2f} s, usable page {usable:.2f} s, demo CPU {cpu:.2f} s")
        print(
            f"  median: URL line {statistics.median(s[0] for s in starts):.2f} s, "
            f"usable page {statistics.median(s[1] for s in starts):.2f} s"
        )
        load_with(browser, args.messages, args.runs)


if __name__ == "__main__":
    main()
