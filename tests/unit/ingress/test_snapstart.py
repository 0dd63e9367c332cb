"""Lambda SnapStart's hooks (`chalicelib.snapstart`, `bootstrap.warm`/`forget`): registered with the runtime's
registry, and a restore simulated by forking after initialization.

The simulation runs in a fresh interpreter (as a cold start would) against a loopback server speaking the AWS JSON
protocol for EventBridge and Secrets Manager; it records, for every request, the TCP connection it came on and the
access key that signed it. The parent warms, publishes and reads its signing secret (a pooled connection, cached
credentials and a cached secret: the worst a snapshot could hold); two forked children then run the after-restore hook
with their own credentials and each publishes and reads the secret.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from chalicelib import snapstart
from tests.support.fresh_interpreter import run_fresh


@dataclass
class Seen:
    """One request the fake AWS endpoint answered."""

    target: str
    port: int
    access_key: str


@dataclass
class FakeAws:
    url: str
    seen: list[Seen] = field(default_factory=list)
    connections: list[int] = field(default_factory=list)


def _handler(aws: FakeAws) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: a client that pools its connection sends again on it

        def setup(self) -> None:
            super().setup()
            aws.connections.append(self.client_address[1])

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            target = self.headers.get("X-Amz-Target", "")
            key = self.headers.get("Authorization", "").split("Credential=", 1)[-1].split("/", 1)[0]
            aws.seen.append(Seen(target, self.client_address[1], key))
            answer: dict[str, Any] = {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}]}
            if target == "secretsmanager.GetSecretValue":
                answer = {"ARN": "arn:aws:secretsmanager:eu-west-1:000000000000:secret:signing", "Name": "signing"}
                answer |= {"SecretString": f"signing-secret-seen-by-{key}", "VersionId": "v1"}
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_aws() -> Iterator[FakeAws]:
    aws = FakeAws(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(aws))
    server.daemon_threads = True
    aws.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield aws
    finally:
        server.shutdown()
        server.server_close()


RESTORE_SIMULATION = """
import json, os
import app
from chalicelib import bootstrap, snapstart

hooks = {}
registry = (lambda hook: hooks.__setitem__("before", hook), lambda hook: hooks.__setitem__("after", hook))
assert snapstart.install(warm=bootstrap.warm, forget=bootstrap.%(forget)s, registry=registry)

def publish():
    client = bootstrap.ingress_deps().publisher.client
    client.put_events(Entries=[{"Source": "test", "DetailType": "t", "Detail": "{}", "EventBusName": "bus"}])

hooks["before"]()                     # initialization, then the snapshot...
parent = bootstrap.ingress_deps()
publish()                             # ...holding a pooled connection, credentials and the signing secret
assert bootstrap.signing_secret() == "signing-secret-seen-by-parent"

children = []
for name in ("restored-1", "restored-2"):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                      # a restored execution environment, with its own credentials
        os.close(read)
        os.environ["AWS_ACCESS_KEY_ID"] = name
        hooks["after"]()
        deps = bootstrap.ingress_deps()
        cached = bootstrap.signing_secret.cached()
        publish()
        report = {"id": deps.new_id(), "same_deps": deps is parent, "cached_secret": cached,
                  "secret": bootstrap.signing_secret()}
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)                   # one child at a time: a shared socket is then used in turn, never garbled
    with os.fdopen(read) as pipe:
        children.append(json.loads(pipe.read()))
    assert os.waitpid(pid, 0)[1] == 0
