"""The raw-bytes scanner that finds a JSON array's first element."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.ingest.sources.rawjson import first_element_span

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@pytest.mark.parametrize(
    ("body", "first"),
    [
        (b'[{"a":"]"},2]', b'{"a":"]"}'),
        (b'[ "x\\"]", 1 ]', b'"x\\"]"'),
        (b"[\n  [1,[2]] ,3]", b"[1,[2]]"),
        (b"[12.5e3]", b"12.5e3"),
        (b" [true , false]", b"true"),
        (b'[{"k":"\\\\"}]', b'{"k":"\\\\"}'),
    ],
)
def test_first_element_is_sliced_exactly(body: bytes, first: bytes) -> None:
    span = first_element_span(body)
    assert span is not None
    assert body[span[0] : span[1]] == first


@pytest.mark.parametrize(
    "body", [b"", b"{}", b"[]", b"[ ]", b'["open', b"[{]", b"[1 2]", b"[1", b"x[1]"]
)
def test_no_first_element(body: bytes) -> None:
    assert first_element_span(body) is None


@given(st.lists(json_values, min_size=1, max_size=4), st.booleans())
def test_any_encoded_array_gives_back_its_first_element(items: list[object], pretty: bool) -> None:
    body = json.dumps(items, indent=2 if pretty else None).encode()
    span = first_element_span(body)
    assert span is not None
    assert json.loads(body[span[0] : span[1]]) == items[0]


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_crash(body: bytes) -> None:
    span = first_element_span(body)
    assert span is None or 0 < span[0] < span[1] <= len(body)
