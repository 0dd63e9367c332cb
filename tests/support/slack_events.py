"""Events API requests as Slack sends them (signed JSON), and a click on the Home tab (no channel, no response_url)."""

from __future__ import annotations

import json
from typing import Any

from tests.support.slack import click_payload, signed_headers


def home_opened(user_id: str = "U0BOB", *, event_id: str = "Ev0HOME0001", tab: str = "home") -> dict[str, Any]:
    """An `app_home_opened` event in its `event_callback` envelope."""
    return {
        "token": "deprecated-verification-token",
        "team_id": "T0001",
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1764400000,
        "event": {
            "type": "app_home_opened",
            "user": user_id,
            "channel": "D0HOME",
            "tab": tab,
            "event_ts": "1764400000.000100",
        },
    }


def event_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode()


def signed_event_headers(body: bytes, *, retry: int | None = None, timestamp: int | None = None) -> dict[str, str]:
    headers = signed_headers(body, timestamp=timestamp) | {"Content-Type": "application/json"}
    if retry is not None:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers


def home_click_payload(action_id: str, value: str, *, user_id: str, user_name: str = "") -> dict[str, Any]:
    """A `block_actions` payload for a button on the Home tab: a `view` container, no channel, no response_url."""
    payload = click_payload(action_id, value, user_id=user_id, user_name=user_name or user_id.lower())
    for absent in ("channel", "response_url"):
        del payload[absent]
    payload["container"] = {"type": "view", "view_id": "V0HOME"}
    payload["view"] = {"id": "V0HOME", "type": "home", "callback_id": "slashops.home", "blocks": []}
    return payload