print(json.dumps({"parent_id": parent.new_id(), "children": children}))
"""


def _simulate_restore(aws: FakeAws, *, forget: str = "forget") -> dict[str, Any]:
    output = run_fresh(
        RESTORE_SIMULATION % {"forget": forget},
        AWS_ENDPOINT_URL=aws.url,
        AWS_ACCESS_KEY_ID="parent",
        AWS_SECRET_ACCESS_KEY="not-a-secret",
        AWS_DEFAULT_REGION="eu-west-1",
        AWS_EC2_METADATA_DISABLED="true",
        SLASHOPS_EVENT_BUS="bus",
        SLACK_SIGNING_SECRET_ID="signing",
        PYDANTIC_DISABLE_PLUGINS="__all__",
    )
    result: dict[str, Any] = json.loads(output)
    return result


def _ports_by_key(aws: FakeAws) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for seen in aws.seen:
        found.setdefault(seen.access_key, set()).add(seen.port)
    return found


def test_two_restored_environments_make_different_ids_and_share_no_connection_credential_or_secret(
    fake_aws: FakeAws,
) -> None:
    result = _simulate_restore(fake_aws)

    first, second = result["children"]
    assert len({result["parent_id"], first["id"], second["id"]}) == 3
    assert not first["same_deps"] and not second["same_deps"]  # built again after the restore
    assert first["cached_secret"] is None and second["cached_secret"] is None  # the snapshot's secret was forgotten
    assert first["secret"] == "signing-secret-seen-by-restored-1"  # read again, with the environment's credentials
    assert second["secret"] == "signing-secret-seen-by-restored-2"
    # every request of a restored environment is signed with its own credentials, on its own connections
    assert sorted((seen.access_key, seen.target) for seen in fake_aws.seen) == [
        (environment, target)
        for environment in ("parent", "restored-1", "restored-2")
        for target in ("AWSEvents.PutEvents", "secretsmanager.GetSecretValue")
    ]
    ports = _ports_by_key(fake_aws)
    assert ports["parent"].isdisjoint(ports["restored-1"] | ports["restored-2"])
    assert ports["restored-1"].isdisjoint(ports["restored-2"])
    assert len(fake_aws.connections) == len(set().union(*ports.values()))  # each connection used by one of them


def test_without_forgetting_a_restored_environment_reuses_the_snapshots_connection_and_credentials(
    fake_aws: FakeAws,
) -> None:
    """The simulation itself can fail: with an after-restore hook that forgets nothing, the children publish on
    the parent's pooled connection, signed with the parent's credentials, and answer from its cached secret."""
    result = _simulate_restore(fake_aws, forget="settings")  # `settings.cache_clear` is not called: a no-op read

    first, second = result["children"]
    assert first["same_deps"] and second["same_deps"]
    assert first["cached_secret"] == second["cached_secret"] == "signing-secret-seen-by-parent"
    assert set(_ports_by_key(fake_aws)) == {"parent"}


# --- registration -------------------------------------------------------------------------------------------------


@dataclass
class FakeRegistry:
    """The runtime's `register_before_snapshot` and `register_after_restore`, recording the hooks."""

    before: list[Callable[[], None]] = field(default_factory=list)
    after: list[Callable[[], None]] = field(default_factory=list)

    def pair(self) -> tuple[Callable[[Callable[[], None]], object], Callable[[Callable[[], None]], object]]:
        return self.before.append, self.after.append


def test_the_hooks_run_warm_before_the_snapshot_and_forget_after_a_restore() -> None:
    registry, calls = FakeRegistry(), list[str]()
    assert snapstart.install(
        warm=lambda: calls.append("warm"), forget=lambda: calls.append("forget"), registry=registry.pair()
    )
    assert (len(registry.before), len(registry.after), calls) == (1, 1, [])
    registry.before[0]()
    registry.after[0]()
    assert calls == ["warm", "forget"]


def test_outside_the_lambda_runtime_nothing_is_registered() -> None:
    assert snapstart.runtime_registry() is None  # `snapshot_restore_py` exists only in Lambda's Python runtimes
    assert not snapstart.install(warm=lambda: None, forget=lambda: None)


def test_a_failed_warm_up_is_logged_and_does_not_fail_the_snapshot(caplog: pytest.LogCaptureFixture) -> None:
    def warm() -> None:
        raise RuntimeError("no region")

    snapstart.before_snapshot(warm)
    assert "warming before the snapshot failed" in caplog.text and "no region" in caplog.text


def test_a_failed_forget_fails_the_restore() -> None:
    def forget() -> None:
        raise RuntimeError("cannot rebuild")

    with pytest.raises(RuntimeError, match="cannot rebuild"):
        snapstart.after_restore(forget)


def test_after_a_restore_random_state_is_reseeded_not_the_snapshots() -> None:
    random.seed(1234)
    snapshot = random.random()
    random.seed(1234)  # the state a snapshot would hold
    snapstart.after_restore(lambda: None)
    assert random.random() != snapshot
