"""Forms end to end under `make run` (issue 23.1, 23.3): `slashops submit` asks make run's fake Slack for a trigger_id,
types `/ops deploy` alone with it, reads the form the ingress opened there (`views.open`, honoured by the fake Slack
for 3 seconds only, as Slack does), fills and submits it, signed, to `/slack/interactions`. Every view and answer is
read as the CLI prints it; the build through python-jenkins, the ledger through its DynamoDB adapter.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import jenkins
import pytest

from shared.aws.tables import LEDGER
from shared.config.deploy import COMMAND_ID_PARAMETER
from shared.ledger.dynamodb import DynamoDbLedger
from tests.support.make_run import MakeRun, make_run
from tools.cli import send
from tools.cli.forms import parser, run
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.defaults import LOCAL_SIGNING_SECRET
from tools.local.run import FAKE_JENKINS_TOKEN, FAKE_JENKINS_USER

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
CHANNEL = "C0LOCAL"
LEAD, DEV, NOBODY = "U0DEV1", "U0DEV2", "U0NOBODY"
CONFIG = """\
access:
  - {command: "*", users: [U0DEV1]}
  - {command: deploy, users: [U0DEV2], arguments: {env: [staging]}}
deploy:
  clients: [acme, globex]
  job: deploy-{client}
  parameters: {BRANCH: "{branch}", ENV: "{env}"}
backup:
  databases: [orders]
"""
FAST_FOLLOW = {"SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "0", "SLASHOPS_DEPLOY_FOLLOW_DELAY": "1"}


@dataclass
class Local:
    running: MakeRun
    slack_api: str
    ledger: DynamoDbLedger
    jenkins: jenkins.Jenkins

    def submit(self, command: str, *options: str, user: str) -> tuple[int, str, float]:
        """`slashops submit <command> --as <user> <options>`: its exit status, what it printed, how long it took."""
        argv = [command, "--as", user, "--channel", CHANNEL, *options]
        argv += ["--url", f"http://127.0.0.1:{self.running.port}/slack/commands", "--slack-url", self.slack_api]
        argv += ["--secret", LOCAL_SIGNING_SECRET, "--timeout", "60"]
        out = io.StringIO()
        started = time.monotonic()
        status = run(parser().parse_args(argv), out)
        return status, out.getvalue(), time.monotonic() - started

    @property
    def ingress(self) -> list[str]:
        """`send`'s options for make run's ingress, as U0DEV1 in the channel."""
        url = f"http://127.0.0.1:{self.running.port}/slack/commands"
        return ["--user", LEAD, "--channel", CHANNEL, "--url", url, "--secret", LOCAL_SIGNING_SECRET]

    def deploys_of(self, client: str) -> list[str]:
        """The ledger's deploys of `client` that ran or were queued (refusals left out)."""
        return [
            entry.command_id
            for entry in self.ledger.iter_recent(command="deploy")
            if entry.arguments.get("client") == client and entry.state != "refused"
        ]

    def build_parameters(self, job: str) -> list[dict[str, str]]:
        numbers = sorted(build["number"] for build in self.jenkins.get_job_info(job)["builds"])
        return [_parameters(self.jenkins.get_build_info(job, number)) for number in numbers]


def _parameters(build: dict[str, Any]) -> dict[str, str]:
    for action in build.get("actions", []):
        if action and action.get("_class") == "hudson.model.ParametersAction":
            return {
                item["name"]: str(item["value"])
                for item in action["parameters"]
                if item["name"] != COMMAND_ID_PARAMETER
            }
    return {}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    config = tmp_path_factory.mktemp("forms") / "slashops.yaml"
    config.write_text(CONFIG)
    with make_run(extra_env={"SLASHOPS_CONFIG": str(config), **FAST_FOLLOW}) as running:
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
        yield Local(
            running,
            slack_api,
            DynamoDbLedger(LEDGER.name, client=client),
            jenkins.Jenkins(jenkins_url, username=FAKE_JENKINS_USER, password=FAKE_JENKINS_TOKEN),
        )


