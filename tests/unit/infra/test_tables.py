"""The table registry (shared/aws/tables.py) and infra/*.yaml say the same: each table's keys, indexes and TTL (as
`create_table` makes it locally), its point-in-time recovery, its default name, and the variable each function reads
its name from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from shared.aws.approval_store import DynamoDbApprovalStore
from shared.aws.dynamodb_store import DynamoDbStore
from shared.aws.replay_guard import DynamoDbReplayGuard
from shared.aws.tables import TABLES, Table, create_table
from shared.ledger.dynamodb import DynamoDbLedger
from shared.locks.dynamodb import DynamoDbLockStore
from tools.release.stacks import INFRA, load_template

ADAPTERS: tuple[type[DynamoDbStore], ...] = (
    DynamoDbLedger,
    DynamoClaimStore,
    DynamoDbReplayGuard,
    DynamoDbLockStore,
    DynamoDbApprovalStore,
)


@dataclass(frozen=True)
class Declared:
    """An `AWS::DynamoDB::Table` resource of a template."""

    template: str
    resource: str
    properties: dict[str, Any]
    parameters: dict[str, Any]


def _templates() -> dict[str, dict[str, Any]]:
    loaded = {path.name: load_template(path.read_text()) for path in sorted(INFRA.glob("*.yaml"))}
    return {name: template for name, template in loaded.items() if "AWSTemplateFormatVersion" in template}


TEMPLATES = _templates()


def _declared() -> list[Declared]:
    return [
        Declared(name, resource, body["Properties"], template.get("Parameters", {}))
        for name, template in TEMPLATES.items()
        for resource, body in template["Resources"].items()
        if body["Type"] == "AWS::DynamoDB::Table"
    ]


def _variables(template: dict[str, Any]) -> dict[str, Any]:
    """Every environment variable the template gives a function or a container, with its value."""
    variables: dict[str, Any] = {}
    for body in template["Resources"].values():
        if body["Type"] == "AWS::Lambda::Function":
            variables |= body["Properties"].get("Environment", {}).get("Variables", {})
        if body["Type"] == "AWS::ECS::TaskDefinition":
            for container in body["Properties"]["ContainerDefinitions"]:
                pairs = [pair for pair in container.get("Environment", []) if "Name" in pair]
                variables |= {pair["Name"]: pair["Value"] for pair in pairs}
    return variables


def _table_named_by(template: str, value: Any) -> Declared | None:
    """The table a variable's value names: `!Ref <table>` in its own template, or the import of another stack's
    export whose value is `!Ref <table>` there."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return _table(template, value["Ref"])
    if isinstance(value, dict) and set(value) == {"Fn::ImportValue"}:
        suffix = value["Fn::ImportValue"]["Fn::Sub"].split("}-", 1)[1]
        exported = [
            (name, output["Value"])
            for name, other in TEMPLATES.items()
            for output in other.get("Outputs", {}).values()
            if output.get("Export", {}).get("Name") == {"Fn::Sub": f"${{AWS::StackName}}-{suffix}"}
        ]
        assert len(exported) == 1, f"{template}: the export {suffix!r} is not made by exactly one template"
        (name, exported_value), *_ = exported
        return _table_named_by(name, exported_value) if exported_value != value else None
    return None


def _table(template: str, resource: str) -> Declared | None:
    matches = [declared for declared in _declared() if (declared.template, declared.resource) == (template, resource)]
    return matches[0] if matches else None


def _registry_entry(declared: Declared) -> Table:
    """The registry's table for a template's: the one whose variable the template sets to `!Ref` it."""
    variables = _variables(TEMPLATES[declared.template])
    naming = {name for name, value in variables.items() if value == {"Ref": declared.resource}}
    entries = [table for table in TABLES if table.variable in naming]
    assert len(entries) == 1, (
        f"{declared.template}: {declared.resource} is passed to its functions under {sorted(naming)}, "
        f"which should be exactly one registry variable of {[table.variable for table in TABLES]}"
    )
    return entries[0]


