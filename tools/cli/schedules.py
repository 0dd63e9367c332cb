"""Keep AWS in step with `backup.schedules`: one EventBridge Scheduler schedule per entry, one CloudWatch alarm for
each that stops succeeding; and say where they differ.

`slashops config push` reconciles after writing the parameter (`reconcile`): in the schedule group
`slashops-backups` it creates the entries' schedules, updates those that differ, deletes those no entry names; the
same for the alarms named `slashops-schedule-<schedule>`. `slashops config show` reports drift (`drift`): schedules
missing, extra or different, alarms likewise. Nothing else writes them, so drift means someone changed them by hand
or a push failed half-way: `slashops config push` of the same file puts them back (it reconciles even when the
parameter already holds the text).

Everything is planned as data first (`plan_schedules`, `plan_alarms`: pure, tested without AWS), then applied
through two small ports with one boto3 adapter each. The operator running the CLI needs `scheduler:*Schedule*`,
`iam:PassRole` on the bus stack's `SchedulerRole`, `cloudwatch:PutMetricAlarm/DeleteAlarms/DescribeAlarms`; the
backup worker needs none of it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TextIO

from shared.config.model import SlashopsConfig
from shared.config.schedules import ScheduledRun
from shared.events.models import SCHEDULER_SOURCE, ScheduleFired
from shared.ledger.port import LedgerReader

ACTOR_PREFIX = "schedule "
"""As `services.backup.scheduling.ACTOR_PREFIX`: who the ledger says ran a scheduled command (a test holds them
equal)."""

GROUP = "slashops-backups"
"""The EventBridge Scheduler schedule group every entry's schedule lives in (nothing else may use it)."""
ALARM_PREFIX = "slashops-schedule-"
METRIC_NAMESPACE = "slashops"
"""As `services.backup.scheduling.METRIC_NAMESPACE` (the worker's EMF line); a test holds them equal."""
MAX_ALARM_WINDOW = 7 * 24 * 3600
"""CloudWatch evaluates an alarm over at most seven days (Period x EvaluationPeriods <= 604,800 s)."""
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
"""EventBridge Scheduler's context attribute, replaced in the target's input at each invocation."""


class ExpressionError(ValueError):
    """A cron expression EventBridge Scheduler cannot express (both a day of month and a day of week)."""


def scheduler_expression(entry: ScheduledRun) -> str:
    """`rate(6 hours)` / `cron(0 3 * * ? *)`: the entry in EventBridge Scheduler's syntax.

    Scheduler's cron has six fields (a year), wants `?` in one of day-of-month and day-of-week, and numbers the
    days of the week 1-7 from Sunday (cron: 0-7, Sunday being 0 and 7); names (`MON-FRI`) are the same."""
    if entry.rate is not None:
        count, unit = int(entry.rate.strip()[:-1]), {"m": "minute", "h": "hour", "d": "day"}[entry.rate.strip()[-1]]
        return f"rate({count} {unit}{'' if count == 1 else 's'})"
    minute, hour, day, month, weekday = (entry.cron or "").split()
    if weekday == "*":
        weekday = "?"
    elif day == "*":
        day = "?"
    else:
        raise ExpressionError(
            f"{entry.label}: {entry.cron!r} names both a day of the month and a day of the week, which EventBridge "
            "Scheduler cannot express (cron runs on either): keep one, or use two entries"
        )
    return f"cron({minute} {hour} {day} {month} {_aws_weekday(weekday)} *)"


def _aws_weekday(field_: str) -> str:
    if field_ == "?":
        return field_

    def shift(part: str) -> str:
        base, slash, step = part.partition("/")
        shifted = re.sub(r"\d+", lambda m: str(int(m.group()) % 7 + 1), base)
        return shifted + slash + step

    return ",".join(shift(part) for part in field_.split(","))


