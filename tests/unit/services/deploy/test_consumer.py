"""Message bodies are routed by shape; malformed ones raise (to reach the DLQ), others' events are ignored."""

from __future__ import annotations

import pytest

from services.deploy.consumer import handle_body
from services.deploy.service import DeployDeps
from shared.events.envelope import MalformedEventError
from tests.support.fakes import RecordingPublisher, StaticConfig


class Unused:
    """A port that must not be touched."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"unexpected call to {name}")


@pytest.fixture
def deps() -> DeployDeps:
    return DeployDeps(
        jenkins=Unused(),  # type: ignore[arg-type]
        store=Unused(),  # type: ignore[arg-type]
        scheduler=Unused(),  # type: ignore[arg-type]
        publisher=RecordingPublisher(),
        config=StaticConfig.from_text('{"command": "deploy"}'),
    )


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"detail": {"event": "Nope"}}', '{"kind": "slashops.deploy.follow", "seq": -1}'],
)
def test_malformed_bodies_raise(deps: DeployDeps, body: str) -> None:
    with pytest.raises(MalformedEventError):
        handle_body(deps, body, message_id="m")


def test_result_events_and_other_services_commands_are_ignored(deps: DeployDeps) -> None:
    progress = (
        '{"detail": {"event": "CommandProgress", "command_id": "abc123", "command": "deploy", "message": "x",'
        ' "source": "slashops.deploy", "reply_to": {"response_url": "u", "channel_id": "C", "user_id": "U"}}}'
    )
    backup = (
        '{"detail": {"event": "CommandRequested", "command_id": "abc123", "command": "backup",'
        ' "arguments": {"db": "orders"}, "actor": {"team_id": "T", "user_id": "U"}, "place": {"channel_id": "C"},'
        ' "reply_to": {"response_url": "u", "channel_id": "C", "user_id": "U"}}}'
    )

    handle_body(deps, progress, message_id="m1")
    handle_body(deps, backup, message_id="m2")

    assert isinstance(deps.publisher, RecordingPublisher) and deps.publisher.events == []
