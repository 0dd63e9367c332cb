"""Build slash-command requests exactly as Slack sends them: form-encoded and v0-signed."""

from __future__ import annotations

import json
import time
from typing import Any
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


def click_payload(
    action_id: str = "restore.confirm",
    value: str = '{"db":"orders","from":"b1"}',
    *,
    user_id: str = "U0ABC",
    user_name: str = "example.user",
    channel_id: str = "C0123",
) -> dict[str, Any]:
    """A `block_actions` payload as Slack sends it for a button in an ephemeral message (the fields we read and
    a few we ignore)."""
    return {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "deprecated-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1764400000.000100",
            "channel_id": channel_id,
            "is_ephemeral": True,
        },
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "team": {"id": "T0001", "domain": "example"},
        "channel": {"id": channel_id, "name": "ops"},
        "response_url": "https://hooks.slack.com/actions/T0001/1234/abcd",
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": action_id,
                "text": {"type": "plain_text", "text": "Confirm restore"},
                "value": value,
                "style": "danger",
                "action_ts": "1764400010.000200",
            }
        ],
    }


def click_body(payload: dict[str, Any] | str) -> bytes:
    """The form Slack posts: one field, `payload`, holding the JSON."""
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()


def signed_click(**options: Any) -> tuple[bytes, dict[str, str]]:
    body = click_body(click_payload(**options))
    return body, signed_headers(body)
