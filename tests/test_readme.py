"""The README opens with the two commands, and CI runs the README's test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _code_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", text, flags=re.S)]


def test_readme_opens_with_the_demo_and_the_test_command() -> None:
    blocks = _code_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    demo, tests = blocks[0], blocks[1]
    assert demo.endswith("mqlbot demo")
    assert tests.endswith("python -m pytest")
    assert demo.startswith("python3 -m venv .venv")
    assert tests.startswith("python3 -m venv .venv")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    tests = _code_blocks((ROOT / "README.md").read_text(encoding="utf-8"))[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci.splitlines()


def test_readme_shows_the_japanese_demo_run() -> None:
    blocks = _code_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert "MQLBOT_LOCALE__LANGUAGE=ja .venv/bin/mqlbot demo" in blocks[2:]
