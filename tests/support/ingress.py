"""The real ingress app driven like Slack drives it, with its dependencies chosen by the test."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalice.test import Client

from chalicelib.deps import IngressDeps
from tests.support.fakes import RecordingPublisher
from tests.support.slack import signed_request

SEED_RULES = json.dumps(
    [
        {"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]},
        {"command": "backup", "channels": ["C0123"]},
        {"command": "restore", "users": ["U0ABC"]},
    ]
)


@dataclass
class Ingress:
    """A Chalice test client over the real app; `deps` may be changed between requests."""

    client: Client
    publisher: RecordingPublisher
    deps: IngressDeps
    ids: list[str] = field(default_factory=list)

    def send(self, text: str, **form: str) -> tuple[int, dict[str, Any]]:
        body, headers = signed_request(text, **form)
        return self.post(body, headers)

    def post(self, body: bytes, headers: dict[str, str], path: str = "/slack/commands") -> tuple[int, dict[str, Any]]:
        """Exactly these bytes and headers (to re-send a signed request as a replay would)."""
        response = self.client.http.post(path, headers=headers, body=body)
        payload = json.loads(response.body) if response.body else {}
        return response.status_code, payload

    def click(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """A signed `block_actions` form to the Interactivity Request URL."""
        return self.post(body, headers, path="/slack/interactions")


def message_text(payload: dict[str, Any]) -> str:
    """Everything a person would read: the fallback text and every block's text."""
    parts = [payload.get("text", "")]
    for block in payload.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements", []):
            shown = element.get("text", "")
            parts.append(shown.get("text", "") if isinstance(shown, dict) else shown)  # a button's label
    return "\n".join(parts)
