"""Freezes end to end under `make run` (issue 22.2): an ad-hoc freeze from Slack refuses a deploy at once with its
reason, who froze it and until when; a configured window with an `override` holds a deploy, an override approver
presses Approve, and the build starts in the fake Jenkins. Everything through real clients: signed Slack requests to
the ingress, python-jenkins for the builds, the ledger through its DynamoDB adapter.

The window is written for the hour the test runs in (`0 <hour> * * *`, 2 hours, UTC), so it is open whatever the
time of day; the DST and midnight arithmetic is tests/unit/shared/freezes/test_freeze_windows.py's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import boto3
import jenkins
import pytest

from shared.aws.tables import LEDGER
from shared.ledger.dynamodb import DynamoDbLedger
from shared.slack.approvals import APPROVE
from tests.support.make_run import MakeRun, make_run
from tools.cli.send import ResponseUrlServer, SlashCommand, click_payload, post, render, signed_headers, slack_form
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.defaults import LOCAL_SIGNING_SECRET
from tools.local.run import FAKE_JENKINS_TOKEN, FAKE_JENKINS_USER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]
CHANNEL = "C0LOCAL"
FREEZER, DEPLOYER, LEAD = "U0DEV1", "U0DEV2", "U0LEAD"
JOB = "deploy-acme"
HELD = re.compile(r"Held as `([a-z0-9]+)`")


def config(hour: int) -> str:
    return f"""\
access:
  - command: "*"
deploy:
  job: deploy-{{client}}
  parameters: {{BRANCH: "{{branch}}", ENV: "{{env}}"}}
  freezes:
    - {{env: production, cron: "0 {hour} * * *", duration: 2h, reason: "release train",
       override: {{users: [{LEAD}]}}}}
"""


@dataclass
class Local:
    running: MakeRun
    replies: ResponseUrlServer
    ledger: DynamoDbLedger
    jenkins: jenkins.Jenkins

    def command(self, text: str, *, user: str) -> str:
        form = slack_form(SlashCommand(text=text, user_id=user, channel_id=CHANNEL), self.replies.url)
        return render(self._post("commands", urlencode(form).encode()))

    def approve(self, approval_id: str, *, user: str) -> str:
        payload = click_payload(APPROVE, approval_id, self.replies.url, user_id=user, channel_id=CHANNEL,
                                message_ts=f"{time.time():.6f}")  # fmt: skip
        return render(self._post("interactions", urlencode({"payload": json.dumps(payload)}).encode()))

    def _post(self, endpoint: str, body: bytes) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.running.port}/slack/{endpoint}"
        status, answer = post(url, body, signed_headers(body, LOCAL_SIGNING_SECRET))
        assert status == 200, answer
        return answer

    def builds(self, env: str) -> list[dict[str, str]]:
        """The parameters of every build Jenkins was asked for in `env`."""
        try:
            numbers = [build["number"] for build in self.jenkins.get_job_info(JOB)["builds"]]
        except jenkins.NotFoundException:
            return []
        found = [_parameters(self.jenkins.get_build_info(JOB, number)) for number in numbers]
        return [parameters for parameters in found if parameters.get("ENV") == env]


def _parameters(build: dict[str, Any]) -> dict[str, str]:
    for action in build.get("actions", []):
        if action and action.get("_class") == "hudson.model.ParametersAction":
            return {item["name"]: str(item["value"]) for item in action["parameters"]}
    return {}


def _until[T](probe: Callable[[], T | None], *, timeout: float, what: str, running: MakeRun) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s\n{running.text()[-4000:]}"
        time.sleep(0.2)
    return found


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    path = tmp_path_factory.mktemp("freezes") / "slashops.yaml"
    path.write_text(config(datetime.now(UTC).hour))
    settings = {"SLASHOPS_CONFIG": str(path), "SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "0"}
    with make_run(extra_env=settings) as running, ResponseUrlServer() as replies:
        dynamodb = running.wait_for(r"moto server \(DynamoDB\) on (http://\S+)", 5).group(1)
        jenkins_url = running.wait_for(r"fake Jenkins on (http://\S+)", 5).group(1)
        client = boto3.client(
            "dynamodb",
            endpoint_url=dynamodb,
            region_name="us-east-1",
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        yield Local(
            running,
            replies,
            DynamoDbLedger(LEDGER.name, client=client),
            jenkins.Jenkins(jenkins_url, username=FAKE_JENKINS_USER, password=FAKE_JENKINS_TOKEN),
        )


def test_an_adhoc_freeze_refuses_a_deploy_with_its_reason_who_and_until(local: Local) -> None:
    frozen = local.command('freeze --env staging --for 1h --reason "incident 42"', user=FREEZER)
    assert f"<@{FREEZER}> froze `staging` until" in frozen and "(1h): incident 42" in frozen, frozen

    refused = local.command("deploy --client acme --branch main --env staging", user=DEPLOYER)
    assert "Environment frozen" in refused, refused
    assert re.search(
        rf":snowflake: `staging` is frozen until \w{{3}} [0-9-]{{10}} [0-9:]{{5}} UTC — incident 42 \(frozen by "
        rf"<@{FREEZER}>\)\. Nothing was started\.",
        refused,
    ), refused
    listed = local.command("freezes", user=DEPLOYER)
    assert "`staging` frozen until" in listed and "`production` frozen until" in listed, listed
    time.sleep(2)  # the deploy service would have started it by now, had it been published
    assert local.builds("staging") == []

    unfrozen = local.command("unfreeze --env staging", user=LEAD)
    assert f"<@{LEAD}> unfroze `staging` (frozen by <@{FREEZER}>" in unfrozen, unfrozen

    def recorded(command: str) -> str | None:
        entries = list(local.ledger.iter_recent(command=command))
        return entries[0].last_message if entries else None

    froze = _until(lambda: recorded("freeze"), timeout=20, what="the freeze in the ledger", running=local.running)
    assert froze.startswith("froze `staging` until") and froze.endswith("incident 42"), froze
    unfroze = _until(lambda: recorded("unfreeze"), timeout=20, what="the unfreeze in the ledger", running=local.running)
    assert unfroze.startswith("unfroze `staging` (frozen by"), unfroze


def test_a_window_with_an_override_holds_the_deploy_until_approved_then_jenkins_builds_it(local: Local) -> None:
    held = local.command("deploy --client acme --branch main --env production", user=DEPLOYER)
    assert "overriding the freeze of `production` (release train; scheduled window `0 " in held, held
    found = HELD.search(held)
    assert found, held
    approval_id = found.group(1)
    time.sleep(2)
    assert local.builds("production") == []  # held: nothing built

    refused = local.approve(approval_id, user=FREEZER)  # not an override approver
    assert "cannot approve" in refused, refused
    approved = local.approve(approval_id, user=LEAD)
    assert f"Approved by <@{LEAD}>" in approved, approved

    def built() -> dict[str, str] | None:
        builds = [b for b in local.builds("production") if b.get("SLASHOPS_COMMAND_ID") == approval_id]
        return builds[0] if builds else None

    build = _until(built, timeout=60, what="the approved override's build", running=local.running)
    assert build["BRANCH"] == "main"