@dataclass(frozen=True)
class ScheduleSpec:
    """One Scheduler schedule as slashops writes it (the parts it compares to find drift)."""

    name: str
    expression: str
    timezone: str
    input: str
    """The target's input: the `ScheduleFired` detail, `fired_at` left to Scheduler."""

    def differences(self, other: ScheduleSpec) -> list[str]:
        fields = ("expression", "timezone", "input")
        return [
            f"{name} {getattr(other, name)!r} (configuration: {getattr(self, name)!r})"
            for name in fields
            if getattr(self, name) != getattr(other, name)
        ]


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    metric: str
    schedule: str
    period: int
    evaluation_periods: int
    topic: str = ""

    def differences(self, other: AlarmSpec) -> list[str]:
        fields = ("metric", "schedule", "period", "evaluation_periods", "topic")
        return [
            f"{name} {getattr(other, name)!r} (configuration: {getattr(self, name)!r})"
            for name in fields
            if getattr(self, name) != getattr(other, name)
        ]


def fired_input(entry: ScheduledRun) -> str:
    """The `ScheduleFired` detail Scheduler sends, `fired_at` its own scheduled time (compact, stable key order)."""
    detail = {
        "event": ScheduleFired.detail_type,
        "schema_version": 1,
        "schedule": entry.label,
        "kind": entry.kind,
        "database": entry.database,
        "fired_at": SCHEDULED_TIME,
    }
    return json.dumps(detail, separators=(",", ":"))


def desired_schedules(config: SlashopsConfig) -> dict[str, ScheduleSpec]:
    """Raises `ExpressionError` for an entry Scheduler cannot express (before anything is written)."""
    return {
        entry.aws_name: ScheduleSpec(entry.aws_name, scheduler_expression(entry), entry.timezone, fired_input(entry))
        for entry in config.backup.scheduled_runs
    }


def alarm_window(entry: ScheduledRun) -> tuple[int, int] | None:
    """(Period, EvaluationPeriods) covering twice the entry's period; None beyond CloudWatch's seven days."""
    window = int(entry.overdue_after().total_seconds())
    if window > MAX_ALARM_WINDOW:
        return None
    period = 60 if window < 7200 else 3600
    return period, math.ceil(window / period)


def desired_alarms(config: SlashopsConfig, topic: str = "") -> tuple[dict[str, AlarmSpec], list[str]]:
    """The alarms, and a line for each entry too slow for one (the ledger check covers it: `config show`)."""
    from services.backup.scheduling import metric_name

    alarms, unalarmed = {}, []
    for entry in config.backup.scheduled_runs:
        window = alarm_window(entry)
        if window is None:
            unalarmed.append(
                f"{entry.label}: no CloudWatch alarm (twice its period, {span(entry.overdue_after())}, is beyond "
                "CloudWatch's seven days); `slashops config show` checks it from the ledger"
            )
            continue
        name = ALARM_PREFIX + entry.aws_name
        alarms[name] = AlarmSpec(name, metric_name(entry.kind), entry.aws_name, *window, topic=topic)
    return alarms, unalarmed


@dataclass(frozen=True)
class Plan[S]:
    create: tuple[S, ...] = ()
    update: tuple[S, ...] = ()
    delete: tuple[str, ...] = ()
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def plan[S: (ScheduleSpec, AlarmSpec)](desired: Mapping[str, S], actual: Mapping[str, S]) -> Plan[S]:
    """What to create, update and delete so that `actual` becomes `desired` (both by name)."""
    create = tuple(spec for name, spec in sorted(desired.items()) if name not in actual)
    update = tuple(spec for name, spec in sorted(desired.items()) if name in actual and actual[name] != spec)
    delete = tuple(sorted(name for name in actual if name not in desired))
    return Plan(create, update, delete, unchanged=len(desired) - len(create) - len(update))


def drift[S: (ScheduleSpec, AlarmSpec)](desired: Mapping[str, S], actual: Mapping[str, S], *, what: str) -> list[str]:
    """One line per difference, as `config show` prints them."""
    lines = [f"{what} {name}: missing on AWS" for name in sorted(desired) if name not in actual]
    lines += [f"{what} {name}: on AWS but in no entry" for name in sorted(actual) if name not in desired]
    for name in sorted(set(desired) & set(actual)):
        changed = desired[name].differences(actual[name])
        if changed:
            lines.append(f"{what} {name}: differs: AWS has " + "; ".join(changed))
    return lines


