"""Issue 19, finding 1, replayed as an attacker would: names presented as identities, and another workspace.

Each case is a signed request through the real ingress (`chalice.test.Client` over `create_app`, fake ports): a
slash command or an Approve click whose *name* fields claim someone the rules admit, a channel calling itself by
an allowed channel's name, a request from another team than the pinned one. None may run anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from shared.events.models import CommandRequested
from tests.reliability.tally import Tally
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.names import MemoryNameDirectory
from tests.support.ingress import Ingress, message_text
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers
from tools.cli.send import held_for_approval

CONFIG = json.dumps(
    {
        "access": [
            {"command": "deploy", "users": ["U0ALICE", "carol"], "channels": ["#deploys"]},
            {"command": "deploy", "users": ["U0ALICE"], "arguments": {"env": ["production"]},
             "approval": {"users": ["U0APPROVER", "carol"]}},
            {"command": "status"},
        ],
        "slack": {"team_id": "T0001"},
    }
)  # fmt: skip
SLACK = MemoryNameDirectory().user("U0CAROL", "carol").channel("C0DEPLOYS", "deploys")


@pytest.fixture
def ingress() -> Iterator[Ingress]:
    publisher = RecordingPublisher()
    deps = ingress_deps(config=StaticConfig.from_text(CONFIG), publisher=publisher, names=SLACK)
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)
    with Client(app) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


SPOOFED_SLASH = [
    {"user_id": "U0MALLORY", "user_name": "U0ALICE", "channel_id": "C0DEPLOYS", "channel_name": "deploys"},
    {"user_id": "U0MALLORY", "user_name": "carol", "channel_id": "C0DEPLOYS", "channel_name": "deploys"},
    {"user_id": "U0ALICE", "user_name": "alice", "channel_id": "C0OTHER", "channel_name": "deploys"},
    {"user_id": "U0ALICE", "user_name": "alice", "channel_id": "C0OTHER", "channel_name": "#deploys"},
    {"user_id": "U0ALICE", "user_name": "alice", "channel_id": "C0DEPLOYS", "team_id": "T0OTHER"},
]


def _requested(ingress: Ingress) -> list[CommandRequested]:
    return [event for event in ingress.publisher.events if isinstance(event, CommandRequested)]


@pytest.mark.parametrize("form", SPOOFED_SLASH)
def test_a_name_or_another_team_never_admits_a_slash_command(
    ingress: Ingress, form: dict[str, str], tally: Tally
) -> None:
    status, answer = ingress.send("deploy --client acme --branch main", **form)
    ran = bool(_requested(ingress))
    tally.inputs(1, mishandled=int(ran or status != 200))
    assert status == 200 and not ran, message_text(answer)


def _approve(ingress: Ingress, approval_id: str, user_id: str, name: str, tick: int) -> dict[str, Any]:
    payload = click_payload("approval.approve", approval_id, user_id=user_id, user_name=name, channel_id="C0DEPLOYS")
    payload["container"]["is_ephemeral"] = False
    payload["actions"][0]["action_ts"] = f"1764400010.00{tick}"
    body = click_body(payload)
    status, answer = ingress.click(body, signed_headers(body))
    assert status == 200
    return answer


def test_an_approve_click_naming_itself_an_approver_approves_nothing(ingress: Ingress, tally: Tally) -> None:
    status, held = ingress.send(
        "deploy --client acme --branch main --env production",
        user_id="U0ALICE", channel_id="C0DEPLOYS", channel_name="deploys",
    )  # fmt: skip
    assert status == 200 and "needs approval" in message_text(held)
    approval_id = held_for_approval(held)  # the requester's answer names it; the bot posts the buttons
    assert approval_id is not None
    for tick, name in enumerate(("U0APPROVER", "carol", "U0ALICE"), start=1):
        answer = _approve(ingress, approval_id, "U0MALLORY", name, tick)
        ran = bool(_requested(ingress))
        tally.inputs(1, mishandled=int(ran))
        assert not ran and "You cannot approve this" in message_text(answer)
    _approve(ingress, approval_id, "U0CAROL", "whoever", 9)  # carol, as Slack says: approved and run
    assert [event.approval.approver_id for event in _requested(ingress) if event.approval] == ["U0CAROL"]
