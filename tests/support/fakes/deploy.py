"""In-memory fakes of the deploy service's ports: `ClaimStore`, `JenkinsPort`, `FollowScheduler`.

Each behaves like its real adapter as far as the service can tell; `tests/contracts/test_deploy_ports.py` runs the
same cases against the fake and the real adapter (DynamoDB on moto, python-jenkins against `tools/fakes/jenkins.py`,
SQS on moto). With them a deploy is started, followed and cancelled in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.deploy.errors import JenkinsError, JenkinsNotFoundError
from services.deploy.models import BuildState, ClaimRecord, FollowMessage, FoundBuild, QueueState, TargetHold
from services.deploy.ports import MAX_DELAY_SECONDS, ClaimChange, ClaimWrite

URL = "http://jenkins.test"


class MemoryClaimStore:
    """`ClaimStore` in a dict, with DynamoDB's semantics: None means absent, a refused write returns the old item."""

    def __init__(self) -> None:
        self.records: dict[str, ClaimRecord] = {}
        self.writes: list[tuple[str, ClaimChange]] = []
        self.targets: dict[tuple[str, str], TargetHold] = {}

    def create(self, record: ClaimRecord) -> ClaimRecord | None:
        existing = self.records.get(record.command_id)
        if existing is None:
            self.records[record.command_id] = _stored(record.model_dump(mode="json"))
        return existing

    def get(self, command_id: str) -> ClaimRecord | None:
        return self.records.get(command_id)

    def apply(self, command_id: str, change: ClaimChange, *, read_back: bool = False) -> ClaimWrite:
        self.writes.append((command_id, change))
        record = self.records.get(command_id)
        if record is None:
            return ClaimWrite(applied=False)
        if any(getattr(record, name, None) != value for name, value in change.expect.items()):
            return ClaimWrite(applied=False, current=record)
        self.records[command_id] = _stored({**record.model_dump(mode="json"), **change.changes})
        return ClaimWrite(applied=True, current=self.records[command_id] if read_back else None)

    def take_target(self, hold: TargetHold, *, stale_before: int) -> TargetHold | None:
        held = self.targets.get((hold.client, hold.env))
        if held is None or held.command_id == hold.command_id or held.since < stale_before:
            self.targets[(hold.client, hold.env)] = hold
            return None
        return held

    def release_target(self, client: str, env: str, command_id: str) -> bool:
        held = self.targets.get((client, env))
        if held is None or held.command_id != command_id:
            return False
        del self.targets[(client, env)]
        return True


def _stored(attributes: Mapping[str, Any]) -> ClaimRecord:
    """What a read returns after a write: validated again, as the DynamoDB adapter does on every read."""
    return ClaimRecord.model_validate({name: value for name, value in attributes.items() if value is not None})


@dataclass
class MemoryBuild:
    job: str
    number: int
    parameters: dict[str, str]
    result: str
    console: str
    polls_left: int
    building: bool = True
    duration_seconds: float = 4.321


@dataclass
class MemoryQueueItem:
    id: int
    job: str
    parameters: dict[str, str]
    polls_left: int
    cancelled: bool = False
    build: MemoryBuild | None = None


