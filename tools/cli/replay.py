"""`slashops replay`: send archived bus events again, to chosen consumers' rules, after a fix.

    slashops replay --since 2026-11-28T09:00Z --until 2026-11-28T10:30Z --service notifier
    slashops replay --since 2h --service deploy          # the last two hours, to the deploy rule only

The bus stack archives every event (`<prefix>-archive`, `infra/bus.yaml`). EventBridge `StartReplay` sends the
events of the window back to the bus, limited to the rules of the services named (`Destination.FilterArns`:
the rules whose target is `<prefix>-<service>`); the command waits until the replay ends. Use it for events
that never reached a queue (a rule that did not route a command, a queue that was deleted); what a consumer
received and gave up on waits in its DLQ instead (`slashops dlq redrive`).

A replayed event is the same event: the notifier records a command id once, and the deploy service recognises a
command it has claimed. The backup worker has no record of finished commands: a replayed backup or restore runs
again, so `--service backup` also needs `--allow-rerun`.

On an emulator (`--local`, `--endpoint-url`) a replay that has not left STARTING after 10 s is cancelled and the
command says why: LocalStack 2026.3 does not run archive replays (its StartReplay fails once the archive holds an
event, and the replay it recorded stays STARTING for ever). Locally, send the command again, or redrive a DLQ.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TextIO

from tools.cli.aws_target import Target, TargetError, add_target_options
from tools.cli.dlq import target_options

SERVICES = ("deploy", "backup", "notifier")
RERUNS = frozenset({"backup"})
"""Consumers that would run a finished command again."""
DEFAULT_PREFIX = "slashops"
DONE = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
EMULATOR_STUCK_AFTER = 10.0
"""Seconds an emulator's replay may stay STARTING before it is taken for one that will never run (moto finishes at
once; LocalStack's never starts)."""
_RELATIVE = re.compile(r"^(\d+)([mhd])$")


