"""The dashboard and the failure-rate alarm name exactly the metrics the code emits (shared/metrics.py), the DLQs
and DLQ alarms as the bus stack names them, and the scheduled-backup metric `slashops config push` alarms on."""

from __future__ import annotations

import json
import re
from typing import Any

from services.backup.scheduling import METRIC_DIMENSION, metric_name
from shared.metrics import COMMAND, COMMAND_COUNTS, DURATION, NAMESPACE, REASON, UNIT, UNIT_COUNTS
from tools.release.stacks import INFRA, load_template


def _template(name: str) -> dict[str, Any]:
    return load_template((INFRA / name).read_text())


def _dashboard() -> dict[str, Any]:
    """The dashboard body with `${...}` filled in as CloudFormation would (the bus named `ops`)."""
    body, variables = _template("observability.yaml")["Resources"]["Dashboard"]["Properties"]["DashboardBody"][
        "Fn::Sub"
    ]
    assert set(variables) == {"Bus"}
    values = {"Bus": "ops", "AWS::Region": "eu-west-1", "AWS::Partition": "aws", "AWS::AccountId": "123456789012"}
    filled = re.sub(r"\$\{([^}]+)\}", lambda match: values[match[1]], body)
    parsed: dict[str, Any] = json.loads(filled)
    return parsed


def _metric_text() -> str:
    return json.dumps([widget["properties"] for widget in _dashboard()["widgets"]])


def test_the_dashboard_is_valid_json_and_shows_every_metric_the_code_emits() -> None:
    shown = _metric_text()
    for name in [*COMMAND_COUNTS.values(), *UNIT_COUNTS]:
        assert f'"{name}"' in shown or f'MetricName=\\"{name}\\"' in shown, name
    assert f'"{DURATION}", "{COMMAND}", "deploy"' in shown and f'"{DURATION}", "{COMMAND}", "backup"' in shown
    for dimensions in (COMMAND, REASON, UNIT, METRIC_DIMENSION):
        assert f"{{{NAMESPACE},{dimensions}}}" in shown, dimensions
    assert metric_name("backup").startswith("Scheduled")  # found by the `{slashops,Schedule}` search


def test_the_dashboard_names_the_dead_letter_queues_and_alarms_of_the_bus_stack() -> None:
    bus = _template("bus.yaml")["Resources"]
    queue_names = {bus[name]["Properties"]["QueueName"]["Fn::Sub"] for name in bus if name.endswith("DeadLetterQueue")}
    alarm_names = {bus[name]["Properties"]["AlarmName"]["Fn::Sub"] for name in bus if name.endswith("DeadLetterAlarm")}
    shown = _metric_text()
    for queue in queue_names:
        assert f'"{queue.replace("${Prefix}", "ops")}"' in shown
    alarms = next(widget for widget in _dashboard()["widgets"] if widget["type"] == "alarm")["properties"]["alarms"]
    assert {arn.rsplit(":", 1)[1] for arn in alarms} == {
        "ops-failure-rate",
        *(name.replace("${Prefix}", "ops") for name in alarm_names),
    }


def test_the_failure_rate_alarm_is_failed_over_finished_commands_with_a_minimum_count() -> None:
    alarm = _template("observability.yaml")["Resources"]["FailureRateAlarm"]["Properties"]
    stats = {query["Id"]: query["MetricStat"] for query in alarm["Metrics"] if "MetricStat" in query}
    assert {
        key: (stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Period"], stat["Stat"])
        for key, stat in stats.items()
    } == {
        "failed": (NAMESPACE, "Failed", 3600, "Sum"),
        "succeeded": (NAMESPACE, "Succeeded", 3600, "Sum"),
    }
    assert all("Dimensions" not in stat["Metric"] for stat in stats.values())  # the aggregate every emission carries
    [expression] = [query for query in alarm["Metrics"] if "Expression" in query]
    assert expression["ReturnData"] is True
    text = " ".join(expression["Expression"]["Fn::Sub"].split())
    assert ">= ${FailureRateMinimumCommands}" in text and "100 * FILL(failed, 0) /" in text
    assert alarm["Threshold"] == {"Ref": "FailureRatePercent"} and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["TreatMissingData"] == "notBreaching"
