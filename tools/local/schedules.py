"""`make run`'s EventBridge Scheduler for `backup.schedules`: each entry of the configuration fires at its times and
puts the same `ScheduleFired` event on the local bus that Scheduler's target puts on AWS' (`tools/cli/schedules.py`).

The configuration is read the way every unit reads it (`SLASHOPS_CONFIG_PARAMETER` or `SLASHOPS_CONFIG`, again every
`SLASHOPS_CONFIG_TTL` seconds: 5 s under make run), so `slashops config push FILE --local` adds, changes and removes
schedules within seconds, as a push reconciles them on AWS. An entry fires on its `cron` in its time zone
(`tools.local.scheduler.OnCron`), or every `rate` counted from when it was registered (make run's start, or the
push that added it). A configuration that cannot be read keeps the schedules it had (logged), as AWS' would run on.

    python -m tools.local.schedules          # what `make run` starts (the `schedules` process)
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from shared.config.model import SlashopsConfig
from shared.config.port import ConfigPort
from shared.config.schedules import ScheduledRun
from shared.errors import ConfigurationError
from shared.events.models import SCHEDULER_SOURCE, ScheduleFired
from shared.logs import configure_logging
from tools.local.scheduler import Every, Job, OnCron, Schedule, Scheduler

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

logger = logging.getLogger(__name__)
JOB_PREFIX = "schedule "
REFRESH_JOB = "configuration"


class Firings(Protocol):
    """Where a firing goes: the bus (EventBridge Scheduler's templated `PutEvents` target, on AWS)."""

    def fire(self, event: ScheduleFired) -> None: ...


class EventBridgeFirings:
    """`PutEvents` of one `ScheduleFired`, with Scheduler's source and detail-type."""

    def __init__(self, bus_name: str, client: EventBridgeClient | None = None) -> None:
        self.bus_name = bus_name
        self._client = client

    @property
    def client(self) -> EventBridgeClient:
        if self._client is None:
            import boto3

            self._client = boto3.client("events")
        return self._client

    def fire(self, event: ScheduleFired) -> None:
        entry: Any = {
            "Source": SCHEDULER_SOURCE,
            "DetailType": ScheduleFired.detail_type,
            "Detail": event.model_dump_json(),
            "EventBusName": self.bus_name,
        }
        answer = self.client.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            raise RuntimeError(f"the bus refused the firing of {event.schedule}: {answer.get('Entries')}")


def schedule_of(entry: ScheduledRun) -> Schedule:
    """The local scheduler's schedule for an entry: its cron in its zone, or its rate."""
    seconds = entry.rate_seconds()
    if seconds is not None:
        return Every(seconds)
    from shared.schedules import Cron

    return OnCron(Cron(entry.cron or "", entry.timezone))


@dataclass
class LocalSchedules:
    """Keeps the scheduler's jobs equal to the configuration's entries (one job per entry, named by its label)."""

    scheduler: Scheduler
    firings: Firings
    registered: dict[str, ScheduledRun] = field(default_factory=dict)

    def sync(self, config: SlashopsConfig) -> list[str]:
        """Add, replace and remove jobs so they match `config`; what changed, as lines for the log."""
        wanted = {entry.label: entry for entry in config.backup.scheduled_runs}
        changes = []
        for label, entry in list(self.registered.items()):
            if wanted.get(label) != entry:
                self.scheduler.remove(JOB_PREFIX + label)
                del self.registered[label]
                changes.append(f"removed {label}")
        for label, entry in wanted.items():
            if label not in self.registered:
                self._add(entry)
                changes.append(f"added {label} ({entry.kind} of {entry.database}, {entry.when})")
        return changes

    def _add(self, entry: ScheduledRun) -> None:
        holder: list[Job] = []
        holder.append(
            self.scheduler.add(JOB_PREFIX + entry.label, schedule_of(entry), lambda: self._fire(entry, holder[0]))
        )
        self.registered[entry.label] = entry

    def _fire(self, entry: ScheduledRun, job: Job) -> None:
        fired_at = job.next_at  # the time it was due (the job moves on once this returns)
        event = ScheduleFired(schedule=entry.label, kind=entry.kind, database=entry.database, fired_at=fired_at)
        self.firings.fire(event)
        logger.info("schedule %s fired (%s of %s, due %s)", entry.label, entry.kind, entry.database, fired_at)


def refresher(config: ConfigPort, schedules: LocalSchedules) -> Callable[[], None]:
    """Read the configuration again and apply it; an unreadable one keeps what is registered (logged)."""

    def refresh() -> None:
        try:
            current = config.get()
        except ConfigurationError as error:
            logger.error("configuration unreadable: the schedules stay as they were (%s)", error.message)
            return
        for change in schedules.sync(current):
            logger.info("schedules: %s", change)

    return refresh


def build(
    env: Mapping[str, str], *, firings: Firings | None = None, clock: Callable[[], datetime] | None = None
) -> tuple[Scheduler, Callable[[], None]]:
    """The scheduler with the configuration's entries and a job re-reading it every TTL; and that refresh."""
    from shared.config.location import ConfigLocation
    from shared.config.source import cached_config
    from shared.settings import event_bus

    location = ConfigLocation.from_env(env)
    scheduler = Scheduler(clock=clock) if clock is not None else Scheduler()
    schedules = LocalSchedules(scheduler, firings or EventBridgeFirings(event_bus(env)))
    refresh = refresher(cached_config(location), schedules)
    refresh()
    scheduler.add(REFRESH_JOB, Every(max(location.ttl_seconds, 1.0)), refresh)
    return scheduler, refresh


def main(argv: list[str] | None = None) -> None:
    configure_logging("slashops-schedules")
    scheduler, _ = build(os.environ)
    entries = [job.name.removeprefix(JOB_PREFIX) for job in scheduler.jobs if job.name.startswith(JOB_PREFIX)]
    print(f"schedules: {len(entries)} from the configuration: {', '.join(entries) or 'none'}", flush=True)

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    try:
        scheduler.run_until_stopped()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
