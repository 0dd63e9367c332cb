"""A local HTTP server speaking the parts of Jenkins' REST API that python-jenkins uses to run builds.

Tests drive the real python-jenkins client against it; `make run` embeds it as the default Jenkins.
Builds follow a scripted life: a triggered build waits in the queue for `polls_before_start` reads of its
queue item, then runs for `polls_before_finish` reads of its build JSON and ends with `result`. Failures
(401/403/404/5xx, slow answers) are programmable, and every triggered build is recorded.

    with FakeJenkins(jobs=["deploy-acme"]) as jenkins:
        server = jenkins_client.Jenkins(jenkins.url, username=jenkins.user, password=jenkins.token)

`python -m tools.fakes.jenkins --port 8080 --any-job` runs it standalone.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tools.fakes.server import LocalHttpServer, QuietHandler

CRUMB_FIELD = "Jenkins-Crumb"

FAILED_CONSOLE = (
    'Started by user slashops\nDeploying...\n+ ./deploy.sh\nERROR: migration 0042 failed: relation "orders" is locked\n'
    "Build step 'Execute shell' marked build as failure\nFinished: FAILURE"
)
"""The console of a build a `failing` pattern makes fail: what a failed deploy's thread shows."""


@dataclass
class Failure:
    """Answer `status` (or sleep `delay` seconds first) to requests whose path contains `path`, `times` times."""

    status: int | None = None
    delay: float = 0.0
    path: str = ""
    method: str | None = None
    times: int | None = 1

    def matches(self, method: str, path: str) -> bool:
        return self.path in path and (self.method is None or self.method == method)


@dataclass
class Build:
    job: str
    number: int
    parameters: dict[str, str]
    queue_id: int
    result: str
    console: str
    polls_left: int
    duration_ms: int = 4321
    building: bool = True
    started_at: float = field(default_factory=time.time)


@dataclass
class QueueItem:
    id: int
    job: str
    parameters: dict[str, str]
    polls_left: int
    cancelled: bool = False
    build: Build | None = None


@dataclass
class TriggeredBuild:
    """What a `buildWithParameters` call asked for."""

    job: str
    parameters: dict[str, str]
    queue_id: int


