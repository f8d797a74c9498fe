"""Block Kit validation with Slack's limits, answering in Slack's `invalid_blocks` wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_SURFACE_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_MODAL_TITLE = 24
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PRIVATE_METADATA = 3000

BLOCK_TYPES = frozenset(
    {
        "actions", "context", "divider", "file", "header", "image", "input", "markdown",
        "rich_text", "section", "video", "call", "table", "context_actions",
    }
)  # fmt: skip
ELEMENT_TYPES = frozenset(
    {
        "button", "checkboxes", "datepicker", "datetimepicker", "email_text_input",
        "external_select", "multi_external_select", "image", "multi_static_select",
        "multi_users_select", "multi_conversations_select", "multi_channels_select",
        "number_input", "overflow", "plain_text_input", "radio_buttons", "rich_text_input",
        "static_select", "timepicker", "url_text_input", "users_select", "conversations_select",
        "channels_select", "workflow_button", "file_input",
    }
)  # fmt: skip
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


def _at(pointer: str) -> str:
    return f" [json-pointer:{pointer}]"


@dataclass
class _Checker:
    """Collects every violation in one surface (message, modal or home tab)."""

    action_ids_per_block: bool
    errors: list[str] = field(default_factory=list)
    block_ids: set[str] = field(default_factory=set)
    action_ids: set[str] = field(default_factory=set)

    def fail(self, message: str, pointer: str) -> None:
        self.errors.append(message + _at(pointer))

    def length(self, value: Any, limit: int, pointer: str, *, minimum: int = 0) -> None:
        if not isinstance(value, str):
            self.fail("must be a string", pointer)
        elif len(value) > limit:
            self.fail(f"must be less than {limit + 1} characters", pointer)
        elif len(value) < minimum:
            self.fail(f"must be at least {minimum} characters", pointer)

    def text(self, obj: Any, pointer: str, limit: int, *, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail("must provide an object (a text object)", pointer)
            return
        kind = obj.get("type")
        if kind not in TEXT_TYPES or (plain_only and kind != "plain_text"):
            expected = "plain_text" if plain_only else "plain_text or mrkdwn"
            self.fail(
                f"must be a valid enum value ({expected} expected, got {kind!r})", pointer + "/type"
            )
        self.length(obj.get("text"), limit, pointer + "/text", minimum=1)

    def ident(self, obj: dict[str, Any], key: str, pointer: str, seen: set[str]) -> None:
        if key not in obj:
            return
        value = obj[key]
        self.length(value, MAX_ID, f"{pointer}/{key}", minimum=1)
        if isinstance(value, str):
            if value in seen:
                self.fail(f"duplicate {key}: {value}", f"{pointer}/{key}")
            seen.add(value)

    def blocks(self, blocks: Any, pointer: str, limit: int) -> None:
        if not isinstance(blocks, list):
            self.fail("must be an array", pointer)
            return
        if len(blocks) > limit:
            self.fail(f"no more than {limit} items allowed", pointer)
        for index, block in enumerate(blocks):
            self.block(block, f"{pointer}/{index}")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict):
            self.fail("must provide an object", pointer)
            return
        kind = block.get("type")
        if kind is None:
            self.fail("missing required field: type", pointer)
            return
        if kind not in BLOCK_TYPES:
            self.fail(f"unsupported type: {kind}", pointer + "/type")
            return
        self.ident(block, "block_id", pointer, self.block_ids)
        if self.action_ids_per_block:
            self.action_ids = set()
        check = getattr(self, f"_block_{kind}", None)
        if check is not None:
            check(block, pointer)

    def _block_section(self, block: dict[str, Any], pointer: str) -> None:
        if "text" not in block and "fields" not in block:
            self.fail("must provide either text or fields", pointer)
        if "text" in block:
            self.text(block["text"], pointer + "/text", MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list):
                self.fail("must be an array", pointer + "/fields")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self.fail(
                        f"no more than {MAX_SECTION_FIELDS} items allowed", pointer + "/fields"
                    )
                for i, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{i}", MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], pointer + "/accessory")

    def _block_header(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("text"), pointer + "/text", MAX_HEADER_TEXT, plain_only=True)

    def _block_actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail("must provide a non-empty array", pointer + "/elements")
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self.fail(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed", pointer + "/elements")
        for i, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{i}")

    def _block_context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail("must provide a non-empty array", pointer + "/elements")
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.fail(f"no more than {MAX_CONTEXT_ELEMENTS} items allowed", pointer + "/elements")
        for i, element in enumerate(elements):
            where = f"{pointer}/elements/{i}"
            if isinstance(element, dict) and element.get("type") == "image":
                self._image(element, where)
            else:
                self.text(element, where, MAX_SECTION_TEXT)

    def _block_image(self, block: dict[str, Any], pointer: str) -> None:
        self._image(block, pointer)
        if "title" in block:
            self.text(block["title"], pointer + "/title", 2000, plain_only=True)

    def _image(self, obj: dict[str, Any], pointer: str) -> None:
        if "image_url" not in obj and "slack_file" not in obj:
            self.fail("missing required field: image_url", pointer)
        self.length(obj.get("alt_text"), 2000, pointer + "/alt_text", minimum=1)

    def _block_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("label"), pointer + "/label", 2000, plain_only=True)
        if "element" not in block:
            self.fail("missing required field: element", pointer)
        else:
            self.element(block["element"], pointer + "/element")
        if "hint" in block:
            self.text(block["hint"], pointer + "/hint", 2000, plain_only=True)

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.fail("must provide an object", pointer)
            return
        kind = element.get("type")
        if kind not in ELEMENT_TYPES:
            self.fail(f"unsupported type: {kind}", pointer + "/type")
            return
        self.ident(element, "action_id", pointer, self.action_ids)
        if kind == "button":
            self.text(element.get("text"), pointer + "/text", MAX_BUTTON_TEXT, plain_only=True)
            if "value" in element:
                self.length(element["value"], MAX_BUTTON_VALUE, pointer + "/value")
            if "url" in element:
                self.length(element["url"], 3000, pointer + "/url")
            if "style" in element and element["style"] not in ("primary", "danger"):
                self.fail("must be a valid enum value (primary or danger)", pointer + "/style")
        if "placeholder" in element:
            self.text(element["placeholder"], pointer + "/placeholder", 150, plain_only=True)
        if isinstance(element.get("options"), list):
            self._options(element["options"], pointer + "/options", kind)

    def _options(self, options: list[Any], pointer: str, kind: str) -> None:
        plain_only = kind not in ("checkboxes", "radio_buttons")
        for i, option in enumerate(options):
            where = f"{pointer}/{i}"
            if not isinstance(option, dict):
                self.fail("must provide an object", where)
                continue
            self.text(option.get("text"), where + "/text", MAX_OPTION_TEXT, plain_only=plain_only)
            self.length(option.get("value"), MAX_OPTION_VALUE, where + "/value", minimum=1)


def message_errors(blocks: Any) -> list[str]:
    """Everything wrong with a message's blocks (empty when Slack would accept them)."""
    checker = _Checker(action_ids_per_block=False)
    if blocks is not None:
        checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.errors


