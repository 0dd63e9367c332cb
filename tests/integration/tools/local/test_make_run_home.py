"""The Home tab end to end under `make run` (issue 23.2–3): `slashops home --as U…` posts a signed `app_home_opened`
to the ingress' `/slack/events`, the ingress publishes the Home on the local Slack (`views.publish`), and the CLI
prints it. A user with a request waiting for their approval, a deploy of theirs running (on a fake Jenkins the test
serves, whose build does not end until told) and a lock sees all three; Approve pressed on the Home runs the held
command once (its Jenkins build triggered once, however often it is pressed), and the Home says so.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import boto3
import pytest

from shared.aws.tables import LEDGER
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.make_run import MakeRun, make_run
from tools.cli import home as home_cli
from tools.cli.send import ResponseUrlServer, SlashCommand, post, signed_headers, slack_form
from tools.fakes.jenkins import FakeJenkins
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.defaults import LOCAL_SIGNING_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CHANNEL, REQUESTER, APPROVER = "C0LOCAL", "U0DEV1", "U0APPROVER"
HELD = "deploy --client acme --branch main --env production"
RUNNING = "deploy --client globex --branch main --env staging"
CONFIG = """\
access:
  - command: "*"
  - {command: deploy, arguments: {env: [production]}, approval: {users: [U0APPROVER], expires: 30m}}
deploy:
  job: deploy-{client}
  parameters: {BRANCH: "{branch}", ENV: "{env}"}