class RecordingDynamoDb:
    """What `create_table` asks DynamoDB for (it waits on nothing here)."""

    def __init__(self) -> None:
        self.created: dict[str, Any] = {}
        self.ttl: dict[str, Any] = {}

    def create_table(self, **request: Any) -> None:
        self.created = request

    def get_waiter(self, name: str) -> RecordingDynamoDb:
        return self

    def wait(self, **arguments: Any) -> None:
        pass

    def update_time_to_live(self, **request: Any) -> None:
        self.ttl = request["TimeToLiveSpecification"]


def _as_created(table: Table) -> RecordingDynamoDb:
    dynamodb = RecordingDynamoDb()
    create_table(dynamodb, table)  # type: ignore[arg-type]
    return dynamodb


def _unordered(items: list[dict[str, Any]]) -> list[tuple[tuple[str, Any], ...]]:
    return sorted(tuple(sorted(item.items())) for item in items)


@pytest.mark.parametrize("declared", _declared(), ids=lambda declared: f"{declared.template}:{declared.resource}")
def test_each_template_table_is_as_the_registry_creates_it(declared: Declared) -> None:
    table = _registry_entry(declared)
    local = _as_created(table)
    properties = declared.properties
    assert properties["BillingMode"] == local.created["BillingMode"]
    assert properties["KeySchema"] == local.created["KeySchema"]
    assert _unordered(properties["AttributeDefinitions"]) == _unordered(local.created["AttributeDefinitions"])
    assert properties.get("GlobalSecondaryIndexes", []) == local.created.get("GlobalSecondaryIndexes", [])
    assert properties["TimeToLiveSpecification"] == local.ttl
    recovery = properties.get("PointInTimeRecoverySpecification", {"PointInTimeRecoveryEnabled": False})
    assert recovery == {"PointInTimeRecoveryEnabled": table.point_in_time_recovery}


@pytest.mark.parametrize("declared", _declared(), ids=lambda declared: f"{declared.template}:{declared.resource}")
def test_a_table_named_by_a_parameter_defaults_to_the_registry_name(declared: Declared) -> None:
    """A table without `TableName` is named by CloudFormation (in AWS the functions read the name they are given)."""
    name = declared.properties.get("TableName")
    if name is not None:
        assert declared.parameters[name["Ref"]]["Default"] == _registry_entry(declared).name


def test_every_registry_table_is_declared_in_exactly_one_template() -> None:
    declared = [_registry_entry(table) for table in _declared()]
    assert sorted(table.variable for table in declared) == sorted(table.variable for table in TABLES)


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_function_reads_each_table_under_its_registry_variable(template: str) -> None:
    """A variable naming a table (its own stack's or an imported one) is that table's registry variable, and a
    registry variable always names its own table."""
    variables = _variables(TEMPLATES[template])
    registry = {table.variable: table for table in TABLES}
    for variable, value in variables.items():
        named = _table_named_by(template, value)
        if named is not None:
            assert variable == _registry_entry(named).variable, f"{template}: {variable} names {named.resource}"
        elif variable in registry:
            pytest.fail(f"{template}: {variable} does not name the {registry[variable].name} table")


def test_each_table_has_one_adapter_which_takes_its_name_and_key_from_the_registry() -> None:
    assert sorted(adapter.TABLE.variable for adapter in ADAPTERS) == sorted(table.variable for table in TABLES)
    assert {type(adapter.TABLE) for adapter in ADAPTERS} == {Table}
    for adapter in ADAPTERS:
        assert adapter(client=object()).table_name == adapter.TABLE.name  # type: ignore[arg-type]
        assert adapter("elsewhere", client=object()).table_name == "elsewhere"  # type: ignore[arg-type]


def test_a_table_name_is_read_from_its_variable_and_an_empty_one_means_the_default() -> None:
    for table in TABLES:
        assert table.name_in({table.variable: "mine"}) == "mine"
        assert table.name_in({table.variable: ""}) == table.name_in({}) == table.name
