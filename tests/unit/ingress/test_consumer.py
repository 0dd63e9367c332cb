"""The registry: every command the catalog declares reaches a use case, and the event carries the text once read."""

from __future__ import annotations

import json
import time

import pytest

from app import create_app
from chalicelib.approving import publish_or_ask
from chalicelib.consumer import use_case_for
from shared.commands.catalog import CATALOG
from shared.commands.references import resolve
from shared.commands.spec import CommandSpec
from shared.errors import ConfigurationError
from shared.events.models import CommandRequested
from tests.support.events import api_gateway_request
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.ingress import ingress_deps
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, signed_request


@pytest.mark.parametrize("spec", list(CATALOG), ids=CATALOG.names())
def test_every_declared_command_reaches_its_declared_use_case(spec: CommandSpec) -> None:
    if spec.handled_by == "ingress":
        assert spec.runs is not None and use_case_for(spec) is resolve(spec.runs)
    elif spec.confirm is not None:
        assert use_case_for(spec) is resolve(spec.confirm)
    else:
        assert use_case_for(spec) is publish_or_ask  # held first when a rule asks for approval


def test_a_command_answered_here_without_a_use_case_is_a_configuration_error() -> None:
    spec = CommandSpec(name="ping", summary="x", handled_by="ingress")
    with pytest.raises(ConfigurationError, match="declares no `runs`"):
        use_case_for(spec)


def test_the_event_carries_the_text_as_normalized_for_parsing(ingress: Ingress) -> None:
    ingress.send("deploy \u2014client \u201cacme\u201d\u00a0\u2014branch main  ")
    [event] = ingress.publisher.events
    assert isinstance(event, CommandRequested)
    assert event.text == 'deploy --client "acme" --branch main'


class LambdaContext:
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    function_name = "slashops-ingress"


def _lambda_answer(text: str, *, waited_seconds: float, publisher: RecordingPublisher) -> tuple[int, str]:
    """API Gateway's real proxy event (tests/events/) through Chalice's Lambda entry, as in AWS."""
    deps = ingress_deps(publisher=publisher)
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    body, headers = signed_request(text)
    event = api_gateway_request(body, headers, received_at_ms=int((time.time() - waited_seconds) * 1000))
    response = app(event, LambdaContext())
    return response["statusCode"], message_text(json.loads(response["body"]))


def test_an_api_gateway_event_is_answered_through_the_lambda_entry() -> None:
    publisher = RecordingPublisher()
    status, text = _lambda_answer("deploy --client acme --branch main", waited_seconds=0.0, publisher=publisher)
    assert status == 200 and "accepted as" in text
    assert [event.command for event in publisher.events] == ["deploy"]


def test_time_spent_before_the_lambda_ran_counts_against_the_budget() -> None:
    """`requestTimeEpoch` is read from the real event: 2.3 s already gone leaves too little to queue anything."""
    publisher = RecordingPublisher()
    status, text = _lambda_answer("deploy --client acme --branch main", waited_seconds=2.3, publisher=publisher)
    assert status == 200 and "Command not queued" in text
    assert publisher.requested == []
