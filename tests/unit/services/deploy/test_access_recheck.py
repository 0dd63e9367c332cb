"""`deploy` re-checks the caller against the access rules as they are now, before any claim or Jenkins call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.deploy.deps import DeployDeps
from services.deploy.models import Delivery
from shared.errors import ConfigurationError
from shared.events.models import (
    Actor,
    Approval,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandRequested,
    Place,
    ReplyTarget,
)
from tests.support.deploy import Clock, MemoryDeploy, start_deploy
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryClaimStore, MemoryJenkins
from tests.support.fakes.groups import MemoryGroupDirectory
from tests.support.incidents import incident_shown, logged_detail

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RULES = """
access:
  - {command: deploy, users: [U0LEAD], channels: [C0OPS]}
deploy:
  clients: {acme: {}}
"""


def _deps(config: StaticConfig) -> tuple[DeployDeps, MemoryJenkins, MemoryClaimStore]:
    deploy = MemoryDeploy(clock=Clock(NOW.timestamp()))
    deploy.deps.config = config
    return deploy.deps, deploy.jenkins, deploy.store


def _deploy(user_id: str = "U0LEAD", channel_id: str = "C0OPS", command_id: str = "abcdef123456") -> CommandRequested:
    return CommandRequested(
        command_id=command_id,
        command="deploy",
        arguments={"client": "acme", "branch": "main", "env": "staging"},
        actor=Actor(team_id="T1", user_id=user_id),
        place=Place(channel_id=channel_id),
        reply_to=ReplyTarget(response_url="https://hooks.slack.test/r/1", channel_id=channel_id, user_id=user_id),
        requested_at=NOW,
    )


def _events(deps: DeployDeps) -> list[object]:
    assert isinstance(deps.publisher, RecordingPublisher)
    return list(deps.publisher.events)


def test_an_admitted_caller_deploys() -> None:
    deps, jenkins, claims = _deps(StaticConfig.from_text(RULES))
    start_deploy(_deploy(), deps)
    assert [job for job, _ in jenkins.triggered] == ["deploy-acme"]
    assert isinstance(_events(deps)[-1], CommandProgress)


def test_a_caller_the_rules_no_longer_admit_is_rejected_before_any_claim_or_jenkins_call() -> None:
    deps, jenkins, claims = _deps(StaticConfig.from_text(RULES))

    start_deploy(_deploy(user_id="U0INTERN"), deps)

    [rejected] = _events(deps)
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == (
        "<@U0INTERN> is not allowed to run `deploy` in this channel (the access rules changed, or the request did "
        "not come from the ingress). Nothing was run."
    )
    assert jenkins.triggered == [] and claims.records == {}


def test_an_admitted_user_in_another_channel_is_rejected() -> None:
    deps, jenkins, claims = _deps(StaticConfig.from_text(RULES))
    start_deploy(_deploy(channel_id="C0RANDOM"), deps)
    assert isinstance(_events(deps)[0], CommandRejected) and jenkins.triggered == []


def test_a_broken_configuration_refuses_fail_closed(caplog: pytest.LogCaptureFixture) -> None:
    deps, jenkins, claims = _deps(StaticConfig(ConfigurationError("ssm:/slashops/config: cannot read (ClientError)")))
    start_deploy(_deploy(), deps)
    [failed] = _events(deps)
    assert isinstance(failed, CommandFailed) and "so `deploy` was not run" in failed.reason
    incident = incident_shown(failed.reason, "ssm:", "/slashops/config")  # parameter names: the admins' logs only
    logged_detail(caplog, incident, "ssm:/slashops/config: cannot read (ClientError)", "deploy service")
    assert jenkins.triggered == []


def test_a_redelivery_of_a_deploy_claimed_while_allowed_carries_on_without_a_second_build() -> None:
    deps, jenkins, claims = _deps(StaticConfig.from_text(RULES))
    start_deploy(_deploy(), deps)
    deps.config = StaticConfig.from_text(RULES.replace("U0LEAD", "U0SOMEONE_ELSE"))  # access revoked since
    published = len(_events(deps))

    start_deploy(_deploy(), deps, Delivery(receive_count=2))

    assert [job for job, _ in jenkins.triggered] == ["deploy-acme"]
    assert len(_events(deps)) == published  # no "not allowed" for a build that is running


LIMITED = """
access:
  - {command: deploy, users: [U0DEV], arguments: {env: [staging]}}
  - {command: deploy, groups: ["@sre"]}
deploy:
  clients: {acme: {}}
"""


def _with_env(env: str, user_id: str) -> CommandRequested:
    event = _deploy(user_id=user_id)
    return event.model_copy(update={"arguments": {**event.arguments, "env": env}})


def test_the_recheck_applies_argument_rules_to_the_events_arguments() -> None:
    deps, jenkins, _ = _deps(StaticConfig.from_text(LIMITED))
    start_deploy(_with_env("production", "U0DEV"), deps)  # e.g. a forged or replayed event, or rules tightened
    assert isinstance(_events(deps)[0], CommandRejected) and jenkins.triggered == []
    start_deploy(_with_env("staging", "U0DEV").model_copy(update={"command_id": "bbbbbb123456"}), deps)
    assert [job for job, _ in jenkins.triggered] == ["deploy-acme"]


def test_the_recheck_asks_slack_for_groups_and_fails_closed_when_it_cannot() -> None:
    deps, jenkins, _ = _deps(StaticConfig.from_text(LIMITED))
    deps.groups = MemoryGroupDirectory(unavailable=True).define("S0SRE", "sre", ["U0SRE1"])
    start_deploy(_with_env("production", "U0SRE1"), deps)
    assert isinstance(_events(deps)[0], CommandRejected) and jenkins.triggered == []

    deps.groups = MemoryGroupDirectory().define("S0SRE", "sre", ["U0SRE1"])
    start_deploy(_with_env("production", "U0SRE1").model_copy(update={"command_id": "cccccc123456"}), deps)
    assert [job for job, _ in jenkins.triggered] == ["deploy-acme"]


HELD = """
access:
  - {command: deploy, users: [U0LEAD], channels: [C0OPS]}
  - {command: deploy, arguments: {env: [production]}, approval: {users: [U0BOB]}}
deploy:
  clients: {acme: {}}
"""


@pytest.mark.parametrize(
    ("approver", "runs"),
    [(None, False), ("U0LEAD", False), ("U0MALLORY", False), ("U0BOB", True)],
)
def test_a_production_deploy_a_rule_holds_runs_only_with_a_valid_approval(approver: str | None, runs: bool) -> None:
    """No approval (a forged or re-sent event), the requester's own, or an unlisted approver: rejected, untouched."""
    deps, jenkins, claims = _deps(StaticConfig.from_text(HELD))
    approval = None if approver is None else Approval(approver_id=approver, approved_at=NOW)
    event = _deploy().model_copy(
        update={"arguments": {"client": "acme", "branch": "main", "env": "production"}, "approval": approval}
    )

    start_deploy(event, deps)

    assert bool(jenkins.triggered) is runs
    if not runs:
        [rejected] = _events(deps)
        assert isinstance(rejected, CommandRejected) and "not allowed to run `deploy`" in rejected.reason
        assert claims.records == {}