class SchedulesPort(Protocol):
    """The schedules of the group `GROUP`."""

    def list(self) -> dict[str, ScheduleSpec]: ...
    def put(self, spec: ScheduleSpec, *, create: bool) -> None: ...
    def delete(self, name: str) -> None: ...


class AlarmsPort(Protocol):
    """The alarms whose names start with `ALARM_PREFIX`."""

    def list(self) -> dict[str, AlarmSpec]: ...
    def put(self, spec: AlarmSpec) -> None: ...
    def delete(self, names: Iterable[str]) -> None: ...


def reconcile(config: SlashopsConfig, schedules: SchedulesPort, alarms: AlarmsPort, *, topic: str = "") -> list[str]:
    """Apply both plans; what was done, as lines for the operator."""
    lines = []
    schedule_plan = plan(desired_schedules(config), schedules.list())
    for spec in schedule_plan.create:
        schedules.put(spec, create=True)
    for spec in schedule_plan.update:
        schedules.put(spec, create=False)
    for name in schedule_plan.delete:
        schedules.delete(name)
    wanted_alarms, unalarmed = desired_alarms(config, topic)
    alarm_plan = plan(wanted_alarms, alarms.list())
    for alarm in (*alarm_plan.create, *alarm_plan.update):
        alarms.put(alarm)
    if alarm_plan.delete:
        alarms.delete(alarm_plan.delete)
    for what, done in (("schedule", schedule_plan), ("alarm", alarm_plan)):
        lines += [f"{what} {spec.name}: created" for spec in done.create]
        lines += [f"{what} {spec.name}: updated" for spec in done.update]
        lines += [f"{what} {name}: deleted" for name in done.delete]
    lines.append(
        f"schedules in step: {len(desired_schedules(config))} in group {GROUP}, {len(wanted_alarms)} alarm(s)"
        + ("" if schedule_plan.empty and alarm_plan.empty else " (changed as above)")
    )
    return lines + unalarmed


def report_drift(config: SlashopsConfig, schedules: SchedulesPort, alarms: AlarmsPort, *, topic: str = "") -> list[str]:
    """`config show`'s lines about AWS: every difference, or that schedules and alarms are in step."""
    wanted_alarms, unalarmed = desired_alarms(config, topic)
    lines = drift(desired_schedules(config), schedules.list(), what="schedule")
    lines += drift(wanted_alarms, alarms.list(), what="alarm")
    if lines:
        return [*lines, "NOT IN STEP: `slashops config push` of the configuration in force puts them back", *unalarmed]
    return [
        f"schedules in step with the configuration ({len(config.backup.scheduled_runs)} in group {GROUP})",
        *unalarmed,
    ]


def span(length: timedelta) -> str:
    """`2 days`, `50 h`, `12 min`: a period as an operator reads it."""
    minutes = int(length.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'' if days == 1 else 's'}"
    return f"{minutes // 60} h" if minutes % 60 == 0 else f"{minutes} min"


def overdue(config: SlashopsConfig, ledger: LedgerReader, now: datetime) -> list[str]:
    """The missed-schedule check from the ledger (`config show`, locally and on AWS): every entry whose newest
    successful run is older than twice its period, or that has none recorded; [] when all are on time."""
    lines = []
    for entry in config.backup.scheduled_runs:
        limit = entry.overdue_after(now)
        who = f"{ACTOR_PREFIX}{entry.label}"
        last = next(
            (
                e
                for e in ledger.iter_recent(command=entry.kind, user=who)
                if e.state == "succeeded" and e.user_id == who
            ),
            None,
        )
        if last is None:
            lines.append(
                f"{entry.label}: no successful {entry.kind} recorded yet (expected within {span(limit)} of its start)"
            )
        elif now - last.updated_at > limit:
            lines.append(
                f"{entry.label}: MISSED — its last successful {entry.kind} was {last.command_id} at "
                f"{last.updated_at:%Y-%m-%d %H:%M} UTC, more than twice its period ({span(limit)}) ago: "
                f"`/ops history --command {entry.kind}` shows what its runs did"
            )
    return lines