class FakeJenkins(LocalHttpServer):
    """The server and its scripted state; thread-safe, started on a free port by `start()`."""

    def __init__(
        self,
        *,
        jobs: tuple[str, ...] | list[str] = (),
        any_job: bool = False,
        user: str = "slashops",
        token: str = "fake-api-token",
        polls_before_start: int = 1,
        polls_before_finish: int = 1,
        result: str = "SUCCESS",
        console: str = "Started by user slashops\nDeploying...\nFinished",
        host: str = "127.0.0.1",
        port: int = 0,
        require_crumb: bool = True,
        failing: tuple[str, ...] | list[str] = (),
    ) -> None:
        self.jobs = set(jobs)
        self.any_job = any_job
        self.user = user
        self.token = token
        self.polls_before_start = polls_before_start
        self.polls_before_finish = polls_before_finish
        self.result = result
        self.console = console
        self.require_crumb = require_crumb
        self.failing = tuple(failing)
        """Glob patterns of job names whose builds end FAILURE (`make run`: `SLASHOPS_LOCAL_FAILING_JOBS`)."""
        self.forbidden_users: set[str] = set()
        self.triggered: list[TriggeredBuild] = []
        self.stopped: list[tuple[str, int]] = []
        self.cancelled: list[int] = []
        self.failures: list[Failure] = []
        self.requests: list[tuple[str, str]] = []
        self.queue: dict[int, QueueItem] = {}
        self.builds: dict[tuple[str, int], Build] = {}
        self._next_queue_id = 1
        self._next_build: dict[str, int] = {}
        self.lock = threading.RLock()
        self._serve(host, port, _JenkinsHandler, "fake-jenkins")

    # lifecycle

    # scripting
    def fail(
        self, status: int, *, path: str = "", method: str | None = None, times: int | None = 1, delay: float = 0.0
    ) -> None:
        with self.lock:
            self.failures.append(Failure(status=status, path=path, method=method, times=times, delay=delay))

    def slow(self, seconds: float, *, path: str = "", method: str | None = None, times: int | None = 1) -> None:
        with self.lock:
            self.failures.append(Failure(delay=seconds, path=path, method=method, times=times))

    def clear_failures(self) -> None:
        with self.lock:
            self.failures.clear()

    def triggered_for(self, parameter: str, value: str) -> list[TriggeredBuild]:
        with self.lock:
            return [build for build in self.triggered if build.parameters.get(parameter) == value]

    def start_now(self, queue_id: int) -> Build:
        """Turn a queue item into a running build regardless of polls."""
        with self.lock:
            return self._start(self.queue[queue_id])

    def finish_now(self, job: str, number: int, result: str | None = None) -> None:
        with self.lock:
            build = self.builds[(job, number)]
            build.building = False
            build.result = result or build.result

    # state transitions (called with the lock held)
    def _enqueue(self, job: str, parameters: dict[str, str]) -> QueueItem:
        item = QueueItem(id=self._next_queue_id, job=job, parameters=parameters, polls_left=self.polls_before_start)
        self._next_queue_id += 1
        self.queue[item.id] = item
        self.triggered.append(TriggeredBuild(job=job, parameters=parameters, queue_id=item.id))
        if item.polls_left <= 0:
            self._start(item)
        return item

    def _fails(self, job: str) -> bool:
        return any(fnmatch.fnmatchcase(job, pattern) for pattern in self.failing)

    def _start(self, item: QueueItem) -> Build:
        if item.build is None:
            number = self._next_build.get(item.job, 1)
            self._next_build[item.job] = number + 1
            item.build = Build(
                job=item.job,
                number=number,
                parameters=item.parameters,
                queue_id=item.id,
                result="FAILURE" if self._fails(item.job) else self.result,
                console=FAILED_CONSOLE if self._fails(item.job) else self.console,
                polls_left=self.polls_before_finish,
            )
            self.builds[(item.job, number)] = item.build
        return item.build

    def _queue_json(self, item: QueueItem) -> dict[str, Any]:
        if item.build is None and not item.cancelled:
            item.polls_left -= 1
            if item.polls_left < 0:
                self._start(item)
        data: dict[str, Any] = {
            "_class": "hudson.model.Queue$WaitingItem",
            "id": item.id,
            "actions": [_parameters_action(item.parameters)],
            "task": {"name": item.job, "url": f"{self.url}/job/{item.job}/"},
            "cancelled": item.cancelled,
            "why": None if item.build else "Waiting for next available executor",
            "executable": None,
        }
        if item.build is not None:
            data["_class"] = "hudson.model.Queue$LeftItem"
            data["executable"] = {"number": item.build.number, "url": self._build_url(item.build)}
        return data

    def _build_json(self, build: Build, *, advance: bool) -> dict[str, Any]:
        if advance and build.building:
            build.polls_left -= 1
            if build.polls_left < 0:
                build.building = False
        return {
            "_class": "hudson.model.FreeStyleBuild",
            "number": build.number,
            "url": self._build_url(build),
            "building": build.building,
            "result": None if build.building else build.result,
            "duration": 0 if build.building else build.duration_ms,
            "timestamp": int(build.started_at * 1000),
            "queueId": build.queue_id,
            "actions": [_parameters_action(build.parameters)],
        }

    def _build_url(self, build: Build) -> str:
        return f"{self.url}/job/{build.job}/{build.number}/"

    def _job_exists(self, job: str) -> bool:
        return job in self.jobs or self.any_job


def _parameters_action(parameters: dict[str, str]) -> dict[str, Any]:
    return {
        "_class": "hudson.model.ParametersAction",
        "parameters": [{"name": name, "value": value} for name, value in parameters.items()],
    }


_JOB = re.compile(r"^/job/(?P<job>[^/]+)/(?P<rest>.*)$")
_QUEUE_ITEM = re.compile(r"^/queue/item/(?P<id>\d+)/api/json$")
_BUILD = re.compile(r"^(?P<number>\d+)/(?P<what>api/json|consoleText|stop)$")