class EventsClient(Protocol):
    def describe_event_bus(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def describe_archive(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def list_rules(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def list_targets_by_rule(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def start_replay(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def describe_replay(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def cancel_replay(self, **kwargs: Any) -> Mapping[str, Any]: ...


class ReplayError(Exception):
    pass


class ReplayNotRunError(ReplayError):
    """An emulator recorded the replay but never runs it: it was cancelled; the message says what to do instead."""


def parse_time(value: str, *, now: datetime) -> datetime:
    """ISO 8601 (`2026-11-28T09:00Z`, `2026-11-28 09:00+01:00`; no zone = UTC) or `30m`/`2h`/`1d` ago."""
    relative = _RELATIVE.match(value.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return now - timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise ReplayError(f"{value!r}: not a time (2026-11-28T09:00Z, or 30m, 2h, 1d ago)") from error
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ReplayRequest:
    name: str
    archive_arn: str
    bus_arn: str
    start: datetime
    end: datetime
    rule_arns: tuple[str, ...]

    def kwargs(self) -> dict[str, Any]:
        destination: dict[str, Any] = {"Arn": self.bus_arn}
        if self.rule_arns:
            destination["FilterArns"] = list(self.rule_arns)
        return {
            "ReplayName": self.name,
            "Description": "slashops replay",
            "EventSourceArn": self.archive_arn,
            "EventStartTime": self.start,
            "EventEndTime": self.end,
            "Destination": destination,
        }


def rules_for(events: EventsClient, bus: str, queue_names: Mapping[str, str]) -> dict[str, str]:
    """Each service's rule ARN: the rule on `bus` whose target is the service's queue (by queue name)."""
    found: dict[str, str] = {}
    token: str | None = None
    while True:
        page = events.list_rules(EventBusName=bus, **({"NextToken": token} if token else {}))
        for rule in page.get("Rules", []):
            targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus).get("Targets", [])
            for target in targets:
                queue = str(target.get("Arn", "")).rsplit(":", 1)[-1]
                for service, name in queue_names.items():
                    if queue == name:
                        found[service] = str(rule["Arn"])
        token = page.get("NextToken")
        if not token:
            return found


def build_request(
    events: EventsClient, *, prefix: str, services: list[str], start: datetime, end: datetime, now: datetime
) -> ReplayRequest:
    if start >= end:
        raise ReplayError(f"--since {start:%Y-%m-%d %H:%M:%S %Z} is not before --until {end:%Y-%m-%d %H:%M:%S %Z}")
    bus_arn = str(events.describe_event_bus(Name=prefix)["Arn"])
    archive = events.describe_archive(ArchiveName=f"{prefix}-archive")
    retention = int(archive.get("RetentionDays") or 0)
    if retention and start < now - timedelta(days=retention):
        raise ReplayError(f"the archive keeps {retention} day(s) of events: --since is older than that")
    rule_arns: tuple[str, ...] = ()
    if services:
        rules = rules_for(events, prefix, {service: f"{prefix}-{service}" for service in services})
        missing = [service for service in services if service not in rules]
        if missing:
            raise ReplayError(f"no rule on the bus {prefix} targets the queue of: {', '.join(missing)}")
        rule_arns = tuple(rules[service] for service in services)
    name = f"{prefix}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    return ReplayRequest(name, str(archive["ArchiveArn"]), bus_arn, start, end, rule_arns)


def run_replay(
    events: EventsClient,
    request: ReplayRequest,
    out: TextIO,
    *,
    timeout: float = 600.0,
    stuck_after: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Mapping[str, Any]:
    """Start the replay and wait until it ends (`timeout`); `stuck_after` (emulators): a replay still STARTING
    then is cancelled and `ReplayNotRunError` raised, instead of waiting the whole `timeout` for nothing."""
    from botocore.exceptions import ClientError

    try:
        events.start_replay(**request.kwargs())
    except ClientError as error:  # botocore retried after a 5xx: the name is ours alone, so the first try took
        if str(error.response.get("Error", {}).get("Code")) != "ResourceAlreadyExistsException":
            raise
    print(f"replay {request.name} started: {request.start:%Y-%m-%d %H:%M:%S} to {request.end:%H:%M:%S} UTC", file=out)
    started = clock()
    deadline = started + timeout
    while True:
        replay = events.describe_replay(ReplayName=request.name)
        state = str(replay.get("State", ""))
        if state in DONE:
            break
        if stuck_after is not None and state in ("", "STARTING") and clock() - started >= stuck_after:
            _cancel(events, request.name)
            raise ReplayNotRunError(f"replay {request.name} never left STARTING in {stuck_after:g}s and was cancelled")
        if clock() >= deadline:
            raise ReplayError(
                f"replay {request.name} is still {state} after {timeout:.0f}s (it goes on in EventBridge)"
            )
        sleep(1.0)
    if state != "COMPLETED":
        raise ReplayError(f"replay {request.name} ended {state}: {replay.get('StateReason', 'no reason given')}")
    last = replay.get("EventLastReplayedTime")
    print(f"replay {request.name} COMPLETED" + (f" (last event from {last})" if last else ""), file=out)
    return replay


def _cancel(events: EventsClient, name: str) -> None:
    """Best effort: the replay is dead either way, and the error that follows says so."""
    from botocore.exceptions import BotoCoreError, ClientError

    with contextlib.suppress(BotoCoreError, ClientError):
        events.cancel_replay(ReplayName=name)


def instead(services: list[str], target: list[str]) -> str:
    """What to do on an emulator that does not run replays: the same flags, so nothing aims at AWS by mistake."""
    redrive = " / ".join(shlex.join(["slashops", "dlq", "redrive", service, *target]) for service in services)
    return (
        "this emulator does not run EventBridge archive replays (LocalStack 2026.3 fails StartReplay once the archive "
        f"holds an event); locally, send the command again (`slashops send ...`) or, for what a consumer gave up on, "
        f"`{redrive}`; replay works in AWS"
    )


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="slashops replay", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument("--since", required=True, help="start of the window: ISO 8601 (UTC if no zone) or 30m/2h/1d ago")
    cli.add_argument("--until", help="end of the window (default: now)")
    cli.add_argument(
        "--service",
        action="append",
        choices=SERVICES,
        required=True,
        help="the consumer whose rule gets the events (repeat for several)",
    )
    cli.add_argument("--allow-rerun", action="store_true", help="needed for backup: finished commands run again")
    cli.add_argument("--prefix", default=DEFAULT_PREFIX, help="the bus stack's Prefix (default slashops)")
    cli.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the replay (default 600)")
    add_target_options(cli)
    return cli


def main(argv: list[str] | None = None, out: TextIO | None = None, *, now: datetime | None = None) -> int:
    out = sys.stdout if out is None else out  # the stream in use when called, not when this module was imported
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["replay"]:
        arguments = arguments[1:]  # `slashops replay ...` through bin/slashops
    args = parser().parse_args(arguments)
    from botocore.exceptions import BotoCoreError, ClientError

    services = list(dict.fromkeys(args.service))
    try:
        rerun = sorted(RERUNS.intersection(services))
        if rerun and not args.allow_rerun:
            raise ReplayError(
                f"{', '.join(rerun)} would run finished commands again (a replayed restore restores again): "
                "add --allow-rerun if that is what you want"
            )
        moment = now or datetime.now(UTC)
        start = parse_time(args.since, now=moment)
        end = parse_time(args.until, now=moment) if args.until else moment
        events: EventsClient = Target.from_args(args).client("events")
        request = build_request(events, prefix=args.prefix, services=services, start=start, end=end, now=moment)
        emulator = bool(args.local or args.endpoint_url)
        run_replay(events, request, out, timeout=args.timeout, stuck_after=EMULATOR_STUCK_AFTER if emulator else None)
        return 0
    except ReplayNotRunError as error:
        print(f"slashops replay: {error}: {instead(services, target_options(args))}", file=out)
        return 1
    except (ReplayError, TargetError, BotoCoreError, ClientError) as error:
        print(f"slashops replay: {error}", file=out)
        return 1


if __name__ == "__main__":
    sys.exit(main())
