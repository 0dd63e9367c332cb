"""Deploy service fixtures: the fake Jenkins over real HTTP, the claims table in moto, recording ports."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from services.deploy.claims import DynamoClaimStore, create_table
from services.deploy.jenkins_adapter import PythonJenkinsAdapter
from services.deploy.service import DeployDeps, DeploySettings
from tests.integration.services.deploy.helpers import RecordingScheduler
from tests.support.fakes import RecordingPublisher, StaticConfig
from tools.fake_jenkins import FakeJenkins

CONFIG = """
access:
  - {command: deploy, users: [U0STARTER]}
  - {command: cancel, users: [U0LEAD]}
deploy:
  clients:
    acme: {}
    globex:
      environments:
        production: {job: globex-prod, parameters: {TARGET: prod, GIT_REF: "{branch}"}}
    initech: {}
"""


@pytest.fixture
def jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins(jobs=["deploy-acme", "deploy-globex", "globex-prod"]) as server:
        yield server


@pytest.fixture
def store() -> Iterator[DynamoClaimStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "slashops-deploy-test")
        yield DynamoClaimStore("slashops-deploy-test", client=client)


class Clock:
    def __init__(self) -> None:
        self.now = 1_764_331_200.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def scheduler() -> RecordingScheduler:
    return RecordingScheduler()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def deps(
    jenkins: FakeJenkins,
    store: DynamoClaimStore,
    scheduler: RecordingScheduler,
    publisher: RecordingPublisher,
    clock: Clock,
) -> DeployDeps:
    adapter = PythonJenkinsAdapter(jenkins.url, lambda: (jenkins.user, jenkins.token), timeout=0.5)
    return DeployDeps(
        jenkins=adapter,
        store=store,
        scheduler=scheduler,
        publisher=publisher,
        config=StaticConfig.from_text(CONFIG),
        settings=DeploySettings(max_trigger_attempts=3, max_follow_failures=2),
        clock=clock,
    )
