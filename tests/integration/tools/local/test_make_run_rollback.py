"""Rollback choosing the right deploy, end to end under `make run` with its fake Slack and fake Jenkins (issue 22.1).

acme is deployed twice to each environment (`release/2.3`, then `release/2.4`). Production is rolled back with
`/ops rollback`; staging with the **Rollback** button on the second deploy's channel message, pressed by another
user, then pressed again by a third and replayed: one rollback. The two targets run side by side (one deploy per
*target*), which keeps the test near a minute. Everything is observed through real clients: the ingress through
signed Slack requests, the channel messages through slack-sdk (`conversations.replies`), the builds through
python-jenkins, the ledger through its DynamoDB adapter.

`make run` gets a configuration that admits everyone and holds nothing for approval (`config/local.yaml` holds
production deploys): what is tested here is which deploy a rollback goes back to and what everyone reads about it;
a rollback held for approval is tests/unit/ingress/test_rolling_back.py's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
import jenkins
import pytest
from slack_sdk import WebClient

from shared.aws.tables import LEDGER
from shared.config.deploy import COMMAND_ID_PARAMETER
from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.models import LedgerEntry
from shared.slack.actions import ROLLBACK
from tests.support.make_run import MakeRun, make_run
from tools.cli.send import (
    ResponseUrlServer,
    SlashCommand,
    accepted_command_id,
    click_payload,
    post,
    render,
    signed_headers,
    slack_form,
)
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.defaults import LOCAL_BOT_TOKEN, LOCAL_SIGNING_SECRET
from tools.local.run import FAKE_JENKINS_TOKEN, FAKE_JENKINS_USER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CHANNEL = "C0LOCAL"
OLD, NEW = "release/2.3", "release/2.4"
FIRST, SECOND, ROLLER, CLICKER = "U0DEV1", "U0DEV2", "U0LOCAL", "U0LEAD"
"""Who deploys the old branch, the new one, types `/ops rollback`, presses Rollback (make run's fake Slack users)."""
JOB = "deploy-acme"
CONFIG = """\
access:
  - command: "*"
deploy:
  job: deploy-{client}
  parameters: {BRANCH: "{branch}", ENV: "{env}"}
"""
FAST_FOLLOW = {"SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "0", "SLASHOPS_DEPLOY_FOLLOW_DELAY": "1"}
"""Each build is asked about every second (make run: after 1 s, then every 2 s): six deploys in about half a minute."""
FINISH_WITHIN = 60.0


def _until[T](probe: Callable[[], T | None], *, timeout: float, what: str, running: MakeRun) -> T:
    """`probe()` once it is not None, asking every 0.2 s for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s\n{running.text()[-4000:]}"
        time.sleep(0.2)
    return found


@dataclass
class Local:
    """`make run` as Slack, Jenkins and a ledger reader see it."""

    running: MakeRun
    replies: ResponseUrlServer
    ledger: DynamoDbLedger
    slack: WebClient
    jenkins: jenkins.Jenkins

    @classmethod
    def of(cls, running: MakeRun, replies: ResponseUrlServer) -> Local:
        """Its endpoints, as its log names them (every port is a free one)."""
        dynamodb = running.wait_for(r"moto server \(DynamoDB\) on (http://\S+)", 5).group(1)
        slack_api = running.wait_for(r"fake Slack on \S+ \(SLACK_API_URL=(\S+),", 5).group(1)
        jenkins_url = running.wait_for(r"fake Jenkins on (http://\S+)", 5).group(1)
        client = boto3.client(
            "dynamodb",
            endpoint_url=dynamodb,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        return cls(
            running,
            replies,
            DynamoDbLedger(LEDGER.name, client=client),
            WebClient(token=LOCAL_BOT_TOKEN, base_url=slack_api),
            jenkins.Jenkins(jenkins_url, username=FAKE_JENKINS_USER, password=FAKE_JENKINS_TOKEN),
        )

    # --- Slack's requests, signed as Slack signs them ---------------------------------------------------------

    def command(self, text: str, *, user: str) -> dict[str, Any]:
        command = SlashCommand(text=text, user_id=user, channel_id=CHANNEL)
        return self._post("commands", urlencode(slack_form(command, self.replies.url)).encode())

    def click_body(self, action_id: str, value: str, *, user: str, message_ts: str) -> bytes:
        """A press of a button on the bot's channel message `message_ts` (kept, to be sent again as a replay)."""
        payload = click_payload(action_id, value, self.replies.url, user_id=user, channel_id=CHANNEL,
                                message_ts=message_ts)  # fmt: skip
        return urlencode({"payload": json.dumps(payload)}).encode()

    def click(self, body: bytes) -> dict[str, Any]:
        return self._post("interactions", body)

    def _post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.running.port}/slack/{endpoint}"
        status, answer = post(url, body, signed_headers(body, LOCAL_SIGNING_SECRET))
        assert status == 200, answer
        return answer

    # --- what came of it -------------------------------------------------------------------------------------

    def deploy(self, branch: str, env: str, *, user: str) -> str:
        return started(self.command(f"deploy --client acme --branch {branch} --env {env}", user=user))

    def finished(self, command_id: str) -> LedgerEntry:
        """The ledger entry once the command has finished and Slack has been told its last event."""

        def reported() -> LedgerEntry | None:
            entry = self.ledger.get(command_id)
            done = entry is not None and entry.finished and entry.notified_key == entry.last_event_key
            return entry if done and entry is not None and entry.parent_ts else None

        return _until(reported, timeout=FINISH_WITHIN, what=f"{command_id} finished and reported", running=self.running)

    def channel_message(self, entry: LedgerEntry) -> list[dict[str, Any]]:
        """The command's channel message as it reads now, then the replies in its thread."""
        messages: list[dict[str, Any]] = self.slack.conversations_replies(
            channel=entry.parent_channel, ts=entry.parent_ts
        )["messages"]
        return messages

    def builds(self, env: str) -> list[tuple[int, dict[str, str]]]:
        """Every build Jenkins was asked for in `env`: (number, parameters), oldest first."""
        numbers = sorted(build["number"] for build in self.jenkins.get_job_info(JOB)["builds"])
        found = [(number, _parameters(self.jenkins.get_build_info(JOB, number))) for number in numbers]
        return [(number, parameters) for number, parameters in found if parameters.get("ENV") == env]


def started(answer: dict[str, Any]) -> str:
    """The command id the ingress accepted a command as."""
    command_id = accepted_command_id(answer)
    assert command_id, render(answer)
    return command_id


def _parameters(build: dict[str, Any]) -> dict[str, str]:
    for action in build.get("actions", []):
        if action and action.get("_class") == "hudson.model.ParametersAction":
            return {item["name"]: str(item["value"]) for item in action["parameters"]}
    return {}


def _buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(action id, value) of each button on a message."""
    return [
        (element["action_id"], element.get("value", ""))
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def _build_number(entry: LedgerEntry) -> int:
    """The Jenkins build a deploy ran, from its ledger links ("Build #7")."""
    label = next(item.label for item in entry.links if item.label.lower().startswith("build"))
    found = re.search(r"#(\d+)", label)
    assert found, label
    return int(found.group(1))


def _without_command_id(parameters: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in parameters.items() if name != COMMAND_ID_PARAMETER}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    config = tmp_path_factory.mktemp("rollback") / "slashops.yaml"
    config.write_text(CONFIG)
    settings = {"SLASHOPS_CONFIG": str(config), **FAST_FOLLOW}
    with make_run(extra_env=settings) as running, ResponseUrlServer() as replies:
        yield Local.of(running, replies)


@dataclass(frozen=True)
class Target:
    """acme in one environment: its old deploy and the new one that runs now."""

    env: str
    old: LedgerEntry
    new: LedgerEntry


@pytest.fixture(scope="module")
def deployed(local: Local) -> dict[str, Target]:
    """`release/2.3` by U0DEV1, then `release/2.4` by U0DEV2, to production and staging side by side."""
    olds = {env: local.deploy(OLD, env, user=FIRST) for env in ("production", "staging")}
    old = {env: local.finished(command_id) for env, command_id in olds.items()}
    news = {env: local.deploy(NEW, env, user=SECOND) for env in ("production", "staging")}
    new = {env: local.finished(command_id) for env, command_id in news.items()}
    for entry in (*old.values(), *new.values()):
        assert entry.state == "succeeded", entry
    return {env: Target(env, old[env], new[env]) for env in old}


def _goes_back_to_the_old_deploy(answer: dict[str, Any], target: Target) -> None:
    """The answer names the deploy it goes back to: its branch, its build number, who deployed it; and the one
    it goes back from."""
    shown, old, new = render(answer), target.old, target.new
    back_to = f"back to `{OLD}` (<@{FIRST}>'s deploy `{old.command_id}`, Build #{_build_number(old)}, "
    assert f":rewind: Rollback: {back_to}" in shown, shown
    assert f"from `{NEW}` (deploy `{new.command_id}`)." in shown, shown


def _rolled_back(local: Local, rollback_id: str, target: Target, *, by: str) -> LedgerEntry:
    """The rollback finished as a deploy of the old branch that undid the new one: ledger, Jenkins, Slack."""
    entry = local.finished(rollback_id)
    assert (entry.command, entry.state, entry.user_id) == ("deploy", "succeeded", by), entry
    assert entry.rollback_of == target.new.command_id
    assert entry.arguments == {"client": "acme", "branch": OLD, "env": target.env}

    builds = local.builds(target.env)
    numbers = [_build_number(target.old), _build_number(target.new), _build_number(entry)]
    assert [number for number, _ in builds] == numbers, builds  # one build each: no second rollback
    (_, first), _, (_, again) = builds
    assert again[COMMAND_ID_PARAMETER] == rollback_id and again["BRANCH"] == OLD
    assert _without_command_id(again) == _without_command_id(first)  # the old deploy's parameters, exactly

    parent, *thread = local.channel_message(entry)
    undoing = f"undoing deploy `{target.new.command_id}`"
    assert f"<@{by}> was rolling back *acme* *{target.env}* to `{OLD}` ({undoing}) — *succeeded*" in parent["text"]
    assert (ROLLBACK, rollback_id) in _buttons(parent)
    assert f"`deploy` `{rollback_id}` *succeeded*" in thread[-1]["text"], thread
    return entry


def test_rollback_command_goes_back_to_the_deploy_before_the_current_one(
    local: Local, deployed: dict[str, Target]
) -> None:
    target = deployed["production"]
    answer = local.command("rollback --client acme --env production", user=ROLLER)
    _goes_back_to_the_old_deploy(answer, target)
    rollback_id = started(answer)
    _rolled_back(local, rollback_id, target, by=ROLLER)

    status = render(local.command(f"status {rollback_id}", user=ROLLER))
    assert f"`deploy` `{rollback_id}` — *succeeded*" in status, status
    assert f":rewind: A rollback: it undoes deploy `{target.new.command_id}`." in status, status
    history = render(local.command("history --command deploy --limit 20", user=ROLLER))
    [line] = [line for line in history.splitlines() if rollback_id in line]
    assert OLD in line and "production" in line and "succeeded" in line, history


def test_rollback_button_on_the_current_deploys_message_rolls_back_once(
    local: Local, deployed: dict[str, Target]
) -> None:
    target = deployed["staging"]
    parent = local.channel_message(target.new)[0]
    assert (ROLLBACK, target.new.command_id) in _buttons(parent), parent
    button = (ROLLBACK, target.new.command_id)
    press = local.click_body(*button, user=CLICKER, message_ts=target.new.parent_ts)

    answer = local.click(press)
    _goes_back_to_the_old_deploy(answer, target)
    rollback_id = started(answer)
    again = render(local.click(local.click_body(*button, user=FIRST, message_ts=target.new.parent_ts)))
    assert f"<@{CLICKER}> already pressed this button" in again and rollback_id in again, again
    replayed = local.click(press)  # the very same signed request, sent again
    assert accepted_command_id(replayed) is None and rollback_id in render(replayed), render(replayed)

    _rolled_back(local, rollback_id, target, by=CLICKER)
    deploys = local.ledger.iter_recent(command="deploy")
    rollbacks = [entry.command_id for entry in deploys if entry.rollback_of and entry.arguments["env"] == "staging"]
    assert rollbacks == [rollback_id]  # the second press and the replay started nothing
