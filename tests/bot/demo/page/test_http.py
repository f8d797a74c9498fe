"""The demo page over plain HTTP: what Slack refused shows in the channel; controls check input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.bot.demo.page.browser import RunningDemo


def test_a_post_slack_would_refuse_shows_the_stand_ins_error_in_the_channel(
    demo: RunningDemo,
) -> None:
    demo.restart("en")
    too_many = [{"type": "divider"}] * 51
    answer = httpx.post(
        f"{demo.page.slack.base_url}chat.postMessage",
        headers={"Authorization": "Bearer xoxb-standin"},
        data={"channel": "C_SDR", "text": "x", "blocks": json.dumps(too_many)},
    )
    assert answer.json()["error"] == "invalid_blocks"
    parts = httpx.get(f"{demo.url}parts", params={"as": "U_SATO", "c": "C_SDR"}).json()
    assert "mqlbot tried to post here and Slack refused it" in parts["pane"]
    assert "invalid_blocks" in parts["pane"]
    assert "no more than 50 items allowed" in parts["pane"]
    assert "chat.postMessage" in parts["status"]


def test_controls_refuse_what_does_not_exist_with_a_reason(demo: RunningDemo) -> None:
    cases = {
        "burst": ({"count": 0}, "a burst has 1 to 200 leads, not 0"),
        "advance": ({"step": "1y"}, "step '1y': use one of 20m, 1d, 1w, 90d"),
        "event": ({"lead": "crm-404", "type": "page_visited"}, "no sample lead 'crm-404'"),
        "language": ({"language": "fr"}, "language 'fr': use en or ja"),
    }
    for control, (body, reason) in cases.items():
        answer = httpx.post(f"{demo.url}control/{control}", json=body, timeout=30)
        assert answer.status_code == 400
        assert answer.json() == {"ok": False, "problem": reason}


def test_the_readme_command_prints_the_url_serves_the_page_and_stops_on_ctrl_c() -> None:
    command = [str(Path(sys.executable).parent / "mqlbot"), "demo", "--port", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as process:  # noqa: S603
        assert process.stdout is not None
        line = process.stdout.readline()
        try:
            assert line.startswith("mqlbot demo: open http://127.0.0.1:")
            url = line.split("open ", 1)[1].split(" ", 1)[0]
            page = httpx.get(url, timeout=10)
            assert page.status_code == 200
            assert '<html lang="en">' in page.text
            card = '<h3 class="b-header">佐藤 愛子</h3>'  # a sample lead's card, its name intact
            deadline = time.monotonic() + 15
            while card not in page.text and time.monotonic() < deadline:
                time.sleep(0.2)
                page = httpx.get(url, timeout=10)
            assert card in page.text
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=30) == 0
        assert process.stdout.read() == ""  # one line, nothing else


def _parts(demo: RunningDemo, user: str, where: str) -> dict[str, str]:
    answer = httpx.get(f"{demo.url}parts", params={"as": user, "c": where}, timeout=30)
    assert answer.status_code == 200
    parts: dict[str, str] = answer.json()
    return parts


def _eventually(check: Callable[[], bool], within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_a_slash_command_answers_only_the_person_who_typed_it(demo: RunningDemo) -> None:
    demo.restart("en")
    answer = httpx.post(
        f"{demo.url}command", json={"as": "U_EMILY", "channel": "C_SDR", "command": "/mql help"}
    )
    assert answer.json() == {"ok": True, "status": 200}
    assert _eventually(lambda: "only-you" in _parts(demo, "U_EMILY", "C_SDR")["pane"])
    assert "/mql queue" in _parts(demo, "U_EMILY", "C_SDR")["pane"]
    assert "only-you" not in _parts(demo, "U_SATO", "C_SDR")["pane"]
    refused = httpx.post(
        f"{demo.url}command", json={"as": "U_EMILY", "channel": "C_SDR", "command": "hello"}
    )
    assert refused.status_code == 400
    assert "Only slash commands reach the bot here" in refused.json()["problem"]


def test_opening_home_sends_app_home_opened_and_shows_what_the_bot_published(
    demo: RunningDemo,
) -> None:
    demo.restart("en")
    page = httpx.get(demo.url, params={"as": "U_SUZUKI", "c": "home"}, timeout=30)
    assert page.status_code == 200
    assert _eventually(lambda: 'class="home"' in _parts(demo, "U_SUZUKI", "home")["pane"])
    published = [c.args.get("user_id") for c in demo.page.state.calls("views.publish")]
    assert "U_SUZUKI" in published


def test_a_burst_sends_qualifying_leads_through_the_webhook(demo: RunningDemo) -> None:
    demo.restart("en")
    answer = httpx.post(f"{demo.url}control/burst", json={"count": 3}, timeout=60)
    assert answer.json() == {"ok": True, "result": "202: 12 events, 3 MQLs"}
    assert _eventually(lambda: len(demo.page.state.top_level("C_SDR")) == 7)


def _element(demo: RunningDemo, ts: str, kind: str) -> tuple[str, dict[str, Any]]:
    for index, block in enumerate(demo.page.state.message("C_SDR", ts).blocks):
        for element in block.get("elements", []):
            if element.get("type") == kind:
                return str(block.get("block_id") or f"standin-block-{index}"), element
    raise AssertionError(f"no {kind} on the card")


def test_a_manager_releases_a_claim_from_the_cards_overflow_menu(demo: RunningDemo) -> None:
    demo.restart("en")
    assert _eventually(lambda: len(demo.page.state.top_level("C_SDR")) == 4)
    ts = demo.page.state.top_level("C_SDR")[0].ts
    block_id, claim = _element(demo, ts, "button")
    clicked = {"as": "U_SATO", "channel": "C_SDR", "ts": ts, "block": block_id}
    answer = httpx.post(
        f"{demo.url}act",
        json={**clicked, "action": claim["action_id"], "kind": "button", "value": claim["value"]},
    )
    assert answer.json() == {"ok": True, "status": 200}
    claimed = demo.page.state.message
    assert _eventually(lambda: "<@U_SATO>" in claimed("C_SDR", ts).text)
    block_id, menu = _element(demo, ts, "overflow")
    release = next(o for o in menu["options"] if o["value"].startswith("release"))
    chosen = {"as": "U_SUZUKI", "channel": "C_SDR", "ts": ts, "block": block_id}
    answer = httpx.post(
        f"{demo.url}act",
        json={**chosen, "action": menu["action_id"], "kind": "overflow", "value": release["value"]},
    )
    assert answer.json() == {"ok": True, "status": 200}
    released = "<@U_SUZUKI> released the claim of <@U_SATO>: this MQL is open again."
    messages = demo.page.state.messages
    assert _eventually(lambda: any(m.text == released for m in messages("C_SDR")))
    assert "released the claim of" in _parts(demo, "U_SATO", "C_SDR")["pane"]
    assert _eventually(lambda: _element(demo, ts, "button")[1]["action_id"] == claim["action_id"])
