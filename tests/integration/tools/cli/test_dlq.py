"""`slashops dlq`: list and redrive on LocalStack (StartMessageMoveTask) and on moto's server (which lacks it)."""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import boto3
import pytest

from tools.cli.dlq import Pair, list_command, main, peek, redrive, waiting
from tools.local.aws import Service

pytestmark = pytest.mark.integration


def _pair(endpoint: str, bodies: list[str]) -> tuple[Any, Pair]:
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    prefix = f"d{uuid.uuid4().hex[:8]}"
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-deploy-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive_policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
    sqs.create_queue(QueueName=f"{prefix}-deploy", Attributes={"RedrivePolicy": redrive_policy})
    for body in bodies:
        sqs.send_message(QueueUrl=dlq_url, MessageBody=body)
    return sqs, Pair.of(sqs, "deploy", prefix=prefix)


def _event(command_id: str) -> str:
    detail = {"command": "deploy", "command_id": command_id}
    return json.dumps({"detail-type": "CommandRequested", "source": "slashops.ingress", "detail": detail})


@pytest.mark.parametrize(("server", "how"), [("localstack", "StartMessageMoveTask"), ("moto", "receive/send/delete")])
def test_redrive_moves_every_message_back_to_the_source_queue(
    server: str, how: str, request: pytest.FixtureRequest
) -> None:
    service: Service = request.getfixturevalue("localstack" if server == "localstack" else "moto_server")
    bodies = [_event(f"c{index:02d}") for index in range(13)] + ["not json"]
    sqs, pair = _pair(service.endpoint, bodies)

    listed = peek(sqs, pair.dlq)
    assert sorted(letter.command_id for letter in listed) == ["", *sorted(f"c{index:02d}" for index in range(13))]
    assert waiting(sqs, pair.dlq) == 14  # listing leaves them there

    result = redrive(sqs, pair)
    assert (result.moved, result.how) == (14, how)
    assert waiting(sqs, pair.dlq) == 0
    received: list[str] = []
    while batch := sqs.receive_message(QueueUrl=pair.source.url, MaxNumberOfMessages=10).get("Messages", []):
        received += [message["Body"] for message in batch]
    assert sorted(received) == sorted(bodies)


def test_list_names_the_commands_waiting(localstack: Service) -> None:
    sqs, pair = _pair(localstack.endpoint, [_event("abc123def456")])
    out = io.StringIO()
    assert list_command(sqs, pair, out) == 0
    assert "about 1 message(s)" in out.getvalue() and "CommandRequested deploy `abc123def456`" in out.getvalue()
    assert "slashops dlq redrive deploy" in out.getvalue()


def test_the_command_line_takes_an_emulator_endpoint_like_every_operator_verb(
    moto_server: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_REGION", raising=False)
    sqs, pair = _pair(moto_server.endpoint, [_event("fedcba654321")])
    prefix = pair.source.url.rsplit("/", 1)[-1].removesuffix("-deploy")
    target = ["--prefix", prefix, "--endpoint-url", moto_server.endpoint]

    out = io.StringIO()
    assert main(["dlq", "list", "deploy", *target], out) == 0, out.getvalue()
    assert "about 1 message(s)" in out.getvalue() and "`fedcba654321`" in out.getvalue()
    out = io.StringIO()
    assert main(["redrive", "deploy", *target], out) == 0, out.getvalue()
    assert out.getvalue().startswith("moved 1 message(s)")
    assert waiting(sqs, pair.dlq) == 0


def test_list_suggests_a_redrive_aimed_where_it_looked(moto_server: Service) -> None:
    """Issue 21.11: after `dlq list --local` the suggestion without `--local` would have aimed at AWS."""
    sqs, pair = _pair(moto_server.endpoint, [_event("0123456789ab")])
    prefix = pair.source.url.rsplit("/", 1)[-1].removesuffix("-deploy")
    out = io.StringIO()
    assert main(["list", "deploy", "--prefix", prefix, "--endpoint-url", moto_server.endpoint], out) == 0
    suggested = f"`slashops dlq redrive deploy --endpoint-url {moto_server.endpoint} --prefix {prefix}` moves them"
    assert suggested in out.getvalue(), out.getvalue()
