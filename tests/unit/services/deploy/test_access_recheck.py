"""`deploy` re-checks the caller against the access rules as they are now, before any claim or Jenkins call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from services.deploy.models import ClaimRecord, FollowMessage
from services.deploy.service import DeployDeps
from services.deploy.starting import start_deploy
from shared.errors import ConfigurationError
from shared.events.models import (
    Actor,
    CommandFailed,
    CommandProgress,
    CommandRejected,
    CommandRequested,
    Place,
    ReplyTarget,
)
from tests.support.fakes import RecordingPublisher, StaticConfig

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RULES = """
access:
  - {command: deploy, users: [U0LEAD], channels: [C0OPS]}
deploy:
  clients: {acme: {}}
"""


@dataclass
class MemoryClaims:
    records: dict[str, ClaimRecord] = field(default_factory=dict)

    def create(self, record: ClaimRecord) -> bool:
        if record.command_id in self.records:
            return False
        self.records[record.command_id] = record
        return True

    def get(self, command_id: str) -> ClaimRecord | None:
        return self.records.get(command_id)

    def update(self, command_id: str, changes: Mapping[str, Any], *, expect: Mapping[str, Any]) -> bool:
        record = self.records[command_id]
        if any(getattr(record, name) != value for name, value in expect.items()):
            return False
        self.records[command_id] = record.model_copy(update=dict(changes))
        return True


@dataclass
class CountingJenkins:
    triggered: list[str] = field(default_factory=list)

    def trigger(self, job: str, parameters: Mapping[str, str]) -> int:
        self.triggered.append(job)
        return len(self.triggered)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected Jenkins call: {name}")


@dataclass
class Follows:
    scheduled: list[FollowMessage] = field(default_factory=list)

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        self.scheduled.append(message)


def _deps(config: StaticConfig, claims: MemoryClaims | None = None) -> tuple[DeployDeps, CountingJenkins]:
    jenkins = CountingJenkins()
    deps = DeployDeps(
        jenkins=jenkins,  # type: ignore[arg-type]
        store=claims or MemoryClaims(),
        scheduler=Follows(),
        publisher=RecordingPublisher(),
        config=config,
        clock=lambda: NOW.timestamp(),
    )
    return deps, jenkins


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
    deps, jenkins = _deps(StaticConfig.from_text(RULES))
    start_deploy(deps, _deploy())
    assert jenkins.triggered == ["deploy-acme"]
    assert isinstance(_events(deps)[-1], CommandProgress)


def test_a_caller_the_rules_no_longer_admit_is_rejected_before_any_claim_or_jenkins_call() -> None:
    claims = MemoryClaims()
    deps, jenkins = _deps(StaticConfig.from_text(RULES), claims)

    start_deploy(deps, _deploy(user_id="U0INTERN"))

    [rejected] = _events(deps)
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == (
        "<@U0INTERN> is not allowed to run `deploy` in this channel (the access rules changed, or the request did "
        "not come from the ingress). Nothing was started."
    )
    assert jenkins.triggered == [] and claims.records == {}


def test_an_admitted_user_in_another_channel_is_rejected() -> None:
    deps, jenkins = _deps(StaticConfig.from_text(RULES))
    start_deploy(deps, _deploy(channel_id="C0RANDOM"))
    assert isinstance(_events(deps)[0], CommandRejected) and jenkins.triggered == []


def test_a_broken_configuration_refuses_fail_closed() -> None:
    deps, jenkins = _deps(StaticConfig(ConfigurationError("ssm:/slashops/config: cannot read (ClientError)")))
    start_deploy(deps, _deploy())
    [failed] = _events(deps)
    assert isinstance(failed, CommandFailed) and "configuration is unusable" in failed.reason
    assert jenkins.triggered == []


def test_a_redelivery_of_a_deploy_claimed_while_allowed_carries_on_without_a_second_build() -> None:
    claims = MemoryClaims()
    deps, jenkins = _deps(StaticConfig.from_text(RULES), claims)
    start_deploy(deps, _deploy())
    deps.config = StaticConfig.from_text(RULES.replace("U0LEAD", "U0SOMEONE_ELSE"))  # access revoked since
    published = len(_events(deps))

    start_deploy(deps, _deploy(), receive_count=2)

    assert jenkins.triggered == ["deploy-acme"]
    assert len(_events(deps)) == published  # no "not allowed" for a build that is running
