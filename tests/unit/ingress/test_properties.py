"""Whatever arrives, the ingress answers 200 with a Slack message or 401, and never raises."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.handler import handle_slash_http
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import SIGNING_SECRET, signed_headers, slash_form

DEPS = ingress_deps()
WORDS = st.sampled_from(
    [
        "deploy",
        "help",
        "backup",
        "restore",
        "--client",
        "--branch",
        "--env",
        "--db",
        "--from",
        "--help",
        "\u2014client",
        "\u201c",
        "\u201d",
        "'",
        '"',
        "<@U1|x>",
        "<#C1|y>",
        "=",
        "--",
        "-h",
        "main",
        "production",
        "\u00a0",
        "\\",
    ]
)
TEXT = st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=12).map(" ".join))


def _answer(body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    answer = handle_slash_http(body, headers, signing_secret=lambda: SIGNING_SECRET, deps=lambda: DEPS)
    return answer.status, answer.body


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(text=TEXT)
def test_any_text_gets_a_slack_message(text: str) -> None:
    body = urlencode(slash_form(text)).encode()
    status, payload = _answer(body, signed_headers(body))
    assert status == 200
    message = json.loads(payload)
    assert message["text"] and message["response_type"] in ("ephemeral", "in_channel")


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=500))
def test_any_signed_body_gets_200(body: bytes) -> None:
    status, payload = _answer(body, signed_headers(body) if _utf8(body) else {})
    assert status in (200, 401)
    if status == 200 and payload:
        assert "text" in json.loads(payload)


@settings(max_examples=200, deadline=None)
@given(
    fields=st.dictionaries(
        st.sampled_from(["team_id", "user_id", "channel_id", "text", "response_url", "ssl_check", "user_name", "x"]),
        st.text(max_size=50),
    )
)
def test_any_form_gets_200(fields: dict[str, str]) -> None:
    body = urlencode(fields).encode()
    status, payload = _answer(body, signed_headers(body))
    assert status == 200
    if payload:
        assert "text" in json.loads(payload)


@settings(max_examples=100, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(["X-Slack-Signature", "X-Slack-Request-Timestamp", "x"]), st.text(max_size=80)
    )
)
def test_any_headers_without_a_valid_signature_get_401(headers: dict[str, str]) -> None:
    status, _ = _answer(urlencode(slash_form("help")).encode(), headers)
    assert status == 401


def _utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