@dataclass
class MemoryJenkins:
    """`JenkinsPort` with the scripted life of `tools/fakes/jenkins.py`, without HTTP.

    A triggered build waits in the queue for `polls_before_start` reads of its queue item, then runs for
    `polls_before_finish` reads of the build and ends with `result`. `fail(method, error)` makes the next call(s)
    of a port method raise; every trigger, stop and cancel is recorded.
    """

    jobs: set[str] = field(default_factory=lambda: {"deploy-acme"})
    polls_before_start: int = 1
    polls_before_finish: int = 1
    result: str = "SUCCESS"
    console: str = "Started by user slashops\nDeploying...\nFinished"
    queue: dict[int, MemoryQueueItem] = field(default_factory=dict)
    builds: dict[tuple[str, int], MemoryBuild] = field(default_factory=dict)
    triggered: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    stopped: list[tuple[str, int]] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    failures: list[tuple[str, Callable[[], JenkinsError], int | None]] = field(default_factory=list)

    def fail(self, method: str, error: Callable[[], JenkinsError], *, times: int | None = 1) -> None:
        """The next `times` calls of `method` (None: every call; "" : any method) raise `error()`."""
        self.failures.append((method, error, times))

    def triggered_for(self, parameter: str, value: str) -> list[tuple[str, dict[str, str]]]:
        return [(job, parameters) for job, parameters in self.triggered if parameters.get(parameter) == value]

    def start_now(self, queue_id: int) -> MemoryBuild:
        return self._start(self.queue[queue_id])

    # JenkinsPort

    def trigger(self, job: str, parameters: Mapping[str, str]) -> int:
        self._call("trigger")
        self._job(job)
        item = MemoryQueueItem(id=len(self.queue) + 1, job=job, parameters=dict(parameters), polls_left=0)
        item.polls_left = self.polls_before_start
        self.queue[item.id] = item
        self.triggered.append((job, dict(parameters)))
        if item.polls_left <= 0:
            self._start(item)
        return item.id

    def queue_item(self, queue_id: int) -> QueueState:
        self._call("queue_item")
        item = self.queue.get(queue_id)
        if item is None:
            raise JenkinsNotFoundError(f"Jenkins has no queue item {queue_id}")
        if item.build is None and not item.cancelled:
            item.polls_left -= 1
            if item.polls_left < 0:
                self._start(item)
        build = item.build
        return QueueState(
            cancelled=item.cancelled,
            build_number=build.number if build else None,
            build_url=self._url(build) if build else None,
            why=None if build else "Waiting for next available executor",
        )

    def build(self, job: str, number: int) -> BuildState:
        self._call("build")
        build = self._build(job, number)
        if build.building:
            build.polls_left -= 1
            if build.polls_left < 0:
                build.building = False
        return BuildState(
            number=number,
            url=self._url(build),
            building=build.building,
            result=None if build.building else build.result,
            duration_seconds=None if build.building else build.duration_seconds,
        )

    def console_tail(self, job: str, number: int, lines: int) -> str:
        self._call("console_tail")
        return "\n".join(self._build(job, number).console.rstrip().splitlines()[-lines:])

    def find(self, job: str, parameter: str, value: str) -> FoundBuild | None:
        self._call("find")
        self._job(job)
        for item in self.queue.values():
            if (
                item.job == job
                and item.build is None
                and not item.cancelled
                and item.parameters.get(parameter) == value
            ):
                return FoundBuild(queue_id=item.id)
        for (name, _), build in sorted(self.builds.items(), key=lambda entry: -entry[0][1]):
            if name == job and build.parameters.get(parameter) == value:
                return FoundBuild(build_number=build.number, build_url=self._url(build))
        return None

    def cancel_queued(self, queue_id: int) -> None:
        self._call("cancel_queued")
        item = self.queue.get(queue_id)
        if item is None or item.build is not None:
            return  # python-jenkins ignores Jenkins' 404 here (Jenkins answers 404 even on success): a no-op
        item.cancelled = True
        self.cancelled.append(queue_id)

    def stop(self, job: str, number: int) -> None:
        self._call("stop")
        build = self._build(job, number)
        if build.building:
            build.building, build.result = False, "ABORTED"
        self.stopped.append((job, number))

    # internals

    def _call(self, method: str) -> None:
        self.calls.append(method)
        for index, (failing, error, times) in enumerate(self.failures):
            if failing in ("", method):
                if times is not None:
                    if times <= 1:
                        del self.failures[index]
                    else:
                        self.failures[index] = (failing, error, times - 1)
                raise error()

    def _job(self, job: str) -> None:
        if job not in self.jobs:
            raise JenkinsNotFoundError(f"Jenkins has no job {job!r}")

    def _build(self, job: str, number: int) -> MemoryBuild:
        build = self.builds.get((job, number))
        if build is None:
            raise JenkinsNotFoundError(f"Jenkins has no build {job} #{number}")
        return build

    def _start(self, item: MemoryQueueItem) -> MemoryBuild:
        if item.build is None:
            number = 1 + max((n for (name, n) in self.builds if name == item.job), default=0)
            item.build = MemoryBuild(
                job=item.job,
                number=number,
                parameters=item.parameters,
                result=self.result,
                console=self.console,
                polls_left=self.polls_before_finish,
            )
            self.builds[(item.job, number)] = item.build
        return item.build

    @staticmethod
    def _url(build: MemoryBuild) -> str:
        return f"{URL}/job/{build.job}/{build.number}/"


@dataclass
class MemoryScheduler:
    """`FollowScheduler` that keeps the messages in order; refuses delays SQS would refuse."""

    scheduled: list[tuple[FollowMessage, int]] = field(default_factory=list)
    fail: bool = False

    def schedule(self, message: FollowMessage, delay_seconds: int) -> None:
        if self.fail:
            raise RuntimeError("SQS unavailable")
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"DelaySeconds {delay_seconds} is outside 0..{MAX_DELAY_SECONDS}")
        self.scheduled.append((message, delay_seconds))

    def pop(self) -> FollowMessage:
        return self.scheduled.pop(0)[0]


class Untouchable:
    """A port that must not be touched: any use fails the test."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"unexpected call to {name}")
