"""Fixtures: the demo page served from a background thread, and headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.bot.demo.page.browser import RunningDemo, chromium, chromium_path, running_demo


@pytest.fixture(scope="module")
def demo() -> Iterator[RunningDemo]:
    with running_demo() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the browser tests: install Debian's chromium (see .ci/run)")
        pytest.skip("no Chromium found (apt-get install chromium, or set MQLBOT_CHROMIUM)")
    with chromium(path) as launched:
        yield launched
