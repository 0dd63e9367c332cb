"""Requests are validated again in the service with the ingress' validators; follow messages round-trip."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.deploy.models import CancelRequest, DeployRequest, FollowMessage


def test_valid_deploy_request_defaults_to_staging() -> None:
    assert DeployRequest.model_validate({"client": "acme", "branch": "release/2.4"}).env == "staging"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"client": "acme", "branch": "a..b"}, "branch"),
        ({"client": "acme", "branch": "feature/.hidden"}, "branch"),
        ({"client": "Acme Corp", "branch": "main"}, "client"),
        ({"client": "acme", "branch": "main", "env": "qa"}, "env"),
        ({"client": "acme"}, "branch"),
    ],
)
def test_invalid_deploy_requests_name_the_field(arguments: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        DeployRequest.model_validate(arguments)
    assert raised.value.errors()[0]["loc"] == (field,)


def test_cancel_request_needs_a_command_id() -> None:
    assert CancelRequest.model_validate({"id": "3f9c2a7d41b0"}).id == "3f9c2a7d41b0"
    with pytest.raises(ValidationError):
        CancelRequest.model_validate({"id": "../etc"})


def test_follow_message_round_trips_and_rejects_other_kinds() -> None:
    message = FollowMessage(command_id="3f9c2a7d41b0", seq=4, failures=1)
    assert FollowMessage.model_validate_json(message.model_dump_json()) == message
    with pytest.raises(ValidationError):
        FollowMessage.model_validate({"kind": "other", "command_id": "x", "seq": 0})
