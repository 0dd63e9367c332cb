"""Deploy service fixtures: the fake Jenkins over real HTTP, the claims table in moto, in-memory scheduler."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
from services.deploy.deps import DeployDeps, DeploySettings
from shared.aws.tables import DEPLOYS, create_table
from tests.support.deploy import CONFIG, Clock
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryScheduler
from tools.fakes.jenkins import FakeJenkins


@pytest.fixture
def jenkins() -> Iterator[FakeJenkins]:
    with FakeJenkins(jobs=["deploy-acme", "deploy-globex", "globex-prod"]) as server:
        yield server


@pytest.fixture
def store() -> Iterator[DynamoClaimStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, DEPLOYS, "slashops-deploy-test")
        yield DynamoClaimStore("slashops-deploy-test", client=client)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def scheduler() -> MemoryScheduler:
    return MemoryScheduler()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def deps(
    jenkins: FakeJenkins,
    store: DynamoClaimStore,
    scheduler: MemoryScheduler,
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
