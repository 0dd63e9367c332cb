"""Ingress speed side by side with Slack Bolt, on one machine, in the same run.

The same signed `/ops deploy --client acme --branch main --env production` goes through
(a) slashops' ingress (`chalicelib.handler.handle_slash_http`: signature, form, pydantic request, parsing, ACL,
    lock check, replay guard, pydantic event, publish to an in-memory bus) and
(b) a Bolt app configured for FaaS (`bench/bolt_app.py`: `process_before_response=True`; its listener does a
    `shlex` split, an allow check and an append).

1. Warm handling: p50 and p99 per request, the two alternating in blocks of 100 requests (each request freshly
   signed, so slashops' replay guard sees a new request every time), with the HMAC check alone as the floor, in
   two harnesses: ports on in-memory fakes, and both sides publishing through boto3 on a client answered in this
   process (`AnsweredAws`); the figures interleaved request by request are in the notes.
   Target (issue 24): slashops' p50 and p99 within 1.5x Bolt's, in every harness.
2. Cold start: a fresh interpreter (median of several, the kinds interleaved) that imports the Lambda handler
   module, builds a boto3 `events` client and answers one signed request through the Chalice app, as Lambda calls
   it. Target (issue 24): the packaged ingress (dist/ingress.zip extracted, nothing written, as on Lambda's
   read-only /var/task) at most Bolt's, measured the same way (Bolt uses its Chalice adapter). Also, without a
   target: from the source tree against the anchor (`python -c "import boto3; boto3.client('events')"`) and the
   edge's libraries alone, and the package's import with its precompiled bytecode against the same zip without.
3. With valgrind installed, the same comparisons in instructions (a note, no target): exact where time is noisy.

Writes build/bench/ingress.json (see bench/report.py); exits 1 when a target is missed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "ingress")]

from bench.report import Figure, Results, save  # noqa: E402
from tests.support.slack import SIGNING_SECRET, signed_headers, slash_form  # noqa: E402

TEXT = "deploy --client acme --branch main --env production"
CONFIG = '{"command": "deploy"}'
WARM_REQUESTS = int(os.environ.get("BENCH_WARM_REQUESTS", "20000"))
WARM_BLOCK = 100
COLD_CACHE_REQUESTS = 300
COLD_ROUNDS = int(os.environ.get("BENCH_COLD_ROUNDS", "15"))

LAMBDA_CONTEXT = """
class Context:
    function_name = "bench"
    aws_request_id = "bench-request"
    def get_remaining_time_in_millis(self):
        return 3000
"""
ANCHOR = "import boto3; boto3.client('events')"
LIBRARIES_FLOOR = """import boto3; boto3.client('events')
import chalice
from pydantic import BaseModel
class Request(BaseModel):
    text: str
Request(text="deploy")
"""  # what the edge's libraries cost before any slashops code: Chalice, and pydantic validating one model
SLASHOPS_COLD = f"""import json, os, sys
sys.path[:0] = [{str(REPO)!r}, {str(REPO / "ingress")!r}]
import app as lambda_module  # what Lambda imports: the Chalice app, logging configured
import boto3
boto3.client("events")  # the publisher's client, built on the first request
from chalicelib.handler import handle_slash_http
from tests.support.fakes import StaticConfig
from tests.support.fakes.ingress import ingress_deps
deps = ingress_deps(config=StaticConfig.from_text({CONFIG!r}))
app = lambda_module.create_app(deps=lambda: deps)  # the secret as deployed: SLACK_SIGNING_SECRET here
{LAMBDA_CONTEXT}
answer = app(json.loads(os.environ["BENCH_EVENT"]), Context())
assert answer["statusCode"] == 200 and "accepted" in answer["body"], answer
"""
BOLT_COLD = f"""import json, os, sys
sys.path[:0] = [{str(REPO)!r}]
from bench.bolt_app import create_chalice_app
import boto3
boto3.client("events")
app = create_chalice_app(os.environ["SLACK_SIGNING_SECRET"])
{LAMBDA_CONTEXT}
answer = app(json.loads(os.environ["BENCH_EVENT"]), Context())
assert answer["statusCode"] == 200 and "accepted" in answer["body"], answer
"""


def signed(trigger: int) -> tuple[bytes, dict[str, str]]:
    """A distinct signed request (its own trigger_id, so its own signature)."""
    body = urlencode(slash_form(TEXT, trigger_id=f"{trigger}.738474920.8088930838d88f008e0")).encode()
    return body, signed_headers(body)


def api_gateway_event(body: bytes, headers: dict[str, str]) -> dict[str, object]:
    """The proxy event API Gateway hands the Lambda for a POST to /slack/commands."""
    path = "/slack/commands"
    return {
        "resource": path,
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {
            "httpMethod": "POST",
            "resourcePath": path,
            "path": f"/api{path}",
            "stage": "api",
            "apiId": "bench",
            "requestId": "bench",  # no requestTimeEpoch: the answer budget counts from the request's arrival
        },
    }


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def hmac_floor(body: bytes, headers: dict[str, str]) -> bool:
    """The least any ingress must do: Slack's v0 HMAC-SHA256 over `v0:timestamp:body`, compared in constant time."""
    base = b"v0:" + headers["X-Slack-Request-Timestamp"].encode() + b":" + body
    expected = "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Slack-Signature"])


