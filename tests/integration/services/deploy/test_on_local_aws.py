"""The handler wired from the environment, as `make run` and AWS wire it: SQS and EventBridge on LocalStack,
the claims table on moto's server, Jenkins credentials from the environment or Secrets Manager."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from services.deploy.bootstrap import deploy_deps, deps_from, jenkins_credentials
from services.deploy.deps import DeployEnv
from services.deploy.handler import handle_batch, lambda_handler
from shared.aws.tables import DEPLOYS, LOCKS, create_table
from shared.events.envelope import parse_eventbridge_json
from shared.events.models import CommandProgress, CommandSucceeded
from tests.support.deploy import requested
from tests.support.events import eventbridge_body, sqs_batch
from tools.fakes.jenkins import FakeJenkins
from tools.local.aws import Service

pytestmark = pytest.mark.integration


@pytest.fixture
def local_env(
    localstack: Service, moto_server: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Any]]:
    name = f"slashops-{uuid.uuid4().hex[:8]}"
    events = boto3.client("events", endpoint_url=localstack.endpoint)
    sqs = boto3.client("sqs", endpoint_url=localstack.endpoint)
    events.create_event_bus(Name=name)
    deploy_queue = sqs.create_queue(QueueName=f"{name}-deploy")["QueueUrl"]
    results_queue = sqs.create_queue(QueueName=f"{name}-results")["QueueUrl"]
    results_arn = sqs.get_queue_attributes(QueueUrl=results_queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name="deploy-results", EventBusName=name, EventPattern=json.dumps({"source": ["slashops.deploy"]}))
    events.put_targets(Rule="deploy-results", EventBusName=name, Targets=[{"Id": "results", "Arn": results_arn}])
    create_table(boto3.client("dynamodb", endpoint_url=moto_server.endpoint), DEPLOYS, name)
    create_table(boto3.client("dynamodb", endpoint_url=moto_server.endpoint), LOCKS, f"{name}-locks")
    config = tmp_path / "slashops.json"
    config.write_text('{"command": "deploy", "users": ["U0STARTER"]}')  # the seed format: default deploy rules
    with FakeJenkins(jobs=["deploy-acme"], polls_before_start=0, polls_before_finish=0) as jenkins:
        for key, value in {
            "AWS_ENDPOINT_URL": localstack.endpoint,
            "AWS_ENDPOINT_URL_DYNAMODB": moto_server.endpoint,
            "SLASHOPS_EVENT_BUS": name,
            "SLASHOPS_DEPLOY_TABLE": name,
            "SLASHOPS_LOCK_TABLE": f"{name}-locks",
            "SLASHOPS_DEPLOY_QUEUE_URL": deploy_queue,
            "SLASHOPS_CONFIG": str(config),
            "JENKINS_URL": jenkins.url,
            "JENKINS_USER": jenkins.user,
            "JENKINS_API_TOKEN": jenkins.token,
            "SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "1",
            "SLASHOPS_DEPLOY_FOLLOW_DELAY": "1",
        }.items():
            monkeypatch.setenv(key, value)
        yield {"sqs": sqs, "deploy_queue": deploy_queue, "results_queue": results_queue, "jenkins": jenkins}
    events.remove_targets(Rule="deploy-results", EventBusName=name, Ids=["results"])
    events.delete_rule(Name="deploy-results", EventBusName=name)
    events.delete_event_bus(Name=name)


def _as_lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    event = sqs_batch(*((m["MessageId"], m["Body"]) for m in messages))
    for record, message in zip(event["Records"], messages, strict=True):
        record["attributes"]["ApproximateReceiveCount"] = message["Attributes"]["ApproximateReceiveCount"]
    return event


def test_deploy_follows_its_build_through_delayed_sqs_messages_to_a_result_event(local_env: dict[str, Any]) -> None:
    sqs, jenkins = local_env["sqs"], local_env["jenkins"]
    deps = deps_from(DeployEnv.from_env())
    request = requested()

    assert handle_batch(sqs_batch(("m-1", eventbridge_body(request))), None, deps) == {"batchItemFailures": []}
    results: list[Any] = []
    deadline = time.monotonic() + 30
    while not any(isinstance(r, CommandSucceeded) for r in results):
        assert time.monotonic() < deadline, f"no result; got {results}"
        received = sqs.receive_message(
            QueueUrl=local_env["deploy_queue"], WaitTimeSeconds=1, AttributeNames=["ApproximateReceiveCount"]
        ).get("Messages", [])
        if received:
            assert handle_batch(_as_lambda_event(received), None, deps) == {"batchItemFailures": []}
            for message in received:
                sqs.delete_message(QueueUrl=local_env["deploy_queue"], ReceiptHandle=message["ReceiptHandle"])
        for message in sqs.receive_message(QueueUrl=local_env["results_queue"], MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            results.append(parse_eventbridge_json(message["Body"]))
            sqs.delete_message(QueueUrl=local_env["results_queue"], ReceiptHandle=message["ReceiptHandle"])

    assert len(jenkins.triggered) == 1
    assert any(isinstance(r, CommandProgress) and "#1" in r.message for r in results)
    assert all(r.command_id == request.command_id for r in results)


def test_follow_message_is_sent_with_a_delay(local_env: dict[str, Any]) -> None:
    sqs = local_env["sqs"]
    deps = deps_from(DeployEnv.from_env({**os.environ, "SLASHOPS_DEPLOY_FIRST_FOLLOW_DELAY": "3"}))

    handle_batch(sqs_batch(("m-1", eventbridge_body(requested()))), None, deps)

    assert sqs.receive_message(QueueUrl=local_env["deploy_queue"], WaitTimeSeconds=1).get("Messages", []) == []
    later = sqs.receive_message(QueueUrl=local_env["deploy_queue"], WaitTimeSeconds=5).get("Messages", [])
    assert [json.loads(m["Body"])["kind"] for m in later] == ["slashops.deploy.follow"]


def test_jenkins_credentials_come_from_secrets_manager_when_not_in_the_environment(localstack: Service) -> None:
    secrets = boto3.client("secretsmanager", endpoint_url=localstack.endpoint)
    name = f"slashops/jenkins-{uuid.uuid4().hex[:8]}"
    secrets.create_secret(Name=name, SecretString=json.dumps({"user": "bot", "api_token": "t0k3n"}))
    env = DeployEnv.from_env({"JENKINS_SECRET_ID": name, "AWS_ENDPOINT_URL": localstack.endpoint})

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", localstack.endpoint)
        assert jenkins_credentials(env) == ("bot", "t0k3n")


def test_lambda_handler_wires_itself_from_the_environment(local_env: dict[str, Any]) -> None:
    deploy_deps.cache_clear()
    try:
        response = lambda_handler(sqs_batch(("m-1", eventbridge_body(requested()))), None)
    finally:
        deploy_deps.cache_clear()

    assert response == {"batchItemFailures": []}
    assert len(local_env["jenkins"].triggered) == 1
