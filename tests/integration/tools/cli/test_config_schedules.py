"""`slashops config push/show` keep `backup.schedules` in step on an AWS emulator (moto's server): the bus stack
from infra/bus.yaml (its `SchedulerRole`), EventBridge Scheduler schedules, CloudWatch alarms, the ledger table."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest

from shared.aws.tables import LEDGER, create_table
from tools.cli.configuration import main
from tools.cli.schedules import ALARM_PREFIX, GROUP
from tools.local.aws import FAKE_CREDENTIALS, Service
from tools.release.stacks import BUS_TEMPLATE, create_stack

pytestmark = pytest.mark.integration
SCHEDULED = """\
access: [{command: "*"}]
backup:
  schedules:
    - {database: orders, cron: "0 3 * * 1-5", timezone: Europe/Berlin, channel: C0DBOPS, name: orders-weekdays}
    - {database: shop, rate: 6h, channel: C0DBOPS, name: shop-6h}
"""


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out), out.getvalue()


@pytest.fixture
def emulator(moto_server: Service, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, str]]:
    """moto's endpoint, and a fresh bus stack's outputs (plus its name, `Stack`)."""
    endpoint = moto_server.endpoint
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    stack = f"bus-{uuid.uuid4().hex[:6]}"
    outputs = create_stack(_client("cloudformation", endpoint), stack, BUS_TEMPLATE, {"Prefix": stack})
    try:
        create_table(_client("dynamodb", endpoint), LEDGER)
    except Exception:  # noqa: BLE001 - the session's moto server may hold it already
        pass
    for name in _client("scheduler", endpoint).list_schedules(GroupName=GROUP).get("Schedules", []):
        _client("scheduler", endpoint).delete_schedule(GroupName=GROUP, Name=name["Name"])
    return endpoint, {**outputs, "Stack": stack}


def test_push_creates_the_schedules_show_reports_drift_and_a_second_push_repairs_it(
    emulator: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    endpoint, bus = emulator
    file = tmp_path / "prod.yaml"
    file.write_text(SCHEDULED)
    where = ("--parameter", f"/t/{uuid.uuid4().hex[:8]}/config", "--endpoint-url", endpoint)
    stack = ("--bus-stack", bus["Stack"])

    status, out = _run("push", str(file), *where, *stack)

    assert status == 0, out
    assert "schedule backup-orders-weekdays: created" in out and "schedule backup-shop-6h: created" in out
    assert f"alarm {ALARM_PREFIX}backup-shop-6h: created" in out
    assert "schedules in step: 2 in group slashops-backups, 2 alarm(s) (changed as above)" in out
    scheduler = _client("scheduler", endpoint)
    weekdays = scheduler.get_schedule(GroupName=GROUP, Name="backup-orders-weekdays")
    assert weekdays["ScheduleExpression"] == "cron(0 3 ? * 2-6 *)"
    assert weekdays["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert weekdays["Target"]["RoleArn"] == bus["SchedulerRoleArn"] and weekdays["Target"]["Arn"] == bus["BusArn"]

    status, out = _run("show", *where, *stack)
    assert status == 0, out
    assert "--- backup schedules\nschedules in step with the configuration (2 in group slashops-backups)" in out
    assert "orders-weekdays: no successful backup recorded yet" in out  # the ledger check: nothing ran yet

    scheduler.delete_schedule(GroupName=GROUP, Name="backup-shop-6h")  # by hand, around slashops
    scheduler.update_schedule(
        GroupName=GROUP,
        Name="backup-orders-weekdays",
        ScheduleExpression="cron(0 4 ? * 2-6 *)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target=weekdays["Target"],
    )
    status, out = _run("show", *where, *stack)
    assert status == 1
    assert "schedule backup-shop-6h: missing on AWS" in out
    assert "schedule backup-orders-weekdays: differs: AWS has expression 'cron(0 4 ? * 2-6 *)'" in out
    assert "NOT IN STEP: `slashops config push` of the configuration in force puts them back" in out

    status, out = _run("push", str(file), *where, *stack)  # the same text: the parameter is left, AWS repaired
    assert status == 0 and "nothing written" in out
    assert "schedule backup-shop-6h: created" in out and "schedule backup-orders-weekdays: updated" in out
    assert _run("show", *where, *stack)[0] == 0

    file.write_text('access: [{command: "*"}]\n')  # every entry removed: their schedules and alarms go too
    status, out = _run("push", str(file), *where, *stack)
    assert status == 0 and "schedule backup-shop-6h: deleted" in out
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []
    assert _client("cloudwatch", endpoint).describe_alarms(AlarmNamePrefix=ALARM_PREFIX)["MetricAlarms"] == []
