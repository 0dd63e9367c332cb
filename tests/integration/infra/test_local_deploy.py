"""`make deploy-local`: the six stacks from `make package`'s real artifacts, through `make deploy`'s own code
(export check, upload by content hash, create / change-set update), on moto's CloudFormation server.

Asserts each stack's key resources, the exports wired between them, the resource types the emulator skips
(infra/README.md lists them), that deploying one service again changes nothing anywhere, and that a stack
deployed before what it imports is refused with the stack to deploy first.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tools.local.aws import start_moto
from tools.release.deploy import DEPLOY_ORDER, DeployError, deploy, digest
from tools.release.deploy_local import (
    LOCAL_BUCKET,
    LOCAL_IMAGE_REPOSITORY,
    SKIPPED_BY_MOTO,
    LocalDeployment,
    deploy_all,
    runner_for,
    session,
    settings,
    skipped,
)
from tools.release.package import build
from tools.release.stacks import INFRA

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]


@dataclass
class Deployed:
    deployment: LocalDeployment
    artifacts: dict[str, Path | None]
    aws: boto3.Session
    endpoint: str

    def client(self, name: str) -> Any:
        return self.aws.client(name, endpoint_url=self.endpoint)  # type: ignore[call-overload]

    def outputs(self, service: str) -> dict[str, str]:
        return self.deployment.results[service].outputs

    def exports(self) -> dict[str, str]:
        pages = self.client("cloudformation").get_paginator("list_exports").paginate()
        return {export["Name"]: export["Value"] for page in pages for export in page["Exports"]}

    def function(self, name: str) -> dict[str, Any]:
        found: dict[str, Any] = self.client("lambda").get_function(FunctionName=name)
        return found

    def environment(self, name: str) -> dict[str, str]:
        variables: dict[str, str] = self.function(name)["Configuration"]["Environment"]["Variables"]
        return variables


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    out = tmp_path_factory.mktemp("dist")
    artifacts = {service: build(service, out) for service in DEPLOY_ORDER}  # `make package`, each unit
    moto = start_moto()  # its own server: the stacks use fixed names (slashops-ingress, slashops-locks, ...)
    try:
        deployment = deploy_all(moto.endpoint, artifacts=artifacts, say=lambda line: None)
        yield Deployed(deployment, artifacts, session(), moto.endpoint)
    finally:
        moto.stop()


def test_all_six_stacks_are_created_in_dependency_order(deployed: Deployed) -> None:
    assert list(deployed.deployment.results) == ["bus", "notifier", "ingress", "deploy", "backup", "observability"]
    assert {result.action for result in deployed.deployment.results.values()} == {"created"}
    stacks = deployed.client("cloudformation").describe_stacks()["Stacks"]
    assert {stack["StackName"]: stack["StackStatus"] for stack in stacks} == {
        f"slashops-{service}": "CREATE_COMPLETE" for service in DEPLOY_ORDER
    }


def test_the_bus_stack_exports_what_the_services_import(deployed: Deployed) -> None:
    exports, bus = deployed.exports(), deployed.outputs("bus")
    sqs = deployed.client("sqs")
    for consumer in ("Deploy", "Backup", "Notifier"):
        url = bus[f"{consumer}QueueUrl"]
        assert exports[f"slashops-bus-{consumer}QueueArn"] == bus[f"{consumer}QueueArn"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])["Attributes"]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert str(redrive["maxReceiveCount"]) == exports["slashops-bus-MaxReceiveCount"] == "5"
        assert redrive["deadLetterTargetArn"].endswith(f"slashops-{consumer.lower()}-dlq")
    events = deployed.client("events")
    for rule, queue in [("deploy-commands", "Deploy"), ("backup-commands", "Backup"), ("all-events", "Notifier")]:
        targets = events.list_targets_by_rule(Rule=f"slashops-{rule}", EventBusName=bus["BusName"])["Targets"]
        assert [target["Arn"] for target in targets] == [bus[f"{queue}QueueArn"]]


def _code_sha256(path: Path) -> str:
    return base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()


@pytest.mark.parametrize("service", ["notifier", "ingress", "deploy"])
def test_each_lambda_runs_the_packaged_zip_uploaded_under_its_content_hash(deployed: Deployed, service: str) -> None:
    artifact = deployed.artifacts[service]
    assert artifact is not None
    key = f"slashops/{service}/{digest(artifact)}.zip"
    stored = deployed.client("s3").get_object(Bucket=LOCAL_BUCKET, Key=key)["Body"].read()
    assert stored == artifact.read_bytes()
    assert deployed.function(f"slashops-{service}")["Configuration"]["CodeSha256"] == _code_sha256(artifact)


def test_the_notifier_reads_its_queue_and_keeps_the_ledger_the_ingress_reads(deployed: Deployed) -> None:
    exports, bus = deployed.exports(), deployed.outputs("bus")
    ledger = deployed.outputs("notifier")["LedgerTableName"]
    assert exports["slashops-notifier-LedgerTableName"] == ledger == "slashops-ledger"
    table = deployed.client("dynamodb").describe_table(TableName=ledger)["Table"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["recent"]
    mappings = deployed.client("lambda").list_event_source_mappings(FunctionName="slashops-notifier")
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == [bus["NotifierQueueArn"]]
    notifier = deployed.environment("slashops-notifier")
    assert notifier["SLASHOPS_LEDGER_TABLE"] == ledger and str(notifier["SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT"]) == "5"
    assert str(deployed.function("slashops-notifier")["Concurrency"]["ReservedConcurrentExecutions"]) == "10"

    ingress = deployed.environment("slashops-ingress")
    assert ingress["SLASHOPS_LEDGER_TABLE"] == ledger  # imported from the notifier stack
    assert ingress["SLASHOPS_EVENT_BUS"] == bus["BusName"]
    assert ingress["SLASHOPS_LOCK_TABLE"] == deployed.outputs("ingress")["LockTableName"] == "slashops-locks"


def test_the_deploy_service_reads_the_deploy_queue_and_the_ingress_locks(deployed: Deployed) -> None:
    exports, bus = deployed.exports(), deployed.outputs("bus")
    environment = deployed.environment("slashops-deploy")
    assert environment["SLASHOPS_DEPLOY_QUEUE_URL"] == bus["DeployQueueUrl"]
    assert environment["SLASHOPS_LOCK_TABLE"] == exports["slashops-ingress-LockTableName"]
    # moto keeps the imported number as a number; AWS gives every variable as a string
    assert str(environment["SLASHOPS_DEPLOY_MAX_RECEIVE_COUNT"]) == exports["slashops-bus-MaxReceiveCount"]
    assert environment["SLASHOPS_DEPLOY_TABLE"] == "slashops-deploy"
    mappings = deployed.client("lambda").list_event_source_mappings(FunctionName="slashops-deploy")
    assert [m["EventSourceArn"] for m in mappings["EventSourceMappings"]] == [bus["DeployQueueArn"]]
    assert not deployed.function("slashops-deploy")["Configuration"].get("VpcConfig", {}).get("SubnetIds")
    # reserved as many as the mapping may run at once (infra/deploy-service.yaml `Concurrency`): Jenkins is not flooded
    assert str(deployed.function("slashops-deploy")["Concurrency"]["ReservedConcurrentExecutions"]) == "5"


def test_the_backup_worker_has_its_queue_bucket_databases_and_an_exported_security_group(deployed: Deployed) -> None:
    outputs, bus = deployed.outputs("backup"), deployed.outputs("bus")
    ecs = deployed.client("ecs")
    service = ecs.describe_services(cluster=outputs["ClusterName"], services=[outputs["ServiceName"]])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (container,) = definition["containerDefinitions"]
    environment = {item["name"]: item["value"] for item in container["environment"]}
    assert environment["SLASHOPS_BACKUP_QUEUE_URL"] == bus["BackupQueueUrl"]
    assert environment["SLASHOPS_BACKUP_BUCKET"] == outputs["BucketName"]
    given = dict(parameter.split("=", 1) for parameter in deployed.deployment.parameters["backup"])
    assert environment["SLASHOPS_DATABASE_SECRETS"] == given["Databases"]
    assert environment["SLASHOPS_DATABASE_SECRETS"].startswith("orders=arn:aws:secretsmanager:")
    backup_context = deployed.artifacts["backup"]
    assert backup_context is not None
    assert container["image"] == f"{LOCAL_IMAGE_REPOSITORY}:{digest(backup_context)}"  # placeholder: never pulled
    deployed.client("s3").head_bucket(Bucket=outputs["BucketName"])
    group = outputs["SecurityGroupId"]
    assert deployed.exports()["slashops-backup-SecurityGroupId"] == group
    assert deployed.client("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["GroupId"] == group


def test_the_dashboard_is_named_after_the_bus_and_shows_its_dead_letter_queues(deployed: Deployed) -> None:
    outputs, bus = deployed.outputs("observability"), deployed.outputs("bus")
    assert outputs["DashboardName"] == f"{bus['BusName']}-operations"
    body = json.loads(
        deployed.client("cloudwatch").get_dashboard(DashboardName=outputs["DashboardName"])["DashboardBody"]
    )
    queues = {
        metric[-1]
        for widget in body["widgets"]
        for metric in widget["properties"].get("metrics", [])
        if widget["type"] == "metric" and isinstance(metric[-1], str) and metric[-1].endswith("-dlq")
    }
    sqs = deployed.client("sqs")
    for queue in ("deploy", "backup", "notifier"):  # the queues the dashboard names exist under those names
        name = f"{bus['BusName']}-{queue}-dlq"
        assert sqs.get_queue_url(QueueName=name)["QueueUrl"].endswith(f"/{name}")
        assert bus[f"{queue.capitalize()}DeadLetterQueueUrl"].endswith(f"/{name}")
    assert queues == {f"{bus['BusName']}-{queue}-dlq" for queue in ("deploy", "backup", "notifier")}


def test_the_emulator_skips_only_the_listed_resource_types_and_the_readme_names_them(deployed: Deployed) -> None:
    cloudformation = deployed.client("cloudformation")
    found = {
        kind
        for service, result in deployed.deployment.results.items()
        for kind in skipped(cloudformation, result.stack, service).values()
    }
    assert found == SKIPPED_BY_MOTO
    readme = (INFRA / "README.md").read_text()
    assert [kind for kind in sorted(SKIPPED_BY_MOTO) if f"`{kind}`" not in readme] == []


def _events(deployed: Deployed) -> dict[str, list[str]]:
    cloudformation = deployed.client("cloudformation")
    found = {}
    for service in DEPLOY_ORDER:
        events = cloudformation.describe_stack_events(StackName=f"slashops-{service}")["StackEvents"]
        found[service] = [event["EventId"] for event in events]
    return found


def test_deploying_one_service_again_unchanged_changes_no_stack(deployed: Deployed) -> None:
    before = _events(deployed)
    again = deploy_all(deployed.endpoint, services=("notifier",), artifacts=deployed.artifacts, say=lambda line: None)
    assert again.results["notifier"].action == "unchanged"
    assert _events(deployed) == before


def test_a_stack_deployed_before_what_it_imports_is_refused_naming_what_to_deploy_first(deployed: Deployed) -> None:
    artifacts = deployed.artifacts
    with pytest.raises(DeployError) as refused:
        deploy_all(deployed.endpoint, prefix="fresh", services=("ingress",), artifacts=artifacts, say=lambda _: None)
    message = str(refused.value)
    assert "`make deploy SERVICE=bus`, then `make deploy SERVICE=notifier` first" in message
    assert "fresh-notifier-LedgerTableName" in message and "nothing was deployed" in message
    stacks = deployed.client("cloudformation").describe_stacks()["Stacks"]
    assert not [stack["StackName"] for stack in stacks if stack["StackName"].startswith("fresh-")]


def test_the_deploy_lambda_moves_into_a_vpc_by_an_update_of_its_stack_alone(deployed: Deployed) -> None:
    ec2 = deployed.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    subnets = sorted(subnet["SubnetId"] for subnet in found)
    group = ec2.create_security_group(GroupName="jenkins-egress", Description="to Jenkins", VpcId=vpc)["GroupId"]
    network = (f"SubnetIds={subnets[0]},{subnets[1]}", f"SecurityGroupIds={group}")
    before = _events(deployed)

    runner = runner_for(deployed.endpoint, say=lambda _: None)
    result = deploy("deploy", settings("slashops", network), deployed.artifacts["deploy"], runner)

    assert result.action == "updated"
    vpc_config = deployed.function("slashops-deploy")["Configuration"]["VpcConfig"]
    assert (sorted(vpc_config["SubnetIds"]), vpc_config["SecurityGroupIds"]) == (subnets[:2], [group])
    environment = deployed.environment("slashops-deploy")  # the parameters not given kept their values
    jenkins = dict(p.split("=", 1) for p in deployed.deployment.parameters["deploy"])["JenkinsSecretArn"]
    assert environment["JENKINS_SECRET_ID"] == jenkins
    after = _events(deployed)
    assert {service: after[service] for service in after if service != "deploy"} == {
        service: before[service] for service in before if service != "deploy"
    }
    assert len(after["deploy"]) > len(before["deploy"])


def test_the_backup_bucket_is_encrypted_with_the_stacks_own_key_which_the_worker_is_given(deployed: Deployed) -> None:
    outputs = deployed.outputs("backup")
    key_arn = outputs["KmsKeyArn"]
    # listed, not described: moto keeps a template's KeyPolicy as a mapping, and its DescribeKey then fails (500)
    assert key_arn in [key["KeyArn"] for key in deployed.client("kms").list_keys()["Keys"]]
    encryption = deployed.client("s3").get_bucket_encryption(Bucket=outputs["BucketName"])
    [rule] = encryption["ServerSideEncryptionConfiguration"]["Rules"]
    # (moto does not carry `BucketKeyEnabled` over: tests/unit/infra/test_backup_encryption.py reads it in the template)
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
    ecs = deployed.client("ecs")
    service = ecs.describe_services(cluster=outputs["ClusterName"], services=[outputs["ServiceName"]])["services"][0]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (container,) = definition["containerDefinitions"]
    assert {"name": "SLASHOPS_BACKUP_KMS_KEY_ARN", "value": key_arn} in container["environment"]


def test_api_gateway_invokes_the_ingress_alias_on_the_version_its_release_published(deployed: Deployed) -> None:
    """SnapStart (infra/ingress.yaml) applies to published versions: the alias `live` points at the version this
    release published (its description names the artifact), and API Gateway's permission is on the alias."""
    lambdas, artifact = deployed.client("lambda"), deployed.artifacts["ingress"]
    assert artifact is not None
    alias = lambdas.get_alias(FunctionName="slashops-ingress", Name="live")
    listed = lambdas.list_versions_by_function(FunctionName="slashops-ingress")["Versions"]
    published = {version["Version"]: version for version in listed if version["Version"] != "$LATEST"}
    assert list(published) == [alias["FunctionVersion"]]
    description = published[alias["FunctionVersion"]]["Description"]
    assert description.startswith(f"slashops/ingress/{digest(artifact)}.zip release ")
    assert description.endswith(" SnapStart Enabled")
    policy = json.loads(lambdas.get_policy(FunctionName=alias["AliasArn"])["Policy"])
    assert [statement["Principal"] for statement in policy["Statement"]] == [{"Service": "apigateway.amazonaws.com"}]
