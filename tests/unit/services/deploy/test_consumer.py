"""Message bodies are decoded once and routed through the registry; malformed ones raise (to reach the DLQ)."""

from __future__ import annotations

import pytest

from services.deploy.consumer import consume, parse_body
from services.deploy.models import FollowMessage
from shared.commands.catalog import CATALOG
from shared.commands.references import resolve
from shared.commands.routing import routes
from shared.events.envelope import MalformedEventError
from shared.events.models import CommandProgress, CommandRequested
from shared.sqs_lambda import SqsMessage
from tests.support.deploy import MemoryDeploy, requested
from tests.support.events import eventbridge_body


@pytest.mark.parametrize(
    "body",
    ["not json", "[1, 2]", '{"detail": {"event": "Nope"}}', '{"kind": "slashops.deploy.follow", "seq": -1}'],
)
def test_malformed_bodies_raise(body: str) -> None:
    with pytest.raises(MalformedEventError):
        consume(SqsMessage(body, "m"), MemoryDeploy().deps)


def test_every_command_routed_to_deploy_has_its_use_case_here() -> None:
    for name in routes()["deploy"]:
        spec = CATALOG.get(name)
        assert spec is not None and spec.runs is not None and spec.runs.startswith("services.deploy.")
        assert callable(resolve(spec.runs))


def test_a_command_the_catalog_routes_elsewhere_is_dropped_unrun() -> None:
    deploy = MemoryDeploy()
    consume(SqsMessage(eventbridge_body(requested("backup", arguments={"db": "orders"})), "m1"), deploy.deps)
    assert deploy.publisher.events == [] and deploy.jenkins.triggered == []


def test_a_body_is_either_a_follow_message_or_an_event() -> None:
    follow = FollowMessage(command_id="3f9c2a7d41b0", seq=2)
    request = requested()
    assert parse_body(follow.model_dump_json()) == follow
    assert parse_body(eventbridge_body(request)) == request


def test_a_deploy_request_starts_a_deploy_and_a_follow_message_follows_it() -> None:
    deploy = MemoryDeploy()
    request = requested()
    consume(SqsMessage(eventbridge_body(request), "m-1"), deploy.deps)
    consume(SqsMessage(deploy.scheduler.pop().model_dump_json(), "f-1"), deploy.deps)
    assert len(deploy.jenkins.triggered) == 1 and deploy.jenkins.calls == ["trigger", "queue_item"]
    claim = deploy.store.get(request.command_id)
    assert claim is not None and (claim.follow_seq, claim.follow_owner) == (1, "f-1")


def test_result_events_and_other_services_commands_are_ignored() -> None:
    deploy = MemoryDeploy()
    progress = CommandProgress(
        command_id="abc123", command="deploy", message="x", source="slashops.deploy", reply_to=requested().reply_to
    )
    backup: CommandRequested = requested("backup", arguments={"db": "orders"})

    consume(SqsMessage(eventbridge_body(progress), "m1"), deploy.deps)
    consume(SqsMessage(eventbridge_body(backup), "m2"), deploy.deps)

    assert deploy.publisher.events == [] and deploy.jenkins.calls == [] and deploy.store.records == {}
