"""Find a JSON array's first element as raw bytes, without parsing (for batched signatures)."""

from __future__ import annotations

_WS = b" \t\r\n"
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_SCALAR_END = frozenset(b" \t\r\n,]}")


def _skip_ws(body: bytes, i: int) -> int:
    while i < len(body) and body[i] in _WS:
        i += 1
    return i


def _string_end(body: bytes, i: int) -> int | None:
    """Index just past the string starting at the quote `body[i]`, or None if unterminated."""
    j = i + 1
    while j < len(body):
        c = body[j]
        if c == _BACKSLASH:
            j += 2
        elif c == _QUOTE:
            return j + 1
        else:
            j += 1
    return None


def _value_end(body: bytes, i: int) -> int | None:
    """Index just past the JSON value starting at `i` (iterative: deep nesting cannot recurse)."""
    if i >= len(body):
        return None
    if body[i] == _QUOTE:
        return _string_end(body, i)
    if body[i] in _OPEN:
        depth, j = 0, i
        while j < len(body):
            c = body[j]
            if c == _QUOTE:
                end = _string_end(body, j)
                if end is None:
                    return None
                j = end
                continue
            if c in _OPEN:
                depth += 1
            elif c in _CLOSE:
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return None
    j = i
    while j < len(body) and body[j] not in _SCALAR_END:
        j += 1
    return j if j > i else None


def first_element_span(body: bytes) -> tuple[int, int] | None:
    """``(start, end)`` of the first element of the top-level array in `body`, else None.

    Only the bracket structure is checked; the caller verifies a MAC over the slice, so a
    malformed element simply fails that check.
    """
    i = _skip_ws(body, 0)
    if i >= len(body) or body[i] != ord("["):
        return None
    start = _skip_ws(body, i + 1)
    if start >= len(body) or body[start] == ord("]"):
        return None
    end = _value_end(body, start)
    if end is None:
        return None
    after = _skip_ws(body, end)
    if after >= len(body) or body[after] not in b",]":
        return None
    return start, end
