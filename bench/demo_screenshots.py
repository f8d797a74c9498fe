"""Screenshots of the demo page's main screens, taken in headless Chromium.

Run: python bench/demo_screenshots.py [--out DIR]   (default: ./demo-screenshots)
Writes inside-sales.png (cards, one claimed), recycle-modal.png, digest.png (#marketing with the
chart), home.png (an SDR's App Home) and inside-sales-ja.png. Japanese needs a Japanese font
(Debian: apt-get install fonts-ipafont-gothic, or fonts-noto-cjk); the script warns without one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.bot.demo.page.browser import chromium, chromium_path, running_demo

VIEWPORT = {"width": 1280, "height": 820}
WAIT_MS = 20_000


def has_japanese_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    found = subprocess.run([fc_list, ":lang=ja"], capture_output=True, text=True, check=False)
    return bool(found.stdout.strip())


def open_page(browser: Any, url: str, user: str, where: str) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(f"{url}?as={user}&c={where}")
    page.locator("#pane .messages, #pane .home").first.wait_for(timeout=WAIT_MS)
    return page


def card(page: Any, name: str) -> Any:
    return page.locator("article.msg", has=page.locator("h3.b-header", has_text=name))


def take(browser: Any, out: Path) -> list[Path]:
    shots: list[Path] = []
    with running_demo() as demo:
        sdr = open_page(browser, demo.url, "U_SATO", "C_SDR")
        first = card(sdr, "Daniel Kim")
        first.get_by_role("button", name="Claim").click(timeout=WAIT_MS)
        first.get_by_role("button", name="Recycled").wait_for(timeout=WAIT_MS)
        sdr.wait_for_timeout(500)
        shots.append(out / "inside-sales.png")
        sdr.screenshot(path=shots[-1])

        first.get_by_role("button", name="Recycled").click()
        sdr.get_by_role("dialog").wait_for(timeout=WAIT_MS)
        shots.append(out / "recycle-modal.png")
        sdr.screenshot(path=shots[-1])
        sdr.get_by_role("dialog").get_by_role("button", name="Cancel").click()

        home = open_page(browser, demo.url, "U_SATO", "home")
        home.locator(".home").wait_for(timeout=WAIT_MS)
        home.wait_for_timeout(500)
        shots.append(out / "home.png")
        home.screenshot(path=shots[-1])

        marketing = open_page(browser, demo.url, "U_YAMAMOTO", "C_MKT")
        httpx.post(f"{demo.url}control/advance", json={"step": "1w"}, timeout=60)
        marketing.locator("figure.file img").wait_for(timeout=WAIT_MS)
        marketing.wait_for_function("() => document.querySelector('figure.file img').complete")
        marketing.locator("figure.file").scroll_into_view_if_needed()
        shots.append(out / "digest.png")
        marketing.screenshot(path=shots[-1])

        demo.restart("ja")
        ja = open_page(browser, demo.url, "U_TANAKA", "C_SDR")
        ja.get_by_role("button", name="担当する").first.wait_for(timeout=WAIT_MS)
        ja.wait_for_timeout(500)
        shots.append(out / "inside-sales-ja.png")
        ja.screenshot(path=shots[-1])
    return shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-screenshots"))
    args = parser.parse_args()
    path = chromium_path()
    if path is None:
        raise SystemExit("no Chromium found: apt-get install chromium (or set MQLBOT_CHROMIUM)")
    if not has_japanese_font():
        print("warning: no Japanese font installed; Japanese text will show as boxes")
    args.out.mkdir(parents=True, exist_ok=True)
    with chromium(path) as browser:
        for shot in take(browser, args.out):
            print(shot)


if __name__ == "__main__":
    main()