class EntriesPublisher:
    """The EventBridge adapter's work short of the network: each event becomes its `PutEvents` entry (JSON and
    all), counted, not kept (a Lambda's publisher keeps no event in memory; a recording fake would keep 20,000)."""

    def __init__(self) -> None:
        self.published = 0

    def publish(self, events: object, *, deadline: object = None) -> None:
        from shared.events.envelope import to_put_events_entry

        for event in events:  # type: ignore[attr-defined]
            to_put_events_entry(event, source="slashops.ingress", bus_name="slashops")
            self.published += 1


Handle = Callable[[bytes, str, dict[str, str]], object]
"""A handler of one signed request: its body as bytes and as text (decoded outside any timing), its headers."""


class AnsweredAws:
    """boto3 clients whose requests are answered in this process (botocore's `before-send`): each call does all
    its client-side work (parameters, serialization, SigV4 signing, parsing the answer) short of the network.
    `calls` counts them by operation."""

    ANSWERS = {
        "PutEvents": b'{"FailedEntryCount": 0, "Entries": [{"EventId": "bench"}]}',
        "PutItem": b"{}",
        "GetItem": b"{}",
    }

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def client(self, service: str) -> Any:
        """A client configured as the ingress' publisher is deployed (0.25 s connect, 1 s read, one try)."""
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=0.25, read_timeout=1.0, retries={"total_max_attempts": 1, "mode": "standard"})
        client = boto3.client(  # type: ignore[call-overload]
            service,
            region_name="us-east-1",
            endpoint_url="http://aws.bench.invalid",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
            config=config,
        )
        client.meta.events.register("before-send", self._answer)
        return client

    def _answer(self, request: Any, **_: object) -> Any:
        from botocore.awsrequest import AWSResponse

        operation = request.headers["X-Amz-Target"].decode().rpartition(".")[2]
        self.calls[operation] = self.calls.get(operation, 0) + 1
        body = self.ANSWERS[operation]
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: object) -> Any:
        yield self._body


