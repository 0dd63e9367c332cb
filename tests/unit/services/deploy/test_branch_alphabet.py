"""The deploy service checks a branch against its client's alphabet again before building any job from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from services.deploy.deps import DeployDeps
from services.deploy.models import DeployRequest
from shared.commands.catalog import CATALOG
from shared.config.deploy import DeployConfig, UnsafeBranchError
from shared.config.loader import parse_config
from shared.errors import ConfigurationError
from shared.events.models import CommandRejected
from tests.support.deploy import requested, start_deploy
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import Untouchable

WIDENED = "access:\n  - {command: deploy}\ndeploy:\n  clients:\n    acme: {}\n    initech: {branch_characters: '+@'}\n"


def _deploy_config(text: str) -> DeployConfig:
    return parse_config(text, origin="config.yaml", known_commands=CATALOG.names()).deploy


def test_branch_characters_widen_one_clients_alphabet_only() -> None:
    config = _deploy_config(WIDENED)
    assert config.branch_problem("initech", "feature+x@2") is None
    assert config.branch_problem("acme", "feature+x") is not None
    assert config.plan(client="initech", branch="feature+x", env="staging").parameters["BRANCH"] == "feature+x"


@pytest.mark.parametrize("branch", ["$(id)", "`id`", "a;b", "a|b", "$HOME", "main\u202e", "x🚀", "main\n"])
def test_plan_never_builds_a_job_from_a_refused_branch(branch: str) -> None:
    for config in (_deploy_config(WIDENED), DeployConfig()):
        with pytest.raises(UnsafeBranchError):
            config.plan(client="acme", branch=branch, env="staging")


@pytest.mark.parametrize(
    ("characters", "expected"),
    [
        (" ", "contains U+0020 SPACE: control, format and whitespace characters are never allowed"),
        ("+\t", "contains U+0009 CHARACTER TABULATION"),
        ("\u202e", "contains U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u00a0", "contains U+00A0 NO-BREAK SPACE"),
        ("~", "contains '~', which git never allows in a branch name"),
    ],
)
def test_branch_characters_are_checked_when_the_configuration_loads(characters: str, expected: str) -> None:
    text = json.dumps({"deploy": {"clients": {"acme": {"branch_characters": characters}}}})
    with pytest.raises(ConfigurationError) as caught:
        _deploy_config(text)
    assert "deploy.clients.acme.branch_characters: " + expected in caught.value.message


@pytest.mark.parametrize("branch", ["main\n", "main\u202e", "a\u200bb", "a b", "a..b"])
def test_the_deploy_request_refuses_control_characters_and_git_violations(branch: str) -> None:
    with pytest.raises(ValidationError):
        DeployRequest.model_validate({"client": "acme", "branch": branch})


def test_the_deploy_request_leaves_the_alphabet_to_the_clients_configuration() -> None:
    assert DeployRequest.model_validate({"client": "initech", "branch": "feature+x"}).branch == "feature+x"


@pytest.mark.parametrize(("client", "branch"), [("acme", "$(id)"), ("acme", "feature+x"), ("initech", "a;b")])
def test_a_branch_outside_its_clients_alphabet_is_rejected_before_jenkins(client: str, branch: str) -> None:
    publisher = RecordingPublisher()
    deps = DeployDeps(
        jenkins=Untouchable(),  # type: ignore[arg-type]
        store=Untouchable(),  # type: ignore[arg-type]
        scheduler=Untouchable(),  # type: ignore[arg-type]
        publisher=publisher,
        config=StaticConfig.from_text(WIDENED),
    )
    event = requested(arguments={"client": client, "branch": branch, "env": "staging"})
    start_deploy(event.model_copy(update={"requested_at": datetime.now(UTC)}), deps)
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason.startswith(f"Branch `{branch}` cannot be deployed for `{client}`: it may contain only")
    assert f"`deploy.clients.{client}.branch_characters`" in rejected.hint