# --- the boto3 adapters --------------------------------------------------------------------------------------------


class AwsSchedules:
    """EventBridge Scheduler: each schedule's target puts a `ScheduleFired` on the bus, as `SchedulerRole`."""

    def __init__(self, client: Any, *, bus_arn: str, role_arn: str, group: str = GROUP) -> None:
        self.client, self.bus_arn, self.role_arn, self.group = client, bus_arn, role_arn, group

    def list(self) -> dict[str, ScheduleSpec]:
        if not self._group_exists():
            return {}  # nothing was ever scheduled: nothing to read (and no rights needed to say so)
        found = {}
        for page in self.client.get_paginator("list_schedules").paginate(GroupName=self.group):
            for summary in page.get("Schedules", []):
                got = self.client.get_schedule(GroupName=self.group, Name=summary["Name"])
                found[got["Name"]] = ScheduleSpec(
                    got["Name"],
                    got.get("ScheduleExpression", ""),
                    got.get("ScheduleExpressionTimezone", "UTC"),
                    got.get("Target", {}).get("Input", ""),
                )
        return found

    def put(self, spec: ScheduleSpec, *, create: bool) -> None:
        arguments = {
            "Name": spec.name,
            "GroupName": self.group,
            "ScheduleExpression": spec.expression,
            "ScheduleExpressionTimezone": spec.timezone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Description": "slashops backup.schedules entry (slashops config push keeps it in step)",
            "Target": {
                "Arn": self.bus_arn,
                "RoleArn": self.role_arn,
                "Input": spec.input,
                "EventBridgeParameters": {"DetailType": ScheduleFired.detail_type, "Source": SCHEDULER_SOURCE},
                "RetryPolicy": {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 10},
            },
        }
        if create and not self._group_exists():
            self.client.create_schedule_group(Name=self.group)
        (self.client.create_schedule if create else self.client.update_schedule)(**arguments)

    def delete(self, name: str) -> None:
        self.client.delete_schedule(GroupName=self.group, Name=name)

    def _group_exists(self) -> bool:
        try:
            self.client.get_schedule_group(Name=self.group)
        except self.client.exceptions.ResourceNotFoundException:
            return False
        return True


class CloudWatchAlarms:
    """One alarm per schedule: no `Scheduled<Kind>Succeeded` in any of its periods (missing data breaches)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def list(self) -> dict[str, AlarmSpec]:
        found = {}
        for page in self.client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=ALARM_PREFIX):
            for alarm in page.get("MetricAlarms", []):
                dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
                found[alarm["AlarmName"]] = AlarmSpec(
                    alarm["AlarmName"],
                    alarm.get("MetricName", ""),
                    dimensions.get("Schedule", ""),
                    int(alarm.get("Period", 0)),
                    int(alarm.get("EvaluationPeriods", 0)),
                    (alarm.get("AlarmActions") or [""])[0],
                )
        return found

    def put(self, spec: AlarmSpec) -> None:
        self.client.put_metric_alarm(
            AlarmName=spec.name,
            AlarmDescription=(
                f"Schedule {spec.schedule} has not succeeded for twice its period: see `/ops history --command "
                "backup` and the backup worker's logs (docs/operations.md, 'Backup schedules')"
            ),
            Namespace=METRIC_NAMESPACE,
            MetricName=spec.metric,
            Dimensions=[{"Name": "Schedule", "Value": spec.schedule}],
            Statistic="Sum",
            Period=spec.period,
            EvaluationPeriods=spec.evaluation_periods,
            DatapointsToAlarm=spec.evaluation_periods,
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
            TreatMissingData="breaching",
            AlarmActions=[spec.topic] if spec.topic else [],
        )

    def delete(self, names: Iterable[str]) -> None:
        self.client.delete_alarms(AlarmNames=list(names))


def bus_stack_outputs(cloudformation: Any, stack: str) -> tuple[str, str]:
    """(BusArn, SchedulerRoleArn) from the bus stack's outputs."""
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in described.get("Outputs", [])}
    missing = [key for key in ("BusArn", "SchedulerRoleArn") if key not in outputs]
    if missing:
        raise ValueError(f"stack {stack} has no output {', '.join(missing)}: deploy infra/bus.yaml again")
    return outputs["BusArn"], outputs["SchedulerRoleArn"]


