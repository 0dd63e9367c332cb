"""`backup.schedules` on AWS: Scheduler's expressions, the reconcile plan and the drift report (fake ports), and the
boto3 adapters on moto (EventBridge Scheduler, CloudWatch)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.backup.scheduling import METRIC_NAMESPACE as WORKER_NAMESPACE
from shared.config.model import SlashopsConfig
from shared.config.schedules import ScheduledRun
from shared.events.models import ScheduleFired
from tests.support.fakes import StaticConfig
from tools.cli.schedules import (
    ALARM_PREFIX,
    GROUP,
    METRIC_NAMESPACE,
    SCHEDULED_TIME,
    AlarmSpec,
    AwsSchedules,
    CloudWatchAlarms,
    ExpressionError,
    ScheduleSpec,
    alarm_window,
    desired_schedules,
    fired_input,
    reconcile,
    report_drift,
    scheduler_expression,
)

CONFIG = """
access: [{command: "*"}]
backup:
  schedules:
    - {database: orders, cron: "0 3 * * *", timezone: Europe/Berlin, channel: C0DBOPS}
    - {database: shop, rate: 6h, channel: C0DBOPS, name: shop-6h}
"""


def _entry(**fields: object) -> ScheduledRun:
    return ScheduledRun.model_validate({"database": "orders", "channel": "C0DBOPS", **fields})


def _config(text: str = CONFIG) -> SlashopsConfig:
    return StaticConfig.from_text(text).get()


@pytest.mark.parametrize(
    ("fields", "expression"),
    [
        ({"rate": "1m"}, "rate(1 minute)"),
        ({"rate": "15m"}, "rate(15 minutes)"),
        ({"rate": "6h"}, "rate(6 hours)"),
        ({"rate": "1d"}, "rate(1 day)"),
        ({"cron": "0 3 * * *"}, "cron(0 3 * * ? *)"),
        ({"cron": "30 2 1 * *"}, "cron(30 2 1 * ? *)"),
        ({"cron": "0 16 * * FRI"}, "cron(0 16 ? * FRI *)"),
        ({"cron": "0 3 * * 1-5"}, "cron(0 3 ? * 2-6 *)"),  # Monday-Friday: Scheduler counts from Sunday = 1
        ({"cron": "0 3 * * 0,6"}, "cron(0 3 ? * 1,7 *)"),
        ({"cron": "0 3 * * 7"}, "cron(0 3 ? * 1 *)"),  # cron's other Sunday
        ({"cron": "*/15 * * * 1-5/2"}, "cron(*/15 * ? * 2-6/2 *)"),  # a step is a count, not a day
    ],
)
def test_entries_in_event_bridge_schedulers_syntax(fields: dict[str, str], expression: str) -> None:
    assert scheduler_expression(_entry(**fields)) == expression


def test_cron_naming_both_days_cannot_be_expressed_on_scheduler() -> None:
    """The configuration refuses such an entry; the conversion refuses it too, should one get this far."""
    entry = _entry(cron="0 3 * * MON").model_copy(update={"cron": "0 3 1 * MON"})
    with pytest.raises(ExpressionError, match="both a day of the month and a day of the week"):
        scheduler_expression(entry)


def test_the_targets_input_is_the_event_the_worker_reads_once_scheduler_fills_in_the_time() -> None:
    entry = _entry(cron="0 3 * * *", timezone="Europe/Berlin")
    sent = fired_input(entry).replace(SCHEDULED_TIME, "2026-12-06T02:00:00Z")
    fired = ScheduleFired.model_validate(json.loads(sent))
    assert (fired.schedule, fired.kind, fired.database) == (entry.label, "backup", "orders")
    assert fired.fired_at == datetime(2026, 12, 6, 2, tzinfo=UTC)


def test_the_alarm_covers_twice_the_period_within_cloudwatchs_limits() -> None:
    assert alarm_window(_entry(rate="1m")) == (60, 2)
    assert alarm_window(_entry(rate="30m")) == (60, 60)
    assert alarm_window(_entry(rate="6h")) == (3600, 12)
    assert alarm_window(_entry(cron="0 3 * * *")) == (3600, 48)
    assert alarm_window(_entry(rate="3d")) == (3600, 144)
    assert alarm_window(_entry(rate="4d")) is None  # 8 days: beyond CloudWatch's seven
    assert alarm_window(_entry(cron="0 3 1 * *")) is None  # monthly
    assert METRIC_NAMESPACE == WORKER_NAMESPACE


class FakeSchedules:
    def __init__(self, existing: dict[str, ScheduleSpec] | None = None) -> None:
        self.held = dict(existing or {})
        self.calls: list[str] = []

    def list(self) -> dict[str, ScheduleSpec]:
        return dict(self.held)

    def put(self, spec: ScheduleSpec, *, create: bool) -> None:
        assert (spec.name not in self.held) == create
        self.calls.append(f"{'create' if create else 'update'} {spec.name}")
        self.held[spec.name] = spec

    def delete(self, name: str) -> None:
        self.calls.append(f"delete {name}")
        del self.held[name]


class FakeAlarms:
    def __init__(self) -> None:
        self.held: dict[str, AlarmSpec] = {}

    def list(self) -> dict[str, AlarmSpec]:
        return dict(self.held)

    def put(self, spec: AlarmSpec) -> None:
        self.held[spec.name] = spec

    def delete(self, names: Iterable[str]) -> None:
        for name in names:
            del self.held[name]


def test_reconcile_creates_updates_and_deletes_until_aws_matches_the_configuration() -> None:
    config = _config()
    wanted = desired_schedules(config)
    stale = ScheduleSpec("backup-gone-1234567890", "rate(1 day)", "UTC", "{}")
    changed = ScheduleSpec("backup-shop-6h", "rate(1 hour)", "UTC", wanted["backup-shop-6h"].input)
    schedules, alarms = FakeSchedules({stale.name: stale, changed.name: changed}), FakeAlarms()

    lines = reconcile(config, schedules, alarms)

    nightly = _config().backup.schedules[0].aws_name
    assert sorted(schedules.calls) == sorted([f"create {nightly}", "update backup-shop-6h", f"delete {stale.name}"])
    assert schedules.held == wanted
    assert set(alarms.held) == {ALARM_PREFIX + nightly, ALARM_PREFIX + "backup-shop-6h"}
    assert f"schedule {stale.name}: deleted" in lines and "schedule backup-shop-6h: updated" in lines
    assert report_drift(config, schedules, alarms) == [
        "schedules in step with the configuration (2 in group slashops-backups)"
    ]
    schedules.calls.clear()
    assert reconcile(config, schedules, alarms)[-1] == "schedules in step: 2 in group slashops-backups, 2 alarm(s)"
    assert schedules.calls == []  # nothing to do the second time


def test_drift_names_each_schedule_missing_extra_or_different() -> None:
    config = _config()
    schedules, alarms = FakeSchedules(), FakeAlarms()
    reconcile(config, schedules, alarms)
    nightly = config.backup.schedules[0].aws_name
    del schedules.held["backup-shop-6h"]
    schedules.held[nightly] = ScheduleSpec(nightly, "cron(0 4 * * ? *)", "Europe/Berlin", schedules.held[nightly].input)
    schedules.held["backup-hand-made"] = ScheduleSpec("backup-hand-made", "rate(1 day)", "UTC", "{}")
    del alarms.held[ALARM_PREFIX + nightly]

    lines = report_drift(config, schedules, alarms)

    assert lines == [
        "schedule backup-shop-6h: missing on AWS",
        "schedule backup-hand-made: on AWS but in no entry",
        f"schedule {nightly}: differs: AWS has expression 'cron(0 4 * * ? *)' (configuration: 'cron(0 3 * * ? *)')",
        f"alarm {ALARM_PREFIX}{nightly}: missing on AWS",
        "NOT IN STEP: `slashops config push` of the configuration in force puts them back",
    ]


def test_a_schedule_too_slow_for_an_alarm_is_said_so() -> None:
    config = _config(
        'access: [{command: "*"}]\nbackup: {schedules: [{database: orders, cron: "0 3 1 * *", channel: C0DBOPS}]}\n'
    )
    lines = reconcile(config, FakeSchedules(), FakeAlarms())
    assert "no CloudWatch alarm" in lines[-1] and "checks it from the ledger" in lines[-1]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield {"scheduler": boto3.client("scheduler"), "cloudwatch": boto3.client("cloudwatch")}


def test_the_boto3_adapters_write_what_they_read_back(aws: dict[str, Any]) -> None:
    config = _config()
    bus, role = "arn:aws:events:us-east-1:123456789012:event-bus/slashops", "arn:aws:iam::123456789012:role/sched"
    schedules = AwsSchedules(aws["scheduler"], bus_arn=bus, role_arn=role)
    alarms = CloudWatchAlarms(aws["cloudwatch"])

    reconcile(config, schedules, alarms, topic="arn:aws:sns:us-east-1:123456789012:oncall")

    assert report_drift(config, schedules, alarms, topic="arn:aws:sns:us-east-1:123456789012:oncall")[0].startswith(
        "schedules in step"
    )
    nightly = config.backup.schedules[0].aws_name
    got = aws["scheduler"].get_schedule(GroupName=GROUP, Name=nightly)
    assert got["ScheduleExpression"] == "cron(0 3 * * ? *)" and got["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert got["Target"]["Arn"] == bus and got["Target"]["RoleArn"] == role
    assert got["Target"]["EventBridgeParameters"] == {"DetailType": "ScheduleFired", "Source": "slashops.scheduler"}
    [alarm] = aws["cloudwatch"].describe_alarms(AlarmNames=[ALARM_PREFIX + nightly])["MetricAlarms"]
    assert (alarm["MetricName"], alarm["Namespace"], alarm["TreatMissingData"]) == (
        "ScheduledBackupSucceeded",
        "slashops",
        "breaching",
    )
    assert alarm["Dimensions"] == [{"Name": "Schedule", "Value": nightly}]
    assert (alarm["Period"], alarm["EvaluationPeriods"], alarm["ComparisonOperator"]) == (
        3600,
        50,  # twice 25 h: the longest day in Berlin
        "LessThanThreshold",
    )

    reconcile(_config('access: [{command: "*"}]\n'), schedules, alarms)  # every entry removed
    assert schedules.list() == {} and alarms.list() == {}


def test_the_missed_schedule_check_reads_the_newest_success_by_the_schedule_from_the_ledger() -> None:
    from datetime import timedelta

    from tests.support.events import command_requested, reply_to, succeeded
    from tests.support.fakes.ledger import InMemoryLedger
    from tools.cli.schedules import overdue

    config = _config()
    ledger = InMemoryLedger()
    ran_at = datetime(2026, 12, 6, 0, 0, tzinfo=UTC)
    who = "schedule shop-6h"
    target = reply_to("", user=who)
    ledger.record(
        command_requested("aaa111bbb222", command="backup", user=who, user_name=who, reply=target), now=ran_at
    )
    done = succeeded("aaa111bbb222", reply=target).model_copy(update={"command": "backup"})
    ledger.record(done, now=ran_at)

    on_time = overdue(config, ledger, ran_at + timedelta(hours=11))
    # shop-6h succeeded 11 h ago: within twice its 6 h; the Berlin entry never ran (its longest day: 25 h)
    assert on_time == [
        "orders@0 3 * * * Europe/Berlin: no successful backup recorded yet (expected within 50 h of its start)"
    ]

    late = overdue(config, ledger, ran_at + timedelta(hours=13))
    [missed] = [line for line in late if line.startswith("shop-6h")]
    assert missed.startswith(
        "shop-6h: MISSED — its last successful backup was aaa111bbb222 at 2026-12-06 00:00 UTC, more than twice its "
        "period (12 h) ago"
    )
    assert "`/ops history --command backup`" in missed


def test_the_event_scheduler_delivers_is_the_one_the_input_describes() -> None:
    """tests/events/eventbridge_schedule_fired.json: Scheduler's templated target, as the bus rule delivers it."""
    from services.backup.scheduling import fired_in
    from tests.support.events import load_event

    delivered = load_event("eventbridge_schedule_fired")
    entry = _entry(cron="0 3 * * *", timezone="Europe/Berlin", name="orders-nightly")
    sent = json.loads(fired_input(entry).replace(SCHEDULED_TIME, delivered["time"]))
    assert sent == delivered["detail"]
    assert delivered["resources"] == [f"arn:aws:scheduler:us-east-1:123456789012:schedule/{GROUP}/{entry.aws_name}"]
    fired = fired_in(json.dumps(delivered))
    assert (
        fired is not None and fired.schedule == entry.label and fired.fired_at == datetime(2026, 12, 6, 2, tzinfo=UTC)
    )
