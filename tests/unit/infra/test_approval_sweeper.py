"""infra/ingress.yaml runs the approval sweeper every minute with the least it needs: EventBridge Scheduler invokes
the function the ingress artifact carries, whose role reads only the pending-approvals index, updates items, and
publishes only as the ingress."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shared.aws.tables import APPROVALS, DUE
from shared.events.requested import INGRESS_SOURCE
from tools.release.stacks import INFRA, load_template

REPO = Path(__file__).resolve().parents[3]
RESOURCES: dict[str, Any] = load_template((INFRA / "ingress.yaml").read_text())["Resources"]


def _statements(role: str) -> list[dict[str, Any]]:
    return [s for policy in RESOURCES[role]["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def test_eventbridge_scheduler_invokes_the_sweeper_every_minute() -> None:
    schedule = RESOURCES["ApprovalSweepSchedule"]
    assert schedule["Type"] == "AWS::Scheduler::Schedule"
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "rate(1 minute)" and properties["State"] == "ENABLED"
    assert properties["Target"]["Arn"] == {"Fn::GetAtt": ["ApprovalSweeper", "Arn"]}
    assert properties["Target"]["RoleArn"] == {"Fn::GetAtt": ["SchedulerRole", "Arn"]}
    [invoke] = _statements("SchedulerRole")
    assert (invoke["Action"], invoke["Resource"]) == (
        "lambda:InvokeFunction",
        {"Fn::GetAtt": ["ApprovalSweeper", "Arn"]},
    )


def test_the_sweeper_is_in_the_ingress_artifact_and_reads_its_table_and_bus() -> None:
    function = RESOURCES["ApprovalSweeper"]["Properties"]
    assert function["Code"] == RESOURCES["Function"]["Properties"]["Code"]  # the ingress zip: app.py + chalicelib/
    module, _, handler = function["Handler"].rpartition(".")
    assert module.startswith("chalicelib.")  # `chalice package` ships chalicelib/, not other files
    assert f"def {handler}(" in (REPO / "ingress" / (module.replace(".", "/") + ".py")).read_text()
    assert function["Environment"]["Variables"][APPROVALS.variable] == {"Ref": "ApprovalTable"}
    assert function["Timeout"] == 60


def test_the_sweepers_role_queries_the_due_index_only_and_publishes_as_the_ingress() -> None:
    by_action = {str(s["Action"]): s for s in _statements("SweeperRole")}
    assert by_action["dynamodb:Query"]["Resource"] == {"Fn::Sub": f"${{ApprovalTable.Arn}}/index/{DUE.name}"}
    assert by_action["dynamodb:UpdateItem"]["Resource"] == {"Fn::GetAtt": ["ApprovalTable", "Arn"]}
    assert by_action["events:PutEvents"]["Condition"] == {"StringEquals": {"events:source": INGRESS_SOURCE}}
    assert not any("Scan" in action or "Delete" in action for action in by_action)
