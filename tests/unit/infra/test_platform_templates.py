"""What a platform team asks of the templates, read from the templates themselves: an optional VPC for the deploy
Lambda, the backup worker's security group as an output, databases as one list parameter, one maxReceiveCount."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.backup.connections import DB_SECRETS_ENV, database_secret_ids
from tools.release.stacks import INFRA, load_template


def _template(name: str) -> dict[str, Any]:
    return load_template((INFRA / name).read_text())


NO_VALUE = {"Ref": "AWS::NoValue"}


# --- the deploy Lambda in a VPC, only when asked -----------------------------------------------------------------


def test_the_deploy_lambda_gets_a_vpc_config_only_when_subnets_are_given() -> None:
    template = _template("deploy-service.yaml")
    for name in ("SubnetIds", "SecurityGroupIds"):
        declared = template["Parameters"][name]
        assert (declared["Type"], declared["Default"]) == ("CommaDelimitedList", "")
    assert template["Conditions"]["InVpc"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "SubnetIds"}]}, ""]}]
    }
    function = template["Resources"]["Function"]["Properties"]
    assert function["VpcConfig"] == {
        "Fn::If": [
            "InVpc",
            {"SubnetIds": {"Ref": "SubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}},
            NO_VALUE,
        ]
    }
    (managed,) = template["Resources"]["Role"]["Properties"]["ManagedPolicyArns"]
    assert managed["Fn::If"][0] == "InVpc" and "AWSLambdaVPCAccessExecutionRole" in managed["Fn::If"][1]["Fn::Sub"]
    assert managed["Fn::If"][2] == NO_VALUE


def test_subnets_without_security_groups_are_refused_before_anything_is_created() -> None:
    rule = _template("deploy-service.yaml")["Rules"]["SubnetsNeedSecurityGroups"]
    # rule functions only (CloudFormation takes no Fn::Join in Rules); an empty list parameter is [""]
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "SubnetIds"}, ""]}]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "SecurityGroupIds"}, ""]}]}


# --- the backup worker: its security group, its databases -------------------------------------------------------


def test_the_backup_workers_security_group_is_an_exported_output_saying_what_to_allow() -> None:
    output = _template("backup-service.yaml")["Outputs"]["SecurityGroupId"]
    assert output["Value"] == {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}
    assert output["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-SecurityGroupId"}}
    assert "authorize-security-group-ingress" in output["Description"] and "--source-group" in output["Description"]


ORDERS = "orders=arn:aws:secretsmanager:eu-west-1:123456789012:secret:slashops/db/orders-AbCdEf"
BILLING = "billing_v2=arn:aws:secretsmanager:eu-west-1:123456789012:secret:slashops/db/billing-GhIjKl"


@pytest.mark.parametrize("value", ["", ORDERS, f"{ORDERS},{BILLING}"])
def test_the_databases_parameter_takes_name_arn_pairs_the_worker_reads_the_same_way(value: str) -> None:
    pattern = _template("backup-service.yaml")["Parameters"]["Databases"]["AllowedPattern"]
    assert re.fullmatch(pattern, value)
    expected = dict(pair.split("=", 1) for pair in value.split(",") if pair)
    assert database_secret_ids(value) == expected


@pytest.mark.parametrize("value", ["orders", "Orders=arn:aws:x", "orders=postgresql://h/db", f"{ORDERS},", "a=arn:x=y"])
def test_the_databases_parameter_refuses_what_the_worker_could_not_use(value: str) -> None:
    pattern = _template("backup-service.yaml")["Parameters"]["Databases"]["AllowedPattern"]
    assert not re.fullmatch(pattern, value)


def test_the_databases_reach_the_worker_as_one_variable_and_the_role_reads_only_their_secrets() -> None:
    template = _template("backup-service.yaml")
    (container,) = template["Resources"]["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert {"Name": DB_SECRETS_ENV, "Value": {"Ref": "Databases"}} in container["Environment"]
    assert "Secrets" not in container  # no template line per database any more
    assert not [p for p in template["Parameters"] if p.endswith("DatabaseUrlSecretArn")]
    statements = template["Resources"]["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    (reads,) = [s for s in statements if s.get("Sid") == "ReadDatabaseSecrets"]
    assert reads["Action"] == "secretsmanager:GetSecretValue"
    assert reads["Resource"]["Fn::Sub"].endswith(":secret:${DatabaseSecretsPrefix}*")
    assert "Policies" not in template["Resources"]["ExecutionRole"]["Properties"]


# --- one maxReceiveCount ------------------------------------------------------------------------------------------


def test_only_the_bus_declares_max_receive_count_and_the_consumers_import_it() -> None:
    bus = _template("bus.yaml")
    queues = [
        r for r in bus["Resources"].values() if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r["Properties"]
    ]
    assert queues and all(
        q["Properties"]["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"} for q in queues
    )
    assert bus["Outputs"]["MaxReceiveCount"]["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-MaxReceiveCount"}}
    imported = {"Fn::ImportValue": {"Fn::Sub": "${BusStackName}-MaxReceiveCount"}}
    for name, variable in [
        ("deploy-service.yaml", "SLASHOPS_DEPLOY_MAX_RECEIVE_COUNT"),
        ("notifier.yaml", "SLASHOPS_NOTIFIER_MAX_RECEIVE_COUNT"),
    ]:
        template = _template(name)
        assert "MaxReceiveCount" not in template["Parameters"]
        assert template["Resources"]["Function"]["Properties"]["Environment"]["Variables"][variable] == imported


def test_no_document_states_another_max_receive_count() -> None:
    documents = [*INFRA.parent.glob("*.md"), *INFRA.parent.glob("*/*.md"), *INFRA.parent.glob("services/*/*.md")]
    found = []
    for document in documents:
        for line in document.read_text().splitlines():
            for number in re.findall(
                r"maxReceiveCount`?\s*(?:of|=|is|:)?\s*(\d+)|MaxReceiveCount`?\s*\(default (\d+)", line
            ):
                value = next(n for n in number if n)
                if value != "5":
                    found.append(f"{document.name}: {line.strip()}")
    assert found == []