def handlers(harness: str) -> tuple[dict[str, Handle], Callable[[], dict[str, int]]]:
    """Each side's `Handle` in `harness`, and a count of what each published.

    "fakes": slashops' `handle_slash_http` on in-memory ports (config, replay guard, locks) and a bus that builds
    each `PutEvents` entry; Bolt's `App.dispatch`, its listener appending.
    "sdk": the same, but both publish through boto3 on a client answered in this process (`AnsweredAws`):
    slashops with its EventBridge adapter and the request's deadline (as deployed), Bolt with `put_events`.
    """
    from slack_bolt import BoltRequest

    from bench.bolt_app import PUBLISHED, create_bolt_app
    from chalicelib.bootstrap import signing_secret
    from chalicelib.handler import handle_slash_http
    from shared.aws.eventbridge import EventBridgePublisher
    from tests.support.fakes import StaticConfig
    from tests.support.fakes.ingress import ingress_deps

    if harness == "fakes":
        entries = EntriesPublisher()
        deps = ingress_deps(config=StaticConfig.from_text(CONFIG), publisher=entries)
        bolt = create_bolt_app(SIGNING_SECRET)
        before = len(PUBLISHED)

        def published() -> dict[str, int]:
            return {"slashops": entries.published, "bolt": len(PUBLISHED) - before}
    else:
        aws = {"slashops": AnsweredAws(), "bolt": AnsweredAws()}
        publisher = EventBridgePublisher("slashops", "slashops.ingress", client=aws["slashops"].client("events"))
        deps = ingress_deps(config=StaticConfig.from_text(CONFIG), publisher=publisher)
        events = aws["bolt"].client("events")

        def put(record: dict[str, Any]) -> object:
            entry = {"Source": "bolt", "DetailType": "command", "Detail": json.dumps(record), "EventBusName": "bolt"}
            return events.put_events(Entries=[entry])  # type: ignore[list-item]

        bolt = create_bolt_app(SIGNING_SECRET, publish=put)

        def published() -> dict[str, int]:
            return {side: counted.calls.get("PutEvents", 0) for side, counted in aws.items()}

    def ours(body: bytes, text: str, headers: dict[str, str]) -> object:
        answer = handle_slash_http(body, headers, signing_secret=signing_secret, deps=lambda: deps)
        assert answer.status == 200 and "accepted" in answer.body, answer
        return answer

    def theirs(body: bytes, text: str, headers: dict[str, str]) -> object:
        response = bolt.dispatch(BoltRequest(body=text, headers=headers))
        assert response.status == 200 and "accepted" in response.body, response.body
        return response

    return {"slashops": ours, "bolt": theirs}, published


def warm(requests: int, block: int, harness: str = "fakes") -> dict[str, list[float]]:
    """Per-request times in µs. The three handlers alternate in blocks of `block` requests (fair under drift and
    noise; each block runs back to back, as a warm Lambda serves its own requests); `block=1` interleaves them
    request by request (each then also pays for the other's evictions from the CPU caches)."""
    sides, published = handlers(harness)
    sides_and_floor: dict[str, Handle] = {**sides, "hmac": lambda body, text, headers: hmac_floor(body, headers)}
    warmup = 200
    inputs = [signed(trigger) for trigger in range(requests + warmup)]
    texts = [body.decode() for body, _ in inputs]
    times: dict[str, list[float]] = {kind: [] for kind in sides_and_floor}
    clock = time.perf_counter_ns
    for first in range(0, len(inputs), block):
        measured = first >= warmup
        for kind, handle in sides_and_floor.items():
            for index in range(first, min(first + block, len(inputs))):
                body, headers = inputs[index]
                started = clock()
                handle(body, texts[index], headers)
                elapsed = clock() - started
                if measured:
                    times[kind].append(elapsed / 1000)
    counts = published()
    assert counts == {"slashops": len(inputs), "bolt": len(inputs)}, f"not every request published: {counts}"
    return times


def cache_cold(requests: int) -> dict[str, list[float]]:
    """Per-request µs with the CPU caches emptied before every request (64 MiB written and unrelated Python run in
    between), the two alternating: what a warm Lambda pays when its requests come far apart and other work ran on
    its core meanwhile. It is also what makes the p99 of the block runs above: each block's first request."""
    sides = handlers("fakes")[0]
    scratch = bytearray(64 * 1024 * 1024)

    def evict() -> None:
        for offset in range(0, len(scratch), 64):
            scratch[offset] ^= 1
        sorted(str(number) for number in range(20_000))

    times: dict[str, list[float]] = {kind: [] for kind in sides}
    clock = time.perf_counter_ns
    for index, (body, headers) in enumerate(signed(trigger) for trigger in range(requests + 20)):
        text = body.decode()
        for kind, handle in sides.items():  # alternating, each after an eviction
            evict()
            started = clock()
            handle(body, text, headers)
            elapsed = clock() - started
            if index >= 20:
                times[kind].append(elapsed / 1000)
    return times