# --- what `slashops config push` and `config show` call ---------------------------------------------------------------


def after_push(config: SlashopsConfig, target: Any, *, local: bool, bus_stack: str, topic: str, out: TextIO) -> int:
    """Bring AWS' schedules and alarms in step with the configuration just pushed (make run's read it themselves)."""
    if local:
        if config.backup.scheduled_runs:
            print(
                "schedules: make run's scheduler reads this configuration itself (its next read applies them)", file=out
            )
        return 0
    if not config.backup.scheduled_runs:
        return _remove_leftovers(config, target, out)
    try:
        bus_arn, role_arn = bus_stack_outputs(target.client("cloudformation"), bus_stack)
        schedules = AwsSchedules(target.client("scheduler"), bus_arn=bus_arn, role_arn=role_arn)
        lines = reconcile(config, schedules, CloudWatchAlarms(target.client("cloudwatch")), topic=topic)
    except Exception as error:  # noqa: BLE001 - any failure here leaves a written configuration: say so, exit 1
        print(
            f"SCHEDULES NOT IN STEP: the configuration was written, but EventBridge Scheduler was not updated "
            f"({type(error).__name__}: {error}); fix that and run `slashops config push` again",
            file=out,
        )
        return 1
    for line in lines:
        print(line, file=out)
    return 0


def _remove_leftovers(config: SlashopsConfig, target: Any, out: TextIO) -> int:
    """No entry: delete what earlier entries left (nothing to create, so neither the bus stack nor rights to create
    are needed); an account where slashops never scheduled anything, or without Scheduler at all, is fine."""
    try:
        schedules = AwsSchedules(target.client("scheduler"), bus_arn="", role_arn="")
        alarms = CloudWatchAlarms(target.client("cloudwatch"))
        if not schedules.list() and not alarms.list():
            return 0
        lines = reconcile(config, schedules, alarms)
    except Exception as error:  # noqa: BLE001 - nothing is scheduled either way: said, not a failure
        print(f"schedules: none configured; EventBridge Scheduler not checked for earlier ones ({error})", file=out)
        return 0
    for line in lines:
        print(line, file=out)
    return 0


def after_show(text: str, target: Any, *, local: bool, bus_stack: str, topic: str, out: TextIO, now: datetime) -> int:
    """The schedules' drift on AWS (not with `--local`) and the missed-schedule check from the ledger: 1 if either
    finds something."""
    from shared.config.loader import parse_config_uncached
    from shared.errors import ConfigurationError

    try:
        from shared.commands.catalog import CATALOG

        config = parse_config_uncached(text, origin="in force", known_commands=CATALOG.names())
    except ConfigurationError:
        return 0  # `show` said it is invalid already
    if not config.backup.scheduled_runs:
        return 0
    print("--- backup schedules", file=out)
    status = 0
    if not local:
        try:
            bus_arn, role_arn = bus_stack_outputs(target.client("cloudformation"), bus_stack)
            schedules = AwsSchedules(target.client("scheduler"), bus_arn=bus_arn, role_arn=role_arn)
            lines = report_drift(config, schedules, CloudWatchAlarms(target.client("cloudwatch")), topic=topic)
        except Exception as error:  # noqa: BLE001 - reading AWS failed: said, and the ledger check still runs
            lines = [f"NOT CHECKED against EventBridge Scheduler ({type(error).__name__}: {error})"]
        status = 1 if any(line.startswith(("NOT ", "schedule ", "alarm ")) for line in lines) else 0
        for line in lines:
            print(line, file=out)
    from shared.aws.tables import LEDGER
    from shared.ledger.dynamodb import DynamoDbLedger

    ledger = DynamoDbLedger(os.environ.get(LEDGER.variable, LEDGER.name), client=target.client("dynamodb"))
    late = overdue(config, ledger, now)
    for line in late or ["every schedule succeeded within twice its period (ledger)"]:
        print(line, file=out)
    return 1 if status or any("MISSED" in line for line in late) else 0
