"""The HTTP edge's own helpers (the requests through it are in test_app.py and test_properties.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.handler import json_text

PAYLOADS: list[dict[str, Any]] = [
    {"response_type": "ephemeral", "text": "deploy accepted as abc123", "blocks": []},
    {"text": '— é ✓ 🚀 <@U123> & "quoted" \\ \n\t', "blocks": [{"type": "section", "text": {"text": "x"}}]},
    {"replace_original": False, "n": 3, "none": None, "nested": [[1, 2.5], {"a": True}]},
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_message_body_reads_back_as_the_payload(payload: dict[str, Any]) -> None:
    assert json.loads(json_text(payload)) == payload


def test_a_string_utf_8_cannot_encode_falls_back_to_the_standard_library() -> None:
    payload = {"text": "half a pair: \ud800"}  # json.loads of a click's `"\\ud800"` gives such a string
    assert json_text(payload) == json.dumps(payload)
