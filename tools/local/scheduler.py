"""Run callables on a schedule, the way EventBridge Scheduler invokes a Lambda in AWS: `make run`'s local stand-in.

A `Scheduler` holds jobs, each a callable with a schedule: `Every(seconds)` or `Daily(times)` (UTC). One thread runs
them one after another; a job that raises is logged and runs again at its next time (as a failed scheduled
invocation is), a job that overran its next time runs once, not once per missed time. The clock and the wait are
injected, so tests drive it without sleeping.

    python -m tools.local.scheduler --name approval-sweeper --every 5 --lambda chalicelib.sweeper:lambda_handler
    python -m tools.local.scheduler --name nightly --at 02:00 --at 14:00 some.module:function

`--lambda` calls `function(event, None)` with the event EventBridge Scheduler's default input would carry (`{}`);
without it, `function()`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import TYPE_CHECKING, Any

from shared.logs import configure_logging

if TYPE_CHECKING:
    from shared.schedules import Cron as CronExpression

logger = logging.getLogger(__name__)
MAX_WAIT_SECONDS = 60.0
"""The longest the thread sleeps at once: a job added meanwhile, or a clock that jumped, is noticed within it."""


@dataclass(frozen=True)
class Every:
    """Every `seconds` (the first run one period after the job is added, unless told otherwise)."""

    seconds: float

    def __post_init__(self) -> None:
        if self.seconds <= 0:
            raise ValueError(f"a period must be positive, not {self.seconds}")

    def next_after(self, moment: datetime) -> datetime:
        return moment + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class Daily:
    """At these times of each day, UTC."""

    times: tuple[time, ...]

    def __post_init__(self) -> None:
        if not self.times:
            raise ValueError("a daily schedule needs at least one time")

    def next_after(self, moment: datetime) -> datetime:
        """The first of the times strictly after `moment`, today or tomorrow."""
        day = moment.astimezone(UTC).date()
        candidates = [_on(day + timedelta(days=offset), each) for offset in (0, 1) for each in self.times]
        return min(candidate for candidate in candidates if candidate > moment)


@dataclass(frozen=True)
class OnCron:
    """At the times of a five-field cron expression in its time zone (`shared.schedules.Cron`: DST as documented
    there), as EventBridge Scheduler's `cron(...)` with `ScheduleExpressionTimezone` fires."""

    cron: CronExpression

    def next_after(self, moment: datetime) -> datetime:
        return self.cron.next_after(moment)


Schedule = Every | Daily | OnCron


def _on(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment.replace(tzinfo=None), tzinfo=UTC)


@dataclass
class Job:
    name: str
    schedule: Schedule
    run: Callable[[], object]
    next_at: datetime
    runs: int = 0
    failures: int = 0


@dataclass
class Scheduler:
    """Jobs and the one thread that runs them when due (`start` … `stop`), or `run_pending` driven by a test."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    jobs: list[Job] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def add(self, name: str, schedule: Schedule, run: Callable[[], object], *, first_at: datetime | None = None) -> Job:
        """`first_at`: when it runs first (now, say); by default at the schedule's next time from now."""
        job = Job(name, schedule, run, first_at or schedule.next_after(self.clock()))
        self.jobs.append(job)
        return job

    def remove(self, name: str) -> bool:
        """Drop the job called `name` (a run under way finishes); whether there was one."""
        kept = [job for job in self.jobs if job.name != name]
        removed = len(kept) != len(self.jobs)
        self.jobs[:] = kept
        return removed

    def run_pending(self) -> list[str]:
        """Run every job that is due, in the order they are due; returns their names."""
        ran = []
        for job in sorted(self.jobs, key=lambda each: each.next_at):
            now = self.clock()
            if job.next_at > now:
                continue
            self._run(job)
            ran.append(job.name)
            following = job.schedule.next_after(job.next_at)
            job.next_at = following if following > now else job.schedule.next_after(now)  # missed times: once
        return ran

    def seconds_until_next(self) -> float:
        if not self.jobs:
            return MAX_WAIT_SECONDS
        soonest = min(job.next_at for job in self.jobs)
        return min(max((soonest - self.clock()).total_seconds(), 0.0), MAX_WAIT_SECONDS)

    def run_until_stopped(self) -> None:
        while not self._stop.is_set():
            self.run_pending()
            self._stop.wait(self.seconds_until_next())

    def start(self) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_until_stopped, name="scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 10.0) -> None:
        """No new run starts; a run under way is waited for (up to `timeout`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, job: Job) -> None:
        job.runs += 1
        try:
            job.run()
        except Exception:  # a failed run is logged; the job runs again at its next time
            job.failures += 1
            logger.exception("scheduled job %s failed (run %d); it runs again at its next time", job.name, job.runs)


def load(target: str) -> Callable[..., Any]:
    """`package.module:function` → the function."""
    module, _, name = target.partition(":")
    if not module or not name:
        raise ValueError(f"{target!r}: expected module:function")
    found = getattr(importlib.import_module(module), name)
    if not callable(found):
        raise ValueError(f"{target!r} is not callable")
    return found  # type: ignore[no-any-return]


def as_job(function: Callable[..., Any], *, lambda_style: bool) -> Callable[[], object]:
    """What each run calls: `function()`, or as EventBridge Scheduler invokes a Lambda, `function({}, None)`."""
    if lambda_style:
        return lambda: function({}, None)
    return function


def parse_schedule(every: float | None, at: Sequence[str]) -> Schedule:
    if (every is None) == (not at):
        raise ValueError("give either --every SECONDS or one or more --at HH:MM")
    if every is not None:
        return Every(every)
    return Daily(tuple(time.fromisoformat(each) for each in at))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", help="module:function to run")
    parser.add_argument("--name", default="", help="the job's name in the log (default: the target)")
    parser.add_argument("--every", type=float, help="run every SECONDS")
    parser.add_argument("--at", action="append", default=[], metavar="HH:MM", help="run daily at this UTC time")
    parser.add_argument("--lambda", dest="lambda_style", action="store_true", help="call it as a Lambda handler")
    args = parser.parse_args(argv)
    try:
        schedule = parse_schedule(args.every, args.at)
        job = as_job(load(args.target), lambda_style=args.lambda_style)
    except (ValueError, ImportError, AttributeError) as error:
        parser.error(str(error))
    name = args.name or args.target
    configure_logging(name)  # as the units log; a Lambda handler's own call is then a no-op
    scheduler = Scheduler()
    scheduler.add(name, schedule, job)
    when = f"every {args.every:g}s" if args.every is not None else "daily at " + ", ".join(args.at) + " UTC"
    print(f"scheduler: {name} ({args.target}) runs {when}", flush=True)

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