"""


@dataclass
class Local:
    running: MakeRun
    jenkins: FakeJenkins
    replies: ResponseUrlServer
    ledger: DynamoDbLedger
    slack_api: str

    def command(self, text: str, *, user: str) -> dict[str, object]:
        form = slack_form(SlashCommand(text=text, user_id=user, channel_id=CHANNEL), self.replies.url)
        body = urlencode(form).encode()
        status, answer = post(
            f"http://127.0.0.1:{self.running.port}/slack/commands", body, signed_headers(body, LOCAL_SIGNING_SECRET)
        )
        assert status == 200, answer
        return answer

    def home(self, user: str, *extra: str) -> str:
        """`slashops home --as <user> …`, as printed."""
        args = home_cli.parser().parse_args(
            ["--as", user, "--url", f"http://127.0.0.1:{self.running.port}", "--slack-url", self.slack_api, *extra]
        )
        out = io.StringIO()
        assert home_cli.run(args, out) == 0, out.getvalue()
        return out.getvalue()

    def until[T](self, probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
        deadline = time.monotonic() + timeout
        while (found := probe()) is None:
            assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s\n{self.running.text()[-5000:]}"
            time.sleep(0.25)
        return found


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    config = tmp_path_factory.mktemp("home") / "slashops.yaml"
    config.write_text(CONFIG)
    jenkins = FakeJenkins(any_job=True, user="slashops", token="home-token", polls_before_finish=1_000_000).start()
    env = {
        "SLASHOPS_CONFIG": str(config),
        "JENKINS_URL": jenkins.url,
        "JENKINS_USER": "slashops",
        "JENKINS_API_TOKEN": "home-token",
    }
    try:
        with make_run(extra_env=env) as running, ResponseUrlServer() as replies:
            dynamodb = running.wait_for(r"moto server \(DynamoDB\) on (http://\S+)", 5).group(1)
            slack_api = running.wait_for(r"fake Slack on \S+ \(SLACK_API_URL=(\S+),", 5).group(1)
            client = boto3.client(
                "dynamodb",
                endpoint_url=dynamodb,
                region_name="us-east-1",
                aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
            yield Local(running, jenkins, replies, DynamoDbLedger(LEDGER.name, client=client), slack_api)
    finally:
        jenkins.stop()


def test_the_home_shows_an_approval_a_running_deploy_and_a_lock_and_approve_there_runs_it_once(local: Local) -> None:
    local.command(RUNNING, user=APPROVER)
    running_id = local.until(
        lambda: next(
            (e.command_id for e in local.ledger.iter_recent(user=APPROVER) if e.shown_state == "running"), None
        ),
        timeout=60,
        what="the approver's staging deploy running",
    )
    local.command('lock --client acme --env staging --reason "schema migration & backfill"', user=APPROVER)
    local.command(HELD, user=REQUESTER)
    approval_id = local.until(
        lambda: next(
            (e.command_id for e in local.ledger.iter_recent(user=REQUESTER) if e.state == "awaiting approval"), None
        ),
        timeout=30,
        what="the held production deploy in the ledger",
    )

    base = home_cli.slack_base(local.slack_api)
    refreshed = local.until(  # the notifier published it on the ApprovalRequested, before the approver looked
        lambda: view if approval_id in json.dumps(view := home_cli.published(base, APPROVER)[1]) else None,
        timeout=30,
        what="the approver's Home refreshed with the request",
    )
    assert f"--click approval.approve --value {approval_id}" in home_cli.home_text(refreshed, APPROVER)

    shown = local.home(APPROVER)
    waiting = shown.split("Waiting for your approval")[1].split("Your commands running now")[0]
    assert f"@{REQUESTER} asks to run `/ops {HELD}` in #" in waiting
    assert f"[Approve] → bin/slashops home --as {APPROVER} --click approval.approve --value {approval_id}" in waiting
    assert f"[Deny] → bin/slashops home --as {APPROVER} --click approval.deny --value {approval_id}" in waiting
    running = shown.split("Your commands running now")[1].split("Your last 10 commands")[0]
    assert f"`{running_id}` `deploy`" in running and "running" in running
    locks = shown.split("Deploy locks")[1]
    assert f"`acme` `staging` — @{APPROVER} until" in locks and "schema migration & backfill" in locks

    requester_home = local.home(REQUESTER)
    assert "Nothing waits for you." in requester_home  # their own request is not theirs to approve
    assert f"`{approval_id}` `deploy`" in requester_home.split("Your last 10 commands")[1]

    approved = local.home(APPROVER, "--click", "approval.approve", "--value", approval_id)
    assert f"Approved by @{APPROVER}" in approved and f"is queued as `{approval_id}`" in approved
    assert "--click approval.approve" not in approved  # decided: no longer waiting on this Home
    again = local.home(APPROVER, "--click", "approval.approve", "--value", approval_id)
    assert "already approved" in again
    local.until(
        lambda: local.jenkins.triggered_for("ENV", "production") or None,
        timeout=60,
        what="the approved production deploy's Jenkins build",
    )
    time.sleep(3)  # any second run would have reached Jenkins by now
    assert len(local.jenkins.triggered_for("ENV", "production")) == 1
    entry = local.ledger.get(approval_id)
    assert entry is not None and entry.approval == "approved" and entry.decided_by == APPROVER


def test_the_home_is_refreshed_when_a_command_finishes(local: Local) -> None:
    local.command("deploy --client initech --branch main --env staging", user=REQUESTER)
    running_id = local.until(
        lambda: next(
            (
                e.command_id
                for e in local.ledger.iter_recent(user=REQUESTER)
                if e.shown_state == "running" and e.arguments.get("client") == "initech"
            ),
            None,
        ),
        timeout=60,
        what="the requester's staging deploy running",
    )
    assert (
        f"`{running_id}` `deploy`" in local.home(REQUESTER).split("Your commands running now")[1].split("Your last")[0]
    )

    def initech_build() -> tuple[str, int] | None:
        with local.jenkins.lock:
            return next((key for key in local.jenkins.builds if "initech" in key[0]), None)

    local.jenkins.finish_now(*local.until(initech_build, timeout=30, what="the initech build in Jenkins"))
    base = home_cli.slack_base(local.slack_api)

    def finished() -> str | None:
        text = home_cli.home_text(home_cli.published(base, REQUESTER)[1], REQUESTER)
        running = text.split("Your commands running now")[1].split("Your last")[0]
        return text if running_id not in running else None

    text = local.until(finished, timeout=60, what="the requester's Home refreshed when the deploy finished")
    assert f":white_check_mark: `{running_id}` `deploy`" in text.split("Your last 10 commands")[1]
    assert "Shown when you open this tab" in text  # the notifier's Home: locks, freezes and backups on opening
