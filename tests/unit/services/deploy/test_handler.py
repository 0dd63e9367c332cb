"""The Lambda entry: SQS records in, partial-batch failures out, the queue's `maxReceiveCount` known."""

from __future__ import annotations

from services.deploy.deps import DeployEnv, DeploySettings
from services.deploy.errors import JenkinsUnavailableError
from services.deploy.handler import handle_batch
from shared.events.models import CommandFailed
from tests.support.deploy import MemoryDeploy, requested
from tests.support.events import eventbridge_body, sqs_batch


def test_a_transient_failure_fails_the_record_for_redelivery() -> None:
    deploy = MemoryDeploy()
    deploy.jenkins.fail("trigger", lambda: JenkinsUnavailableError("HTTP 503"))
    response = handle_batch(sqs_batch(("m-1", eventbridge_body(requested()))), None, deploy.deps)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]} and deploy.publisher.events == []


def test_the_delivery_at_max_receive_count_is_the_last_attempt_and_reports() -> None:
    deploy = MemoryDeploy(settings=DeploySettings(max_trigger_attempts=10, max_receive_count=2))
    deploy.jenkins.fail("", lambda: JenkinsUnavailableError("HTTP 503"), times=None)

    response = handle_batch(sqs_batch(("m-1", eventbridge_body(requested())), receive_count=2), None, deploy.deps)

    assert response == {"batchItemFailures": []}
    [failed] = deploy.publisher.events
    assert isinstance(failed, CommandFailed) and failed.retryable


def test_max_receive_count_comes_from_the_environment_default_five() -> None:
    assert DeployEnv.from_env({}).service.max_receive_count == 5
    assert DeployEnv.from_env({"SLASHOPS_DEPLOY_MAX_RECEIVE_COUNT": "3"}).service.max_receive_count == 3