def python_footprint() -> dict[str, tuple[int, int]]:
    """(distinct Python functions, Python calls) of one warm request each, as `sys.setprofile` sees them."""
    found: dict[str, tuple[int, int]] = {}
    for trigger, (kind, handle) in enumerate(handlers("fakes")[0].items()):
        for warmup in range(20):
            body, headers = signed(1000 * trigger + warmup)
            handle(body, body.decode(), headers)
        calls: list[object] = []

        def profiler(frame: Any, event: str, arg: object, calls: list[object] = calls) -> None:
            if event == "call":
                calls.append(frame.f_code)

        body, headers = signed(1000 * trigger + 999)
        text = body.decode()
        sys.setprofile(profiler)
        try:
            handle(body, text, headers)
        finally:
            sys.setprofile(None)
        found[kind] = (len(set(calls)), len(calls))
    return found


INSTRUCTION_REQUESTS = 300


def instruction_run(which: str, requests: int) -> None:
    """`which` ("slashops", "bolt" or "none") handling `requests` signed requests after a warm-up: what
    `instructions` counts (the difference with "none" is the requests' own)."""
    from slack_bolt import BoltRequest

    from bench.bolt_app import create_bolt_app
    from chalicelib.bootstrap import signing_secret
    from chalicelib.handler import handle_slash_http
    from tests.support.fakes import StaticConfig
    from tests.support.fakes.ingress import ingress_deps

    logging.disable(logging.INFO)
    deps = ingress_deps(config=StaticConfig.from_text(CONFIG), publisher=EntriesPublisher())
    bolt = create_bolt_app(SIGNING_SECRET)
    inputs = [signed(trigger) for trigger in range(requests + 50)]
    for body, headers in inputs[:50]:
        handle_slash_http(body, headers, signing_secret=signing_secret, deps=lambda: deps)
        bolt.dispatch(BoltRequest(body=body.decode(), headers=headers))
    for body, headers in inputs[50:] if which != "none" else ():
        if which == "slashops":
            handle_slash_http(body, headers, signing_secret=signing_secret, deps=lambda: deps)
        else:
            bolt.dispatch(BoltRequest(body=body.decode(), headers=headers))


def instructions(args: list[str], env: dict[str, str]) -> int | None:
    """Instructions a fresh interpreter runs for `args` (valgrind's cachegrind): exact and repeatable where wall
    time is noisy. None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    command = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable]
    result = subprocess.run([*command, *args], env={**env, "PYTHONHASHSEED": "0"}, cwd=REPO, capture_output=True)
    found = re.search(rb"I\s+refs:\s+([\d,]+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise RuntimeError(f"valgrind run failed: {result.stderr.decode()[-2000:]}")
    return int(found.group(1).replace(b",", b""))


def _run(code: str, env: dict[str, str], *, args: list[str] | None = None, cwd: Path = REPO) -> tuple[float, float]:
    """Wall and CPU (user + sys) seconds of one fresh interpreter running `code` (with `args`)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *(args or [])], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"cold start failed ({process.returncode}): {errors.decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def cold_env() -> dict[str, str]:
    body, headers = signed(0)
    return {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as infra/ingress.yaml deploys the ingress (no effect on Bolt)
        "BENCH_EVENT": json.dumps(api_gateway_event(body, headers)),
    }


PACKAGED_COLD = """import sys
sys.path.insert(0, sys.argv[1])  # the extracted zip, as Lambda's /var/task
import app  # what Lambda imports: the Chalice app
import boto3  # the runtime's boto3 (not in the zip)
boto3.client("events")
import pydantic
assert app.__file__.startswith(sys.argv[1]) and pydantic.__file__.startswith(sys.argv[1])
"""
"""The import half of a cold start of the package Lambda runs (dist/ingress.zip extracted), with nothing cached
written (Lambda's code folder is read-only: PYTHONDONTWRITEBYTECODE=1)."""
PACKAGED_SLASHOPS_COLD = f"""import json, os, sys
sys.path[:0] = [sys.argv[1], {str(REPO)!r}]  # the extracted zip as Lambda's /var/task; the repo for the fakes only
import app as lambda_module  # what Lambda imports, from the zip
import boto3  # the runtime's boto3 (not in the zip)
boto3.client("events")  # the publisher's client, built on the first request
assert lambda_module.__file__.startswith(sys.argv[1]), lambda_module.__file__
from tests.support.fakes import StaticConfig
from tests.support.fakes.ingress import ingress_deps
deps = ingress_deps(config=StaticConfig.from_text({CONFIG!r}))
app = lambda_module.create_app(deps=lambda: deps)
{LAMBDA_CONTEXT}
answer = app(json.loads(os.environ["BENCH_EVENT"]), Context())
assert answer["statusCode"] == 200 and "accepted" in answer["body"], answer
"""
"""A whole cold start of the package: `PACKAGED_COLD`, then one signed request answered through the Chalice app
(its ports on the bench's in-memory fakes, as `SLASHOPS_COLD`): measured the same way as `BOLT_COLD`."""