def test_the_form_opens_within_slacks_trigger_window_with_the_callers_choices(local: Local) -> None:
    status, printed, took = local.submit("deploy", "--show", user=DEV)

    assert status == 0, printed
    assert took < 3.0  # the fake Slack honours a trigger_id for 3 s: the form opened within it
    assert "│ Client [--field client=…]\n│    ( ) acme  ( ) globex" in printed
    assert "│ Environment [--field env=…]\n│    (•) staging\n" in printed  # production: not for U0DEV2
    assert "│ Branch [--field branch=…]\n│    [main]" in printed


def test_a_submitted_form_runs_the_build_the_typed_command_would(local: Local) -> None:
    fields = ("--field", "client=globex", "--field", "env=production", "--field", "branch=release/2.4")
    status, printed, _ = local.submit("deploy", *fields, user=LEAD)

    assert status == 0, printed
    assert "the form closed; the answer, only you see it in the channel" in printed
    assert "`deploy` `--client globex` `--branch release/2.4` `--env production` accepted as" in printed
    assert "── status: succeeded ──" in printed
    assert local.running.saw(r"\[chat\.postEphemeral C0LOCAL, only U0DEV1 sees it\] deploy accepted as", 5)
    assert local.build_parameters("deploy-globex") == [{"BRANCH": "release/2.4", "ENV": "production"}]

    typed = send.parser().parse_args(["deploy --client globex --branch release/2.4 --env production", *local.ingress])
    assert send.run(typed, io.StringIO()) == 0  # typed, followed until it finished
    first, second = local.build_parameters("deploy-globex")
    assert first == second  # the form's build is the typed command's


def test_an_invalid_field_is_answered_under_it_and_nothing_runs(local: Local) -> None:
    status, printed, _ = local.submit("deploy", "--field", "client=acme", "--field", "branch=main..x", user=LEAD)

    assert status == 1
    assert "the form stays open, with errors under its fields ──\n" in printed
    assert "  branch: --branch 'main..x' cannot contain '..'." in printed
    assert local.deploys_of("acme") == []


def test_no_form_for_a_caller_the_rules_refuse(local: Local) -> None:
    status, printed, _ = local.submit("deploy", "--show", user=NOBODY)

    assert status == 1
    assert "── no form; the answer (HTTP 200) ──" in printed and "Not allowed" in printed


def test_a_choice_the_form_does_not_offer_cannot_be_submitted(local: Local) -> None:
    status, printed, _ = local.submit("deploy", "--field", "client=acme", "--field", "env=production", user=DEV)

    assert status == 1 and "env: 'production' is not offered (the form offers: staging)" in printed


def test_a_cancelled_form_runs_nothing(local: Local) -> None:
    status, printed, _ = local.submit("deploy", "--cancel", "--field", "client=acme", user=LEAD)

    assert status == 0 and "cancelled (HTTP 200): nothing was run" in printed
    assert local.deploys_of("acme") == []


def test_send_alone_opens_the_form_on_the_local_slack(local: Local, monkeypatch: pytest.MonkeyPatch) -> None:
    """`slashops send deploy` passes a trigger_id the local Slack issued: the form opens there, nothing runs."""
    monkeypatch.setenv("SLACK_API_URL", local.slack_api)
    out = io.StringIO()

    assert send.run(send.parser().parse_args(["deploy", *local.ingress]), out) == 0
    assert "(a form opened: `bin/slashops submit deploy --field …` fills it)" in out.getvalue()


def test_the_restore_form_offers_the_databases_and_checks_the_backup_typed(local: Local) -> None:
    status, printed, _ = local.submit("restore", "--field", "from=orders-20261128T101500Z-3f9c2a", user=LEAD)

    assert "│ Database [--field db=…]\n│    ( ) orders\n" in printed
    assert "│ Backup [--field from=…]\n│    [<orders-20261128T101500Z-3f9c2a>]" in printed  # typed: its placeholder
    assert status == 1, printed
    assert "  db: Required." in printed  # a select left empty: Slack's client would not send it, the ingress says so


def test_a_restore_of_a_backup_that_does_not_exist_is_answered_under_the_backup_field(local: Local) -> None:
    fields = ("--field", "db=orders", "--field", "from=orders-20261128T101500Z-3f9c2a")
    status, printed, _ = local.submit("restore", *fields, user=LEAD)

    assert status == 1, printed
    assert "  from: orders has no backup orders-20261128T101500Z-3f9c2a: nothing was restored" in printed
