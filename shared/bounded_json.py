"""JSON from outside, its nesting measured before the parser sees it: no input reaches the recursion limit.

`json.loads` recurses once per level of nesting, so `[[[[…` 100,000 deep raises `RecursionError`, which no caller
expects from a parser. `loads` refuses anything nested deeper than `max_depth` with `TooDeepError` (a `ValueError`,
like `json.JSONDecodeError`) after a scan at regex speed; `nesting_depth` is that scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from itertools import accumulate
from typing import Any

# A string (its closing quote optional, so that an unterminated one cannot make the search backtrack) or a bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"?|([\[\]{}])', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class TooDeepError(ValueError):
    """The text nests arrays and objects deeper than allowed; it was not parsed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested more than {limit} deep")
        self.limit = limit


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in `text` (brackets inside strings do not count).

    Exact for valid JSON, and never below the depth `json.loads` would reach before it finds an error.
    """
    brackets = "".join(_TOKENS.findall(text))
    return max(accumulate(map(_STEP.__getitem__, brackets), initial=0))


def loads(text: str, *, max_depth: int, object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None) -> Any:
    """`json.loads(text)`, or `TooDeepError` if it nests deeper than `max_depth` (checked first)."""
    if text.count("[") + text.count("{") > max_depth and nesting_depth(text) > max_depth:
        raise TooDeepError(max_depth)
    return json.loads(text, object_pairs_hook=object_pairs_hook)