def packaged_cold(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU ms, the kinds interleaved, each in a fresh interpreter that writes no bytecode (as on Lambda's
    read-only /var/task): the zip as `make package SERVICE=ingress` builds it, imported ("as built") and answering
    one request ("request"); the same zip without its bytecode (what every earlier build shipped); and Bolt's
    `BOLT_COLD` (Bolt and its libraries from the virtual environment, their bytecode as installed)."""
    import tempfile
    import zipfile

    from tools.release.package import build_ingress_zip

    env = {**cold_env(), "PYTHONDONTWRITEBYTECODE": "1"}
    with tempfile.TemporaryDirectory(prefix="slashops-bench-zip-") as work:
        built, sources = Path(work) / "built", Path(work) / "sources"
        with zipfile.ZipFile(build_ingress_zip(Path(work))) as archive:
            archive.extractall(built)
            archive.extractall(sources, [n for n in archive.namelist() if not n.endswith(".pyc")])
        kinds = {
            "as built": (PACKAGED_COLD, [str(built)]),
            "without bytecode": (PACKAGED_COLD, [str(sources)]),
            "request": (PACKAGED_SLASHOPS_COLD, [str(built)]),
            "bolt": (BOLT_COLD, []),
        }
        times: dict[str, dict[str, list[float]]] = {kind: {"wall": [], "cpu": []} for kind in kinds}
        for index in range(rounds + 1):  # the first round discarded: files into the page cache
            for kind, (code, args) in kinds.items():
                wall, cpu = _run(code, env, args=args, cwd=Path("/"))
                if index:
                    times[kind]["wall"].append(wall * 1000)
                    times[kind]["cpu"].append(cpu * 1000)
    return times


def cold(rounds: int) -> dict[str, dict[str, list[float]]]:
    env = cold_env()
    kinds = {"anchor": ANCHOR, "libraries": LIBRARIES_FLOOR, "slashops": SLASHOPS_COLD, "bolt": BOLT_COLD}
    for code in kinds.values():  # once each first: bytecode caches written, files in the page cache
        _run(code, env)
    times: dict[str, dict[str, list[float]]] = {kind: {"wall": [], "cpu": []} for kind in kinds}
    for _ in range(rounds):
        for kind, code in kinds.items():
            wall, cpu = _run(code, env)
            times[kind]["wall"].append(wall * 1000)
            times[kind]["cpu"].append(cpu * 1000)
    return times


WARM_RATIO_TARGET = 1.5
"""Issue 24: warm p50 and p99 within 1.5x Bolt's, in every harness."""
HARNESSES = {
    "fakes": "ports on in-memory fakes",
    "sdk": "publishing through boto3 (answered in-process)",
}


def cold_figures(results: Results) -> None:
    cold_times = cold(COLD_ROUNDS)
    wall = {kind: statistics.median(cold_times[kind]["wall"]) for kind in cold_times}
    cpu = {kind: statistics.median(cold_times[kind]["cpu"]) for kind in cold_times}
    anchor = wall["anchor"]
    results.figures.append(Figure("cold start, anchor (import boto3 + events client), median wall", anchor, "ms"))
    for kind, label in (
        ("libraries", "the edge's libraries alone (anchor + Chalice + pydantic, one model)"),
        ("slashops", "slashops from the source tree"),
        ("bolt", "Bolt (Chalice adapter)"),
    ):
        results.figures.append(
            Figure(f"cold start, {label} vs anchor, median wall", wall[kind], "ms", anchor, wall[kind] / anchor)
        )
    results.notes.append(
        f"Cold start CPU time (user+sys, median): anchor {cpu['anchor']:.0f} ms, slashops {cpu['slashops']:.0f} ms "
        f"({cpu['slashops'] / cpu['anchor']:.2f}x), Bolt {cpu['bolt']:.0f} ms ({cpu['bolt'] / cpu['anchor']:.2f}x); "
        f"the edge's libraries alone {cpu['libraries']:.0f} ms ({cpu['libraries'] / cpu['anchor']:.2f}x); "
        f"{COLD_ROUNDS} rounds, the four interleaved, after one discarded warm-up run each, from the source tree "
        "with Python's bytecode cache written. The libraries' figure is the floor for an ingress that validates "
        "with pydantic at the edge, before any slashops code runs."
    )
    packaged = packaged_cold(COLD_ROUNDS)
    pwall = {kind: statistics.median(packaged[kind]["wall"]) for kind in packaged}
    pcpu = {kind: statistics.median(packaged[kind]["cpu"]) for kind in packaged}
    results.figures += [
        Figure(
            "cold start of the packaged ingress (dist/ingress.zip, one request) vs Bolt, measured the same way, "
            "median wall",
            pwall["request"],
            "ms",
            baseline=pwall["bolt"],
            ratio=pwall["request"] / pwall["bolt"],
            target="≤ Bolt",
            met=pwall["request"] <= pwall["bolt"],
            cause=(
                f"CPU {pcpu['request']:.0f} ms vs Bolt's {pcpu['bolt']:.0f} ms; from the source tree, the edge's "
                f"libraries alone (boto3 + Chalice + pydantic validating one model) take {cpu['libraries']:.0f} ms "
                f"against Bolt's whole cold start {cpu['bolt']:.0f} ms and slashops' {cpu['slashops']:.0f} ms: "
                "pydantic at the edge, kept by issue 24's decision"
            ),
        ),
        Figure(
            "cold import of the packaged ingress, with its bytecode vs without (earlier builds), median CPU",
            pcpu["as built"],
            "ms",
            baseline=pcpu["without bytecode"],
            ratio=pcpu["as built"] / pcpu["without bytecode"],
        ),
    ]
    results.notes.append(
        "Packaged: `make package SERVICE=ingress` built the zip, extracted twice (as built; without its .pyc files). "
        "Fresh interpreters with PYTHONDONTWRITEBYTECODE=1 (Lambda's /var/task is read-only), four kinds "
        f"interleaved, {COLD_ROUNDS} rounds after one discarded: the zip answering one signed request through the "
        "Chalice app (PACKAGED_SLASHOPS_COLD) against Bolt answering the same (BOLT_COLD), both after building the "
        f"events client: wall {pwall['request']:.0f} ms vs {pwall['bolt']:.0f} ms, CPU {pcpu['request']:.0f} ms vs "
        f"{pcpu['bolt']:.0f} ms ({pcpu['request'] / pcpu['bolt']:.2f}x); the import half alone (PACKAGED_COLD) "
        f"{pcpu['as built']:.0f} ms CPU as built, {pcpu['without bytecode']:.0f} ms without its bytecode."
    )


class _Ran[T]:
    """A call already made on the caller's thread, read as `shared.deadline.Pending` is."""

    def __init__(self, call: Callable[[], T]) -> None:
        try:
            self._outcome: tuple[bool, object] = (True, call())
        except Exception as error:  # noqa: BLE001 - handed back to the reader, as `Pending` does
            self._outcome = (False, error)

    def result(self) -> T:
        succeeded, value = self._outcome
        if not succeeded:
            assert isinstance(value, Exception)
            raise value
        return value  # type: ignore[return-value]


def guard_on_the_callers_thread(requests: int) -> dict[str, tuple[float, float]]:
    """What-if, measured: p50 and p99 ratios to Bolt per harness with the replay guard run on the request's thread
    before the lock check instead of in a worker thread beside it (`chalicelib.replays.check_and_claim`): what
    that handoff costs here. Swapped for this measurement only, and put back."""
    import chalicelib.replays as replays

    side_by_side = replays.start_within  # type: ignore[attr-defined]
    replays.start_within = lambda deadline, call: _Ran(call)  # type: ignore[attr-defined]
    try:
        ratios = {}
        for harness in HARNESSES:
            times = warm(requests, WARM_BLOCK, harness)
            p50, p99 = (percentile(times["slashops"], q) / percentile(times["bolt"], q) for q in (0.5, 0.99))
            ratios[harness] = (p50, p99)
        return ratios
    finally:
        replays.start_within = side_by_side  # type: ignore[attr-defined]


def warm_figures(results: Results) -> None:
    what_if = guard_on_the_callers_thread(WARM_REQUESTS // 4)
    for harness, described in HARNESSES.items():
        times = warm(WARM_REQUESTS, WARM_BLOCK, harness)
        for index, (label, fraction) in enumerate((("p50", 0.5), ("p99", 0.99))):
            ours_q, bolt_q, floor_q = (percentile(times[kind], fraction) for kind in ("slashops", "bolt", "hmac"))
            if harness == "fakes":
                results.figures.append(Figure(f"warm {label}, HMAC check alone (floor)", floor_q, "µs"))
            met = ours_q <= WARM_RATIO_TARGET * bolt_q
            without = what_if[harness][index]
            cause = (
                f"the replay guard's handoff to a worker thread (beside the lock check): with the guard on the "
                f"request's thread, the same harness measured {without:.2f}x Bolt's {label} (notes below)"
                if without <= WARM_RATIO_TARGET
                else "not the guard's handoff alone: with the guard on the request's thread it is still "
                f"{without:.2f}x (notes below: the CPU caches, pydantic at the edge)"
            )
            results.figures.append(
                Figure(
                    f"warm {label}, slashops vs Bolt, {described}",
                    ours_q,
                    "µs",
                    baseline=bolt_q,
                    ratio=ours_q / bolt_q,
                    target=f"≤ {WARM_RATIO_TARGET:g}x Bolt",
                    met=met,
                    cause=None if met else cause,
                )
            )
    results.notes.append(
        "The one handoff left per deploy: the replay guard's conditional write runs in a worker thread beside the "
        "lock check, so on AWS the two table calls overlap (one DynamoDB round trip instead of two). Measured "
        f"without it ({WARM_REQUESTS // 4} requests per harness, the guard on the request's thread, then the check): "
        + "; ".join(
            f"{HARNESSES[harness]} p50 {p50:.2f}x, p99 {p99:.2f}x Bolt" for harness, (p50, p99) in what_if.items()
        )
        + ". Against the figures above, the difference is what waiting for the worker thread and back costs on "
        "this machine (a wait for a CPU each way when other processes keep both cores busy)."
    )
    mixed = warm(WARM_REQUESTS // 4, 1)
    cold_caches = {kind: statistics.median(values) for kind, values in cache_cold(COLD_CACHE_REQUESTS).items()}
    footprint = python_footprint()
    mixed_figures = {
        label: (percentile(mixed["slashops"], fraction), percentile(mixed["bolt"], fraction))
        for label, fraction in (("p50", 0.5), ("p99", 0.99))
    }
    results.notes += [
        f"Warm: {WARM_REQUESTS} requests per harness after 200 discarded, each freshly signed, in one process; "
        f"slashops, Bolt and the HMAC floor alternate in blocks of {WARM_BLOCK} requests, each block back to back "
        "as a warm Lambda serves them. Harness 'fakes': slashops' `handle_slash_http` on in-memory fakes (config, "
        "replay guard, locks), a bus that builds each `PutEvents` entry (the adapter's work short of the network); "
        "Bolt's `App.dispatch` (`process_before_response=True`), its listener appending. Harness 'sdk': both "
        "publish through boto3 on clients answered in this process (botocore's `before-send`: parameters, "
        "serialization, SigV4, parsing, no network), slashops with its EventBridge adapter under the request's "
        "deadline as deployed (0.25 s connect, 1 s read, one try), Bolt with `put_events` in its listener.",
        "The deadline-bound publish runs on the request's thread when the client's own timeouts end it before the "
        "deadline (`shared.deadline.run_within`'s `bounded_by`); before issue 24 every attempt was handed to a "
        "worker thread and back, which dominated the 'sdk' harness (an independent harness measured 1.5-1.9x).",
        f"Interleaved request by request instead ({WARM_REQUESTS // 4} requests, fakes; each then also pays for "
        "the other's evictions from the CPU caches): "
        + "; ".join(
            f"{label} slashops {ours_q:.0f} µs vs Bolt {bolt_q:.0f} µs ({ours_q / bolt_q:.2f}x)"
            for label, (ours_q, bolt_q) in mixed_figures.items()
        )
        + ".",
        "slashops does more per request: constant-time v0 signature check with the replay window, pydantic "
        "request, argparse-like parsing against the command catalog, access rules, lock check and replay guard "
        "side by side (the guard in a worker thread: two table calls overlap on AWS), pydantic event, publish. "
        "INFO logging is off for both (slashops writes one JSON line per command).",
        "Bolt is given its most favourable setup: `authorize` answers at once (no `auth.test` call).",
        f"With the CPU caches emptied before every request ({COLD_CACHE_REQUESTS} each, alternating; `cache_cold`): "
        f"median slashops {cold_caches['slashops']:.0f} µs vs Bolt {cold_caches['bolt']:.0f} µs "
        f"({cold_caches['slashops'] / cold_caches['bolt']:.2f}x). Python functions in one request: slashops "
        f"{footprint['slashops'][0]} distinct, {footprint['slashops'][1]} calls; Bolt {footprint['bolt'][0]} "
        f"distinct, {footprint['bolt'][1]} calls.",
    ]


def main() -> int:
    os.environ["SLACK_SIGNING_SECRET"] = SIGNING_SECRET  # the ingress' secret as `make run` sets it
    logging.disable(logging.INFO)  # as today's bench: no INFO lines from either (slashops logs one per command)
    results = Results(
        title="Ingress: slashops vs Slack Bolt",
        commands=[
            f"{Path(sys.executable).name} bench/ingress_bench.py  "
            f"# BENCH_WARM_REQUESTS={WARM_REQUESTS} BENCH_COLD_ROUNDS={COLD_ROUNDS}",
            f'anchor: python -c "{ANCHOR}"',
            "cold starts: PACKAGED_SLASHOPS_COLD, SLASHOPS_COLD and BOLT_COLD in bench/ingress_bench.py, each in a "
            "fresh interpreter",
        ],
    )
    cold_figures(results)
    warm_figures(results)
    results.notes.append(instruction_counts())
    save("ingress", results)
    return 1 if results.missed else 0


def instruction_counts() -> str:
    """The same comparisons in instructions (no target: the targets are on time; these do not move with load)."""
    env = cold_env()
    cold_ir = {
        "anchor": ["-c", ANCHOR],
        "libraries": ["-c", LIBRARIES_FLOOR],
        "slashops": ["-c", SLASHOPS_COLD],
        "bolt": ["-c", BOLT_COLD],
    }
    counted = {kind: instructions(args, env) for kind, args in cold_ir.items()}
    if counted["anchor"] is None:
        return "Instruction counts skipped: valgrind is not installed."
    anchor, libraries, ours, bolt = (counted[kind] or 0 for kind in ("anchor", "libraries", "slashops", "bolt"))
    script = [str(Path(__file__).resolve()), "--instruction-run"]
    per_request = {
        which: instructions([*script, which, str(INSTRUCTION_REQUESTS)], env) or 0
        for which in ("none", "slashops", "bolt")
    }
    ours_warm, bolt_warm = ((per_request[w] - per_request["none"]) / INSTRUCTION_REQUESTS for w in ("slashops", "bolt"))
    return (
        f"Instructions (valgrind cachegrind, PYTHONHASHSEED=0): cold start anchor {anchor / 1e6:.0f} M, slashops "
        f"{ours / 1e6:.0f} M ({ours / anchor:.2f}x), Bolt {bolt / 1e6:.0f} M ({bolt / anchor:.2f}x), the edge's "
        f"libraries alone {libraries / 1e6:.0f} M ({libraries / anchor:.2f}x); a warm request "
        f"slashops {ours_warm / 1e3:.0f} k vs Bolt {bolt_warm / 1e3:.0f} k ({ours_warm / bolt_warm:.2f}x), "
        f"mean of {INSTRUCTION_REQUESTS}."
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--instruction-run"]:
        instruction_run(sys.argv[2], int(sys.argv[3]))
        raise SystemExit(0)
    raise SystemExit(main())
