"""`make deploy`'s runner against CloudFormation's documented answers (botocore's Stubber: no network).

moto answers an unchanged update by refusing the change set at once; AWS creates it and ends it FAILED with
"The submitted information didn't contain changes": both must mean "unchanged", and nothing is executed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tools.release.deploy import DeployError, Runner, StackDeploy, Upload
from tools.release.stacks import INFRA, load_template

STACK = "ops-notifier"
CHANGE_SET = "arn:aws:cloudformation:eu-west-1:123456789012:changeSet/slashops-1/abc"
TEMPLATE = INFRA / "notifier.yaml"


@pytest.fixture
def stubbed() -> Iterator[tuple[Runner, Stubber, list[str]]]:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    cloudformation = session.client("cloudformation")
    said: list[str] = []
    runner = Runner(cloudformation, session.client("s3"), say=said.append, poll_seconds=0, timeout=5)
    with Stubber(cloudformation) as stubber:
        yield runner, stubber, said
        stubber.assert_no_pending_responses()


def _stack(status: str, parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": STACK,
                "StackStatus": status,
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
                "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
                "Outputs": [{"OutputKey": "LedgerTableName", "OutputValue": "slashops-ledger"}],
            }
        ]
    }


EXISTING = {"BusStackName": "ops-bus", "BotTokenSecretArn": "arn:bot", "ArtifactBucket": "b", "ArtifactKey": "k1"}


def _expect_change_set(stubber: Stubber, given: dict[str, str]) -> None:
    parameters: list[dict[str, Any]] = [{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()]
    declared = load_template(TEMPLATE.read_text())["Parameters"]  # in the template's order
    parameters += [{"ParameterKey": k, "UsePreviousValue": True} for k in declared if k in EXISTING and k not in given]
    stubber.add_response("describe_stacks", _stack("CREATE_COMPLETE", EXISTING), {"StackName": STACK})
    stubber.add_response(
        "create_change_set",
        {"Id": CHANGE_SET, "StackId": "arn:stack"},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "TemplateBody": TEMPLATE.read_text(),
            "Parameters": parameters,
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
            "ChangeSetType": "UPDATE",
        },
    )


def _described(status: str, reason: str = "", changes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    described = {"ChangeSetId": CHANGE_SET, "StackName": STACK, "Status": status, "StatusReason": reason}
    return {**described, "Changes": changes or []}


def test_an_unchanged_update_on_aws_is_deleted_not_executed_and_parameters_not_given_keep_their_values(
    stubbed: tuple[Runner, Stubber, list[str]],
) -> None:
    runner, stubber, said = stubbed
    _expect_change_set(stubber, {"ArtifactKey": "k1"})
    stubber.add_response("describe_change_set", _described("CREATE_PENDING"), {"ChangeSetName": CHANGE_SET})
    reason = "The submitted information didn't contain changes. Submit different information to create a change set."
    stubber.add_response("describe_change_set", _described("FAILED", reason), {"ChangeSetName": CHANGE_SET})
    stubber.add_response("delete_change_set", {}, {"ChangeSetName": CHANGE_SET})

    result = runner.deploy_stack(StackDeploy(STACK, TEMPLATE, ("ArtifactKey=k1",)))

    assert (result.action, result.outputs) == ("unchanged", {"LedgerTableName": "slashops-ledger"})
    assert f"  {STACK}: no changes, nothing deployed" in said


def test_a_change_set_with_changes_is_shown_then_executed(stubbed: tuple[Runner, Stubber, list[str]]) -> None:
    runner, stubber, said = stubbed
    _expect_change_set(stubber, {"ArtifactKey": "k2"})
    modify = {"Action": "Modify", "LogicalResourceId": "Function", "Replacement": "False"}
    described = _described("CREATE_COMPLETE", changes=[{"Type": "Resource", "ResourceChange": modify}])
    stubber.add_response("describe_change_set", described, {"ChangeSetName": CHANGE_SET})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    stubber.add_response("describe_stacks", _stack("UPDATE_IN_PROGRESS", EXISTING), {"StackName": STACK})
    stubber.add_response("describe_stacks", _stack("UPDATE_COMPLETE", EXISTING), {"StackName": STACK})

    result = runner.deploy_stack(StackDeploy(STACK, TEMPLATE, ("ArtifactKey=k2",)))

    assert result.action == "updated"
    assert "  Modify Function" in said and f"  {STACK}: updated (UPDATE_COMPLETE)" in said


def test_a_failed_update_names_the_failed_resources(stubbed: tuple[Runner, Stubber, list[str]]) -> None:
    runner, stubber, _ = stubbed
    _expect_change_set(stubber, {"ArtifactKey": "k3"})
    stubber.add_response("describe_change_set", _described("CREATE_COMPLETE"), {"ChangeSetName": CHANGE_SET})
    stubber.add_response("execute_change_set", {}, {"ChangeSetName": CHANGE_SET})
    stubber.add_response("describe_stacks", _stack("UPDATE_ROLLBACK_COMPLETE", EXISTING), {"StackName": STACK})
    failed = {
        "StackId": "arn:stack",
        "EventId": "e1",
        "StackName": STACK,
        "Timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "LogicalResourceId": "Function",
        "ResourceStatus": "UPDATE_FAILED",
        "ResourceStatusReason": "S3 key does not exist",
    }
    stubber.add_response("describe_stack_events", {"StackEvents": [failed]}, {"StackName": STACK})

    with pytest.raises(DeployError, match=r"ended UPDATE_ROLLBACK_COMPLETE: Function: S3 key does not exist"):
        runner.deploy_stack(StackDeploy(STACK, TEMPLATE, ("ArtifactKey=k3",)))


def test_a_stack_whose_creation_failed_must_be_deleted_first(stubbed: tuple[Runner, Stubber, list[str]]) -> None:
    runner, stubber, _ = stubbed
    stubber.add_response("describe_stacks", _stack("ROLLBACK_COMPLETE", {}), {"StackName": STACK})
    with pytest.raises(DeployError, match=r"delete-stack --stack-name ops-notifier"):
        runner.deploy_stack(StackDeploy(STACK, TEMPLATE, ()))


def test_a_parameter_the_template_does_not_declare_is_refused_before_any_call(
    stubbed: tuple[Runner, Stubber, list[str]],
) -> None:
    runner, _, _ = stubbed
    with pytest.raises(DeployError, match="notifier.yaml has no parameter OrdersDatabaseUrlSecretArn"):
        runner.deploy_stack(StackDeploy(STACK, TEMPLATE, ("OrdersDatabaseUrlSecretArn=arn:x",)))


def test_an_upload_already_there_is_not_repeated(tmp_path: Path) -> None:
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="eu-west-1")
    s3 = session.client("s3")
    said: list[str] = []
    runner = Runner(session.client("cloudformation"), s3, say=said.append)
    artifact = tmp_path / "notifier.zip"
    artifact.write_bytes(b"zip")
    with Stubber(s3) as stubber:
        stubber.add_response("head_object", {"ContentLength": 3}, {"Bucket": "code", "Key": "k.zip"})
        runner.run(Upload(artifact, "code", "k.zip"))
    assert said[-1] == "  s3://code/k.zip is already there (same content): not uploaded again"
