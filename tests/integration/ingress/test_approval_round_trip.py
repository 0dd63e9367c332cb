"""The whole approval round trip through the real HTTP edge: the ingress app served over HTTP with its real wiring
(`chalicelib.deps` from the environment: the approval and replay tables on moto's DynamoDB, EventBridge on moto, the
user groups through slack-sdk from the local Slack server), the approval message answered to `/slack/commands`,
clicks signed and posted to `/slack/interactions`, their answers posted by the real `WebhookResponder` to the
local Slack server's response_urls, and the bus counted for published commands."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest

from app import create_app
from chalicelib import bootstrap as composition
from chalicelib.deps import IngressDeps
from shared.aws.tables import APPROVALS, LOCKS, create_table
from tests.support.ingress import message_text
from tests.support.slack import SIGNING_SECRET, click_payload, signed_headers, slash_form
from tests.support.wired_ingress import counted_bus, new_replay_table
from tools.cli.send import held_for_approval, post
from tools.fakes.slack import FakeSlack
from tools.local.aws import Service
from tools.local.ingress import build_server

pytestmark = pytest.mark.integration
RULES = json.dumps(
    [
        {"command": "deploy", "users": ["U0ALICE", "U0BOB", "U0MALLORY"]},
        {
            "command": "deploy",
            "arguments": {"env": ["production"]},
            "approval": {"users": ["U0BOB"], "groups": ["@sre"], "expires": "30m"},
        },
    ]
)
PRODUCTION = "deploy --client acme --branch main --env production"


@dataclass
class Edge:
    """The ingress over HTTP, the local Slack server, and the bus' published command ids."""

    base: str
    slack: FakeSlack
    deps: IngressDeps
    published: Callable[[], list[str]]
    sent: int = 0

    def command(self, text: str, user_id: str = "U0ALICE") -> tuple[dict[str, Any], str]:
        """A slash command with a fresh response_url; its HTTP answer and that response_url."""
        self.sent += 1
        response_url = self.slack.response_url()
        form = slash_form(text, user_id=user_id, response_url=response_url, trigger_id=f"trigger.{self.sent}")
        body = urlencode(form).encode()
        status, answer = post(f"{self.base}/slack/commands", body, signed_headers(body))
        assert status == 200
        return answer, response_url

    def click(self, action_id: str, value: str, user_id: str, name: str) -> tuple[dict[str, Any], str]:
        """A click on the channel message; its HTTP answer, and the click's response_url (what Slack shows)."""
        self.sent += 1
        response_url = self.slack.response_url()
        payload = click_payload(action_id, value, user_id=user_id, user_name=name)
        payload["response_url"] = response_url
        payload["actions"][0]["action_ts"] = f"1764400010.{self.sent:06d}"
        body = urlencode({"payload": json.dumps(payload)}).encode()
        status, answer = post(f"{self.base}/slack/interactions", body, signed_headers(body))
        assert status == 200
        return answer, response_url

    def shown(self, response_url: str) -> list[str]:
        return [message_text(posted.payload) for posted in self.slack.visible(response_url)]


