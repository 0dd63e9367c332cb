"""Approvals that end visibly, end to end under `make run` (issue 22.4): a production deploy held with `expires: 1m`
that nobody decides is shown as expired in its channel message within seconds of the expiry, with no one clicking;
halfway, the approvers were reminded once in its thread; the requester was told in a DM; nothing ran.

Everything is observed through real clients, as a person would read it: the ingress through a signed Slack request,
the channel message and its thread through slack-sdk (`conversations.replies` on the fake Slack), the DM in the fake
Slack's transcript (make run's log), the approval in the ledger through its DynamoDB adapter. The local scheduler runs
the sweeper every 5 s (`SLASHOPS_LOCAL_SWEEP_SECONDS`), as EventBridge Scheduler runs it every minute in AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from slack_sdk import WebClient

from shared.aws.tables import LEDGER
from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.models import LedgerEntry
from shared.slack.approvals import APPROVE
from tests.support.make_run import MakeRun, make_run
from tools.cli.send import ResponseUrlServer, SlashCommand, click_payload, post, signed_headers, slack_form
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.defaults import LOCAL_BOT_TOKEN, LOCAL_SIGNING_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CHANNEL, REQUESTER, APPROVER = "C0LOCAL", "U0DEV1", "U0APPROVER"
TYPED = "deploy --client acme --branch main --env production"
CONFIG = """\
access:
  - command: "*"
  - {command: deploy, arguments: {env: [production]}, approval: {users: [U0APPROVER], expires: 1m}}
deploy:
  job: deploy-{client}
  parameters: {BRANCH: "{branch}", ENV: "{env}"}
