from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from chalicelib.service import IngressDeps
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.slack import SIGNING_SECRET, signed_request

SEED_RULES = json.dumps(
    [
        {"command": "deploy", "users": ["U0ABC", "example.user"], "channels": ["C0123"]},
        {"command": "backup", "channels": ["C0123"]},
        {"command": "restore", "users": ["U0ABC"]},
    ]
)


@dataclass
class Ingress:
    """A Chalice test client over the real app with fake ports."""

    client: Client
    publisher: RecordingPublisher
    deps: IngressDeps
    ids: list[str] = field(default_factory=list)

    def send(self, text: str, **form: str) -> tuple[int, dict[str, Any]]:
        body, headers = signed_request(text, **form)
        return self.post(body, headers)

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Exactly these bytes and headers (to re-send a signed request as a replay would)."""
        response = self.client.http.post("/slack/commands", headers=headers, body=body)
        payload = json.loads(response.body) if response.body else {}
        return response.status_code, payload


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    publisher = RecordingPublisher()
    deps = IngressDeps(
        config=StaticConfig.from_text(SEED_RULES),
        publisher=publisher,
        new_id=lambda: "c0ffee123456",
        now=lambda: datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def message_text(payload: dict[str, Any]) -> str:
    """Everything a person would read: the fallback text and every block's text."""
    parts = [payload.get("text", "")]
    for block in payload.get("blocks", []):
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(text.get("text", ""))
        for element in block.get("elements", []):
            parts.append(element.get("text", ""))
    return "\n".join(parts)
