"""`infra/bus.yaml`'s consumer rules route exactly what the catalog declares (`CommandSpec.consumer`).

The template stays static for CloudFormation; this is what keeps it equal to the catalog. On a mismatch,
`make routes` rewrites the command lists; a new consumer needs its queue, DLQ, rule, policy and alarm added.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.routing import routes
from shared.commands.spec import CommandSpec
from tools.release.routes import LISTENERS, logical_name, problems
from tools.release.stacks import BUS_TEMPLATE, load_template


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(BUS_TEMPLATE.read_text())


def test_the_bus_rules_route_exactly_the_catalogs_commands(template: dict[str, Any]) -> None:
    found = problems(template, routes(CATALOG))
    assert found == [], "infra/bus.yaml disagrees with the catalog (run `make routes`):\n" + "\n".join(found)


def test_every_consumer_has_a_queue_with_a_dlq_and_its_outputs(template: dict[str, Any]) -> None:
    for consumer in [*routes(CATALOG), *LISTENERS]:
        name = logical_name(consumer)
        queue = template["Resources"][f"{name}Queue"]["Properties"]
        assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [f"{name}DeadLetterQueue", "Arn"]}
        assert {f"{name}QueueUrl", f"{name}QueueArn"} <= set(template["Outputs"])


def test_an_event_command_for_a_consumer_without_a_rule_is_reported(template: dict[str, Any]) -> None:
    purge = CommandSpec(name="purge-cache", summary="Purge a CDN cache", consumer="cdn-purge")
    [problem] = problems(template, routes(Catalog([*CATALOG, purge])))
    assert "'cdn-purge'" in problem and "CdnPurgeRule, CdnPurgeQueue, CdnPurgeDeadLetterQueue" in problem


def test_a_command_moved_or_added_without_its_rule_is_reported(template: dict[str, Any]) -> None:
    mover = routes(CATALOG)["deploy"][-1]
    moved = [spec.model_copy(update={"consumer": "backup"}) if spec.name == mover else spec for spec in CATALOG]
    found = problems(template, routes(Catalog(moved)))
    assert len(found) == 2 and all("run `make routes`" in problem for problem in found)


def test_a_rule_for_a_consumer_the_catalog_does_not_name_is_reported(template: dict[str, Any]) -> None:
    extra = copy.deepcopy(template)
    extra["Resources"]["CdnRule"] = copy.deepcopy(extra["Resources"]["DeployRule"])
    [problem] = problems(extra, routes(CATALOG))
    assert problem.startswith(f"CdnRule routes {routes(CATALOG)['deploy']} to a consumer no command")


def test_a_rule_open_to_any_source_is_reported(template: dict[str, Any]) -> None:
    loose = copy.deepcopy(template)
    del loose["Resources"]["BackupRule"]["Properties"]["EventPattern"]["source"]
    [problem] = problems(loose, routes(CATALOG))
    assert problem.startswith("BackupRule's EventPattern")


def test_a_rule_must_feed_its_own_queue(template: dict[str, Any]) -> None:
    crossed = copy.deepcopy(template)
    crossed["Resources"]["BackupRule"]["Properties"]["Targets"][0]["Arn"] = {"Fn::GetAtt": ["DeployQueue", "Arn"]}
    [problem] = problems(crossed, routes(CATALOG))
    assert problem.startswith("BackupRule must target only BackupQueue")
