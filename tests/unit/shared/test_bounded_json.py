"""`shared.bounded_json`: the nesting is measured exactly, in linear time, before `json.loads` could recurse."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.bounded_json import TooDeepError, loads, nesting_depth

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n\u202e', max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\x', max_size=4), inner),
    max_leaves=30,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    return 1 + max(map(depth, value), default=0) if isinstance(value, list) else 0


@given(VALUES, st.booleans())
def test_the_depth_is_exact_whatever_the_strings_hold(value: Any, ascii_only: bool) -> None:
    assert nesting_depth(json.dumps(value, ensure_ascii=ascii_only, indent=1 if ascii_only else None)) == depth(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [('"[[["', 0), ('["\\"[", ["]"]]', 2), ("", 0), ("[" * 5, 5), ('"unterminated [[[', 0), ("]]][", 0)],
)
def test_depth_of_odd_texts(text: str, expected: int) -> None:
    assert nesting_depth(text) == expected


def test_deeper_than_allowed_is_refused_before_parsing() -> None:
    with pytest.raises(TooDeepError, match="nested more than 10 deep"):
        loads("[" * 100_000 + "]" * 100_000, max_depth=10)
    with pytest.raises(TooDeepError):
        loads("[" * 100_000, max_depth=10)
    assert loads("[" * 10 + "]" * 10, max_depth=10) == [[[[[[[[[[]]]]]]]]]]
    assert isinstance(TooDeepError(3), ValueError)  # callers that catch JSONDecodeError's base catch it too


@pytest.mark.parametrize("text", ['"\\"' * 300_000, '"' * 600_000, "[" + '"\\\\' * 200_000, '{"a":' * 200_000])
def test_the_scan_is_linear_on_hostile_texts(text: str) -> None:
    started = time.perf_counter()
    nesting_depth(text)
    assert time.perf_counter() - started < 5  # quadratic would take minutes; generous for a loaded 2-core CI