class _JenkinsHandler(QuietHandler):
    fake: FakeJenkins

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = dict(parse_qsl(split.query))
        self._drain_body()
        with self.fake.lock:
            self.fake.requests.append((method, self.path))
            failure = self._take_failure(method, path)
        if failure is not None and failure.delay:
            time.sleep(failure.delay)
        if failure is not None and failure.status is not None:
            self._send(failure.status, {"error": f"programmed failure {failure.status}"})
            return
        status = self._authenticate(method)
        if status:
            self._send(status, {"error": "authentication failed" if status == 401 else "forbidden"})
            return
        with self.fake.lock:
            self._route(method, path, query)

    def _drain_body(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def _take_failure(self, method: str, path: str) -> Failure | None:
        for failure in self.fake.failures:
            if failure.matches(method, path) and (failure.times is None or failure.times > 0):
                if failure.times is not None:
                    failure.times -= 1
                return failure
        return None

    def _authenticate(self, method: str) -> int | None:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return 401
        try:
            user, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return 401
        if (user, token) != (self.fake.user, self.fake.token):
            return 401
        if user in self.fake.forbidden_users:
            return 403
        if method == "POST" and self.fake.require_crumb and self.headers.get(CRUMB_FIELD) != _crumb(user):
            return 403
        return None

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        if path == "/crumbIssuer/api/json":
            self._send(200, {"crumb": _crumb(self.fake.user), "crumbRequestField": CRUMB_FIELD})
        elif path == "/queue/api/json":
            items = [self.fake._queue_json(i) for i in self.fake.queue.values() if not i.build and not i.cancelled]
            self._send(200, {"items": items})
        elif path == "/queue/cancelItem" and method == "POST":
            self._cancel_item(query)
        elif match := _QUEUE_ITEM.match(path):
            item = self.fake.queue.get(int(match["id"]))
            self._send(200, self.fake._queue_json(item)) if item else self._not_found()
        elif match := _JOB.match(path):
            self._job(method, match["job"], match["rest"], query)
        else:
            self._not_found()

    def _cancel_item(self, query: dict[str, str]) -> None:
        item = self.fake.queue.get(int(query.get("id", "0")))
        if item is None or item.build is not None:
            self._not_found()
            return
        item.cancelled = True
        self.fake.cancelled.append(item.id)
        self._send(204, None)

    def _job(self, method: str, job: str, rest: str, query: dict[str, str]) -> None:
        if not self.fake._job_exists(job):
            self._not_found()
        elif rest == "api/json":
            self._send(200, self._job_json(job))
        elif rest == "buildWithParameters" and method == "POST":
            item = self.fake._enqueue(job, query)
            self._send(201, None, headers={"Location": f"{self.fake.url}/queue/item/{item.id}/"})
        elif match := _BUILD.match(rest):
            self._build(method, job, int(match["number"]), match["what"])
        else:
            self._not_found()

    def _job_json(self, job: str) -> dict[str, Any]:
        builds = sorted((b for (name, _), b in self.fake.builds.items() if name == job), key=lambda b: -b.number)
        return {
            "_class": "hudson.model.FreeStyleProject",
            "name": job,
            "url": f"{self.fake.url}/job/{job}/",
            "nextBuildNumber": self.fake._next_build.get(job, 1),
            "builds": [self.fake._build_json(build, advance=False) for build in builds],
        }

    def _build(self, method: str, job: str, number: int, what: str) -> None:
        build = self.fake.builds.get((job, number))
        if build is None:
            self._not_found()
        elif what == "api/json":
            self._send(200, self.fake._build_json(build, advance=True))
        elif what == "consoleText":
            self._send_text(200, build.console)
        elif method == "POST":
            if build.building:
                build.building, build.result = False, "ABORTED"
            self.fake.stopped.append((job, number))
            self._send(200, None)
        else:
            self._not_found()

    def _not_found(self) -> None:
        self._send_text(404, "Not Found")

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._send_text(status, "" if body is None else json.dumps(body), "application/json", headers)

    def _send_text(
        self, status: int, text: str, content_type: str = "text/plain", headers: dict[str, str] | None = None
    ) -> None:
        payload = text.encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type};charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out and left: that was the point
            self.close_connection = True


def _crumb(user: str) -> str:
    return f"crumb-{user}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A fake Jenkins for local runs.")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--job", action="append", default=[], help="a job that exists (repeatable)")
    parser.add_argument("--any-job", action="store_true", help="every job name exists")
    parser.add_argument("--user", default="slashops")
    parser.add_argument("--token", default="fake-api-token")
    parser.add_argument("--result", default="SUCCESS")
    parser.add_argument(
        "--failing", action="append", default=[], metavar="GLOB", help="jobs whose builds fail (repeatable)"
    )
    args = parser.parse_args(argv)
    jenkins = FakeJenkins(
        jobs=args.job,
        any_job=args.any_job,
        user=args.user,
        token=args.token,
        result=args.result,
        port=args.port,
        failing=args.failing,
    ).start()
    print(f"fake Jenkins on {jenkins.url} (user {args.user})", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        jenkins.stop()


if __name__ == "__main__":
    main()
