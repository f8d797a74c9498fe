"""The Slack app manifests (HTTP and Socket Mode) and a loader that fills in the request URLs."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

SLACK_PATH = "/slack/events"


def load_manifest(*, socket_mode: bool = False, base_url: str | None = None) -> dict[str, Any]:
    """The manifest as a dict; for HTTP mode, request URLs point at `base_url` when given."""
    name = "manifest.socket.json" if socket_mode else "manifest.json"
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
    if socket_mode or base_url is None:
        return data
    if not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", base_url):
        raise ValueError(f"--url {base_url!r}: Slack needs a public https:// base URL")
    url = base_url.rstrip("/") + SLACK_PATH
    for command in data["features"]["slash_commands"]:
        command["url"] = url
    data["settings"]["event_subscriptions"]["request_url"] = url
    data["settings"]["interactivity"]["request_url"] = url
    return data
