"""`JenkinsPort` over python-jenkins, with its exceptions classified into the service's errors.

python-jenkins folds HTTP failures together (401, 403 and 500 all become `JenkinsException`
"Possibly authentication failed [code]"; its `get_*_info` helpers even turn a 503 into "does not exist"),
so reads go through its public `jenkins_request` and the status code is recovered here, once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from services.deploy.errors import (
    JenkinsAuthError,
    JenkinsError,
    JenkinsNotFoundError,
    JenkinsProtocolError,
    JenkinsSetupError,
    JenkinsUnavailableError,
)
from services.deploy.models import BuildState, FoundBuild, QueueState
from shared.errors import ConfigurationError
from shared.incidents import open_incident

DEFAULT_TIMEOUT_SECONDS = 10.0
_STATUS_IN_MESSAGE = re.compile(r"\[(\d{3})\]")
_FIND_TREE = "builds[number,url,actions[parameters[name,value]]]{0,50}"


class PythonJenkinsAdapter:
    """The client is built on first use (never at import); `credentials` is called then, so secrets load lazily."""

    def __init__(
        self,
        url: str,
        credentials: Callable[[], tuple[str, str]],
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        server: Any = None,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._credentials = credentials
        self._timeout = timeout
        self._server = server

    @property
    def server(self) -> Any:
        if self._server is None:
            import jenkins

            user, token = self._credentials()
            self._server = jenkins.Jenkins(self.url, username=user, password=token, timeout=self._timeout)
        return self._server

    def trigger(self, job: str, parameters: Mapping[str, str]) -> int:
        with _classified(f"job {job!r}"):
            return int(self.server.build_job(job, dict(parameters)))

    def queue_item(self, queue_id: int) -> QueueState:
        data = self._get_json(f"queue/item/{queue_id}/api/json", f"queue item {queue_id}")
        executable = data.get("executable") or {}
        return QueueState(
            cancelled=bool(data.get("cancelled")),
            build_number=executable.get("number"),
            build_url=executable.get("url"),
            why=data.get("why"),
        )

    def build(self, job: str, number: int) -> BuildState:
        data = self._get_json(f"{_job_path(job)}{number}/api/json?tree=number,url,building,result,duration", job)
        duration_ms = data.get("duration") or 0
        return BuildState(
            number=int(data.get("number", number)),
            url=str(data.get("url") or f"{self.url}{_job_path(job)}{number}/"),
            building=bool(data.get("building")),
            result=data.get("result"),
            duration_seconds=duration_ms / 1000 if duration_ms else None,
        )

    def console_tail(self, job: str, number: int, lines: int) -> str:
        text = self._get_text(f"{_job_path(job)}{number}/consoleText", f"build {job} #{number}")
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def find(self, job: str, parameter: str, value: str) -> FoundBuild | None:
        queue = self._get_json("queue/api/json?tree=items[id,task[name],actions[parameters[name,value]]]", "queue")
        for item in queue.get("items", []):
            if (item.get("task") or {}).get("name") == job.rsplit("/", 1)[-1] and _carries(item, parameter, value):
                return FoundBuild(queue_id=int(item["id"]))
        builds = self._get_json(f"{_job_path(job)}api/json?tree={_FIND_TREE}", f"job {job!r}")
        for build in builds.get("builds", []):
            if _carries(build, parameter, value):
                return FoundBuild(build_number=int(build["number"]), build_url=build.get("url"))
        return None

    def cancel_queued(self, queue_id: int) -> None:
        with _classified(f"queue item {queue_id}"):
            self.server.cancel_queue(queue_id)

    def stop(self, job: str, number: int) -> None:
        with _classified(f"build {job} #{number}"):
            self.server.stop_build(job, number)

    def _get_text(self, path: str, what: str) -> str:
        import requests

        with _classified(what):
            response = self.server.jenkins_request(requests.Request("GET", self.url + path))
            return str(response.text)

    def _get_json(self, path: str, what: str) -> dict[str, Any]:
        text = self._get_text(path, what)
        try:
            data = json.loads(text)
        except ValueError as error:
            raise JenkinsProtocolError(f"Jenkins answered non-JSON for {what}") from error
        if not isinstance(data, dict):
            raise JenkinsProtocolError(f"Jenkins answered unexpected JSON for {what}")
        return data


def _job_path(job: str) -> str:
    """`folder/name` → `job/folder/job/name/`, as Jenkins spells folders in URLs."""
    return "".join(f"job/{quote(part, safe='')}/" for part in job.split("/"))


def _carries(item: Mapping[str, Any], parameter: str, value: str) -> bool:
    for action in item.get("actions") or []:
        for entry in (action or {}).get("parameters") or []:
            if entry.get("name") == parameter and str(entry.get("value")) == value:
                return True
    return False


@contextmanager
def _classified(what: str) -> Iterator[None]:
    import jenkins
    import requests

    try:
        yield
    except JenkinsError:
        raise
    except ConfigurationError as error:  # the credentials are loaded with the client, on first use
        incident = open_incident(error, where="deploy service (Jenkins credentials)")
        raise JenkinsSetupError(error.message, incident=incident) from error
    except jenkins.NotFoundException as error:
        raise JenkinsNotFoundError(f"Jenkins has no {what}") from error
    except jenkins.TimeoutException as error:
        raise JenkinsUnavailableError(f"Jenkins did not answer in time ({what})") from error
    except jenkins.EmptyResponseException as error:
        raise JenkinsProtocolError(f"Jenkins gave an incomplete answer for {what}") from error
    except jenkins.JenkinsException as error:
        raise _from_status(_status_of(error), what) from error
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else None
        raise _from_status(status, what) from error
    except (requests.ConnectionError, requests.Timeout) as error:
        raise JenkinsUnavailableError(f"cannot reach Jenkins ({type(error).__name__})") from error


def _status_of(error: Exception) -> int | None:
    match = _STATUS_IN_MESSAGE.search(str(error))
    return int(match.group(1)) if match else None


def _from_status(status: int | None, what: str) -> JenkinsError:
    if status in (401, 403):
        return JenkinsAuthError(f"Jenkins refused the request for {what} (HTTP {status})")
    if status == 404:
        return JenkinsNotFoundError(f"Jenkins has no {what}")
    if status is not None and status >= 500:
        return JenkinsUnavailableError(f"Jenkins answered HTTP {status} for {what}")
    return JenkinsProtocolError(f"Jenkins answered {('HTTP ' + str(status)) if status else 'an error'} for {what}")
