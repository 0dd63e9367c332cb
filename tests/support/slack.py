"""Build slash-command requests exactly as Slack sends them: form-encoded and v0-signed."""

from __future__ import annotations

import time
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def slash_form(text: str = "help", **overrides: str) -> dict[str, str]:
    form = {
        "token": "deprecated-verification-token",
        "team_id": "T0001",
        "team_domain": "example",
        "channel_id": "C0123",
        "channel_name": "ops",
        "user_id": "U0ABC",
        "user_name": "example.user",
        "command": "/ops",
        "text": text,
        "api_app_id": "A0001",
        "response_url": "https://hooks.slack.com/commands/T0001/1234/abcd",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
    form.update(overrides)
    return form


def signed_headers(body: bytes | str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


def signed_request(text: str = "help", **overrides: str) -> tuple[bytes, dict[str, str]]:
    body = urlencode(slash_form(text, **overrides)).encode()
    return body, signed_headers(body)
