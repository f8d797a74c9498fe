"""Block Kit limit checks for the builder tests: the stand-in's validator plus a few stricter rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.standin.limits import message_errors, text_error, view_errors


def _walk(node: Any, pointer: str = "") -> Iterator[tuple[str, Any]]:
    yield pointer, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{index}")


def _extra_errors(surface: Any) -> list[str]:
    errors = []
    for pointer, node in _walk(surface):
        if not isinstance(node, dict):
            continue
        if node.get("type") in ("plain_text", "mrkdwn") and not str(node.get("text", "")).strip():
            errors.append(f"empty text at {pointer}")
        if node.get("type") == "overflow" and not 2 <= len(node.get("options", [])) <= 5:
            errors.append(f"overflow needs 2 to 5 options at {pointer}")
        if node.get("type") == "static_select" and not 1 <= len(node.get("options", [])) <= 100:
            errors.append(f"static_select needs 1 to 100 options at {pointer}")
        if node.get("type") == "section" and "fields" in node and not node["fields"]:
            errors.append(f"empty fields at {pointer}")
    return errors


def message_problems(text: str, blocks: list[dict[str, Any]]) -> list[str]:
    """Everything Slack (or a careful reader of its limits) would refuse in a message."""
    problems = message_errors(blocks) + _extra_errors(blocks)
    if not text.strip():
        problems.append("fallback text is empty")
    error = text_error(text, blocks)
    if error:
        problems.append(error)
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    """Everything Slack would refuse in a modal or home view."""
    return view_errors(view) + _extra_errors(view)


def visible_text(blocks: list[dict[str, Any]]) -> list[str]:
    """Every text a user sees, in order: header, section text and fields, context, buttons."""
    texts = []
    for _, node in _walk(blocks):
        if isinstance(node, dict) and node.get("type") in ("plain_text", "mrkdwn"):
            texts.append(str(node["text"]))
    return texts