"""


def _until[T](probe: Callable[[], T | None], *, timeout: float, what: str, running: MakeRun) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s\n{running.text()[-5000:]}"
        time.sleep(0.25)
    return found


def _buttons(message: dict[str, Any]) -> list[str]:
    return [
        element["action_id"]
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def _shown(message: dict[str, Any]) -> str:
    """What a person reads: every section and context text of the message."""
    texts = []
    for block in message.get("blocks", []):
        if block.get("type") == "section":
            texts.append(block["text"]["text"])
        elif block.get("type") == "context":
            texts += [element.get("text", "") for element in block.get("elements", [])]
    return "\n".join(texts)


@dataclass
class Local:
    running: MakeRun
    replies: ResponseUrlServer
    ledger: DynamoDbLedger
    slack: WebClient

    @classmethod
    def of(cls, running: MakeRun, replies: ResponseUrlServer) -> Local:
        dynamodb = running.wait_for(r"moto server \(DynamoDB\) on (http://\S+)", 5).group(1)
        slack_api = running.wait_for(r"fake Slack on \S+ \(SLACK_API_URL=(\S+),", 5).group(1)
        client = boto3.client(
            "dynamodb",
            endpoint_url=dynamodb,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        return cls(running, replies, DynamoDbLedger(LEDGER.name, client=client), WebClient(LOCAL_BOT_TOKEN, slack_api))

    def command(self, text: str, *, user: str) -> dict[str, Any]:
        form = slack_form(SlashCommand(text=text, user_id=user, channel_id=CHANNEL), self.replies.url)
        return self._post("commands", urlencode(form).encode())

    def click(self, action_id: str, value: str, *, user: str, message_ts: str) -> dict[str, Any]:
        payload = click_payload(
            action_id, value, self.replies.url, user_id=user, channel_id=CHANNEL, message_ts=message_ts
        )
        return self._post("interactions", urlencode({"payload": json.dumps(payload)}).encode())

    def _post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        status, answer = post(
            f"http://127.0.0.1:{self.running.port}/slack/{endpoint}", body, signed_headers(body, LOCAL_SIGNING_SECRET)
        )
        assert status == 200, answer
        return answer

    def message_and_thread(self, entry: LedgerEntry) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.slack.conversations_replies(
            channel=entry.parent_channel, ts=entry.parent_ts
        )["messages"]
        return found


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    config = tmp_path_factory.mktemp("expiry") / "slashops.yaml"
    config.write_text(CONFIG)
    with make_run(extra_env={"SLASHOPS_CONFIG": str(config)}) as running, ResponseUrlServer() as replies:
        yield Local.of(running, replies)


def test_an_approval_with_expires_1m_is_updated_to_expired_without_a_click(local: Local) -> None:
    answer = local.command(TYPED, user=REQUESTER)
    private = json.dumps(answer)
    assert answer.get("response_type", "ephemeral") == "ephemeral", private
    assert "needs approval (access rule #2) by <@U0APPROVER>" in private and "direct message" in private
    asked_at = time.monotonic()
    approval_id = _until(
        lambda: next(
            (e.command_id for e in local.ledger.iter_recent(user=REQUESTER) if e.state == "awaiting approval"), None
        ),
        timeout=20,
        what="the held deploy in the ledger",
        running=local.running,
    )
    entry = _until(
        lambda: found if (found := local.ledger.get(approval_id)) is not None and found.has_parent else None,
        timeout=20,
        what="the approval message posted by the bot",
        running=local.running,
    )
    [message] = local.message_and_thread(entry)
    assert entry.parent_channel == CHANNEL and _buttons(message) == ["approval.approve", "approval.deny"]
    assert f"<@{REQUESTER}> asks to run `/ops {TYPED}`" in _shown(message)
    assert "requires approval by <@U0APPROVER>" in _shown(message) and "(in 1m)" in _shown(message)

    def reminded() -> list[dict[str, Any]] | None:
        thread = local.message_and_thread(entry)
        return thread if len(thread) > 1 else None

    thread = _until(reminded, timeout=60, what="the halfway reminder in the thread", running=local.running)
    reminder = _shown(thread[1])
    assert reminder.startswith(f":bell: <@{APPROVER}>: <@{REQUESTER}>'s `/ops {TYPED}` still waits for your approval")
    assert time.monotonic() - asked_at >= 25  # halfway through the minute, not at once

    def expired() -> dict[str, Any] | None:
        parent = local.message_and_thread(entry)[0]
        return parent if ":hourglass:" in _shown(parent) else None

    ended = _until(expired, timeout=75, what="the approval message shown as expired", running=local.running)
    took = time.monotonic() - asked_at
    assert 55 <= took <= 60 + 5 + 10, took  # the expiry, plus one sweep period, plus the bus and the notifier
    assert _buttons(ended) == []  # nothing left to press
    assert (
        f":hourglass: <@{REQUESTER}>'s `/ops {TYPED}` expired at" in _shown(ended)
        and "without a decision: nothing was run." in _shown(ended)
        and "run it again to ask anew" in _shown(ended)
    )
    assert len(local.message_and_thread(entry)) == 2  # one reminder, however many sweeps ran

    entry = _until(
        lambda: found if (found := local.ledger.get(approval_id)) and found.state == "expired" else None,
        timeout=10,
        what="the expiry in the ledger",
        running=local.running,
    )
    assert (entry.approval, entry.decided_by, entry.decided_by_name) == ("expired", "", "slashops")

    dm = local.running.wait_for(rf"\[chat\.postMessage D0DEV1 ts=\S+\] (Your `/ops {TYPED}`[^\n]*)", 15).group(1)
    assert f"in <#{CHANNEL}> expired at" in dm and "without a decision: nothing was run." in dm

    local.click(APPROVE, approval_id, user=APPROVER, message_ts=entry.parent_ts)  # too late: told so, privately
    late = _until(
        lambda: found if (found := local.replies.next(0.5)) and "expired at" in json.dumps(found) else None,
        timeout=15,
        what="the late click's answer",
        running=local.running,
    )
    assert "nothing was run" in json.dumps(late) and late.get("replace_original") is False
    final = local.ledger.get(approval_id)
    assert final is not None and final.state == "expired" and not final.last_event_key  # nothing ever ran


def _held(local: Local, text: str) -> LedgerEntry:
    """Ask for `text` as the requester; the ledger entry once the bot posted its approval message."""
    local.command(text, user=REQUESTER)

    def posted() -> LedgerEntry | None:
        waiting = [e for e in local.ledger.iter_recent(user=REQUESTER) if e.state == "awaiting approval"]
        return next((e for e in waiting if e.text == text and e.has_parent and not e.approval), None)

    return _until(posted, timeout=20, what=f"the approval message of {text}", running=local.running)


def _dm(local: Local, verb: str) -> str:
    text = local.running.wait_for(rf"\[chat\.postMessage D0DEV1 ts=\S+\] (Your `/ops [^\n]* was {verb} by [^\n]*)", 20)
    lines = local.running.text().split(text.group(0), 1)[1].splitlines()
    return text.group(1) + "\n" + "\n".join(line for line in lines[:3] if line.strip().startswith("slack |"))


def test_approved_and_denied_requests_are_told_to_the_requester_and_an_approved_deploy_shows_in_the_same_message(
    local: Local,
) -> None:
    denied = _held(local, "deploy --client beta --branch main --env production")
    local.click("approval.deny", denied.command_id, user=APPROVER, message_ts=denied.parent_ts)
    told = _dm(local, "denied")
    assert "<@U0APPROVER>" in told and "nothing was run" in told and "running it again asks for a new approval" in told

    approved = _held(local, "deploy --client acme --branch main --env production")
    local.click(APPROVE, approved.command_id, user=APPROVER, message_ts=approved.parent_ts)
    told = _dm(local, "approved")
    assert (
        "<@U0APPROVER>" in told
        and f"It runs as `{approved.command_id}`: its progress and result follow in <#C0LOCAL>" in told
    )

    def deployed() -> dict[str, Any] | None:
        parent = local.message_and_thread(approved)[0]
        return parent if "*succeeded*" in _shown(parent) else None

    parent = _until(deployed, timeout=60, what="the deploy's outcome in the approval message", running=local.running)
    assert f"<@{REQUESTER}> was deploying `main` of *acme* to *production*" in _shown(parent)
    assert "approved by <@U0APPROVER>" in _shown(parent)  # the approval message became the deploy's message
    replies = [_shown(reply) for reply in local.message_and_thread(approved)[1:]]
    assert replies and "*succeeded*" in replies[-1]