def text_error(text: Any, blocks: Any) -> str | None:
    """The Slack error code for a message's `text`, if any: `no_text` or `msg_too_long`."""
    has_blocks = isinstance(blocks, list) and len(blocks) > 0
    if (text is None or text == "") and not has_blocks:
        return "no_text"
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long"
    return None


def view_errors(view: Any) -> list[str]:
    """Everything wrong with a modal or home tab, pointing into `/view` as Slack does."""
    checker = _Checker(action_ids_per_block=True)
    if not isinstance(view, dict):
        checker.fail("must provide an object", "/view")
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.fail(f"must be a valid enum value (modal or home, got {kind!r})", "/view/type")
    checker.blocks(view.get("blocks"), "/view/blocks", MAX_SURFACE_BLOCKS)
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", MAX_MODAL_TITLE, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                checker.text(view[key], f"/view/{key}", MAX_MODAL_TITLE, plain_only=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and "submit" not in view:
            checker.fail(
                "submit is required when an input block is within the blocks array", "/view/submit"
            )
    for key, limit in (
        ("callback_id", MAX_ID),
        ("external_id", MAX_ID),
        ("private_metadata", MAX_PRIVATE_METADATA),
    ):
        if key in view:
            checker.length(view[key], limit, f"/view/{key}")
    return checker.errors