@pytest.fixture
def edge(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, moto_server: Service) -> Iterator[Edge]:
    config = tmp_path / "slashops.json"
    config.write_text(RULES)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server.endpoint)
    approvals, locks = f"approvals-{uuid.uuid4().hex[:8]}", f"locks-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb, APPROVALS, approvals)
    create_table(dynamodb, LOCKS, locks)
    with FakeSlack() as slack, counted_bus(moto_server.endpoint) as published:
        slack.define_group("S0SRE", "sre", ["U0ERIN"])
        for name, value in {
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLASHOPS_CONFIG": str(config),
            "SLASHOPS_EVENT_BUS": "slashops",
            "SLASHOPS_REPLAY_TABLE": new_replay_table(moto_server.endpoint),
            "SLASHOPS_LOCK_TABLE": locks,
            "SLASHOPS_APPROVAL_TABLE": approvals,
            "AWS_ENDPOINT_URL": moto_server.endpoint,
        }.items():
            monkeypatch.setenv(name, value)
        composition.settings.cache_clear()
        composition.ingress_deps.cache_clear()
        composition.warm()  # as a SnapStart snapshot is: a first request on a loaded machine then keeps its budget
        deps = composition.ingress_deps()
        for store in (deps.replays, deps.locks, deps.approvals):
            getattr(store, "client", None)  # the boto3 clients built ahead (no I/O), as a warm Lambda has them
        server = build_server(create_app(deps=lambda: deps), "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Edge(f"http://127.0.0.1:{server.server.server_address[1]}", slack, deps, published)
        finally:
            server.server.shutdown()
            server.server.server_close()
            composition.settings.cache_clear()
            composition.ingress_deps.cache_clear()


def _approval_id(answer: dict[str, Any]) -> str:
    """The requester's private answer names the held id (the notifier posts the buttons carrying it)."""
    approval_id = held_for_approval(answer)
    assert approval_id is not None, answer
    return approval_id


def test_approve_round_trip_refuses_the_requester_and_outsiders_and_runs_once(edge: Edge) -> None:
    answer, requester_url = edge.command(PRODUCTION)
    approval_id = _approval_id(answer)
    assert answer["response_type"] == "ephemeral"
    shown = message_text(answer)
    assert "Your `/ops deploy --client acme --branch main --env production` needs approval (access rule #2)" in shown
    assert "by <@U0BOB> or `@sre`: nothing runs until it is approved" in shown
    assert edge.published() == []  # held: no command on the bus (the approval request is not one)

    _, own = edge.click("approval.approve", approval_id, "U0ALICE", "alice")
    _, outsider = edge.click("approval.approve", approval_id, "U0MALLORY", "mallory")
    [refused] = edge.shown(own)  # one private message (text and section say the same)
    assert ":no_entry: You asked for this, so you cannot approve it yourself: <@U0BOB> or `@sre` can." in refused
    assert "You cannot approve this; <@U0BOB> or `@sre` can." in edge.shown(outsider)[0]
    assert edge.published() == []

    first, first_url = edge.click("approval.approve", approval_id, "U0ERIN", "erin")  # in @sre, via slack-sdk
    second, second_url = edge.click("approval.approve", approval_id, "U0BOB", "bob")  # a moment later

    assert edge.published() == [approval_id]  # exactly one command, under the held id
    [approved] = edge.slack.visible(first_url)
    assert approved.payload["replace_original"] is True and approved.payload["response_type"] == "in_channel"
    assert "Approved by <@U0ERIN>" in message_text(approved.payload)
    assert f"is queued as `{approval_id}`" in message_text(approved.payload)
    assert "already approved by <@U0ERIN>" in message_text(second)
    assert edge.slack.visible(second_url)[0].payload["replace_original"] is False
    assert edge.slack.visible(requester_url) == []  # the requester's url waits for the command's own results


def test_deny_round_trip_runs_nothing(edge: Edge) -> None:
    answer, _ = edge.command(PRODUCTION)
    approval_id = _approval_id(answer)

    _, denied_url = edge.click("approval.deny", approval_id, "U0BOB", "bob")
    _, late_url = edge.click("approval.approve", approval_id, "U0ERIN", "erin")

    assert edge.published() == []
    assert "Denied by <@U0BOB>" in edge.shown(denied_url)[0]
    assert "already denied by <@U0BOB>" in edge.shown(late_url)[0]


def test_after_the_expiry_a_click_says_so_and_nothing_runs(edge: Edge) -> None:
    answer, _ = edge.command(PRODUCTION)
    approval_id = _approval_id(answer)
    edge.deps.now = lambda: datetime.now(UTC) + timedelta(minutes=31)

    _, expired_url = edge.click("approval.approve", approval_id, "U0BOB", "bob")

    assert edge.published() == []
    assert "without a decision: nothing was run" in edge.shown(expired_url)[0]


def test_a_staging_deploy_is_published_at_once(edge: Edge) -> None:
    answer, _ = edge.command("deploy --client acme --branch main --env staging")
    [published] = edge.published()
    assert f"accepted as `{published}`" in message_text(answer)
