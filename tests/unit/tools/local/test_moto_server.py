"""The local moto server applies DynamoDB requests one at a time (conditional writes atomic, as on AWS), and keeps
connections open between requests."""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.local.moto_server import DynamoDbOneAtATime, KeepAliveHandler, ThreadingKeepAliveServer


class CheckThenWriteApp:
    """A WSGI app shaped like moto's conditional write: read, wait, then write if the read allowed it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.uses = 0
        self.granted = 0
        self.inside = 0
        self.most_inside = 0
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._count:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        seen = self.uses
        time.sleep(0.002)  # the window in which another thread's check passes too
        allowed = seen < self.limit
        if allowed:
            self.uses = seen + 1
            self.granted += 1
        with self._count:
            self.inside -= 1
        start_response("200 OK" if allowed else "400 Bad Request", [])
        return [b"granted" if allowed else b"ConditionalCheckFailedException"]


def _race(app: Callable[..., Iterable[bytes]], target: str, requests: int = 24) -> list[bytes]:
    def one(_: int) -> bytes:
        return b"".join(app({"HTTP_X_AMZ_TARGET": target}, lambda *args: None))

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(requests)))


def test_racing_dynamodb_writes_are_applied_one_at_a_time() -> None:
    # GIVEN a check-then-write app that allows five uses
    app = CheckThenWriteApp(limit=5)
    # WHEN 24 DynamoDB requests race through the middleware
    answers = _race(DynamoDbOneAtATime(app), "DynamoDB_20120810.UpdateItem")
    # THEN exactly five win, and no two ever ran at once
    assert answers.count(b"granted") == 5
    assert app.most_inside == 1


def test_the_same_race_without_the_middleware_grants_too_many() -> None:
    """The app above really is racy: without the lock it overshoots (so the test above can fail)."""
    app = CheckThenWriteApp(limit=5)
    answers = _race(app, "DynamoDB_20120810.UpdateItem")
    assert answers.count(b"granted") > 5
    assert app.most_inside > 1


def test_other_services_keep_running_concurrently() -> None:
    app = CheckThenWriteApp(limit=100)
    _race(DynamoDbOneAtATime(app), "AWSEvents.PutEvents")
    assert app.most_inside > 1


def test_dynamodb_requests_go_straight_to_the_dynamodb_app_and_the_rest_to_the_dispatcher() -> None:
    # GIVEN a dispatcher and a DynamoDB app that say who answered
    def named(name: bytes) -> Callable[..., Iterable[bytes]]:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            start_response("200 OK", [])
            return [name]

        return app

    middleware = DynamoDbOneAtATime(named(b"dispatcher"), named(b"dynamodb"))
    # WHEN a DynamoDB request, a DynamoDB Streams one and an EventBridge one come in
    answers = [
        b"".join(middleware({"HTTP_X_AMZ_TARGET": target}, lambda *args: None))
        for target in ("DynamoDB_20120810.GetItem", "DynamoDBStreams_20120810.GetRecords", "AWSEvents.PutEvents")
    ]
    # THEN only the DynamoDB one skipped the dispatcher
    assert answers == [b"dynamodb", b"dispatcher", b"dispatcher"]


class EchoApp:
    """Answers each request with its body; remembers which server thread (so which connection) served it."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        self.threads.append(threading.get_ident())
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0"), ("Connection", "close")])
        return [b"echo:", body]


@contextlib.contextmanager
def _serving(app: EchoApp) -> Iterator[int]:
    server = ThreadingKeepAliveServer(("127.0.0.1", 0), KeepAliveHandler)
    server.set_app(app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_one_connection_serves_request_after_request() -> None:
    """werkzeug's server closed the connection after every answer: a TCP connection and a thread per call."""
    app = EchoApp()
    with _serving(app) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        answers = []
        for index in range(3):
            connection.request("POST", "/", body=f'{{"n": {index}}}'.encode(), headers={"X-Amz-Target": "x"})
            response = connection.getresponse()
            answers.append((response.status, response.read(), response.getheader("Connection")))
        connection.close()

    assert answers == [(200, f'echo:{{"n": {index}}}'.encode(), None) for index in range(3)]
    assert len(set(app.threads)) == 1  # the same connection all along


def test_answers_on_a_kept_connection_are_not_held_back() -> None:
    """Headers and body are two writes: with Nagle's algorithm each answer's body would wait for the client's delayed
    ACK (40 ms), ten answers at least 0.4 s."""
    with _serving(EchoApp()) as port:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        started = time.perf_counter()
        for _ in range(10):
            connection.request("POST", "/", body=b"{}")
            connection.getresponse().read()
        elapsed = time.perf_counter() - started
        connection.close()

    assert elapsed < 0.35


def test_a_chunked_body_is_read_whole_and_the_connection_goes_on() -> None:
    app = EchoApp()
    with _serving(app) as port, socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        chunked = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        raw.sendall(chunked + b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nf")
        received = b""
        while received.count(b"echo:") < 2:
            received += raw.recv(4096)

    assert b"echo:abcde" in received and received.endswith(b"echo:f")


def _on_table(table: str | None, target: str = "DynamoDB_20120810.UpdateItem") -> dict[str, Any]:
    body = json.dumps({"TableName": table} if table else {"TransactItems": []}).encode()
    return {"HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}


def _race_on(app: Callable[..., Iterable[bytes]], environs: list[dict[str, Any]]) -> list[bytes]:
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda environ: b"".join(app(environ, lambda *args: None)), environs))


def test_writes_on_one_table_are_applied_one_at_a_time() -> None:
    app = CheckThenWriteApp(limit=5)
    answers = _race_on(DynamoDbOneAtATime(app), [_on_table("slashops-ledger") for _ in range(24)])
    assert answers.count(b"granted") == 5
    assert app.most_inside == 1


class OverlapApp:
    """Records, for each request, how many others were being answered while it was."""

    def __init__(self) -> None:
        self.inside: set[int] = set()
        self.overlaps: dict[str, list[int]] = {}
        self._count = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        me, operation = threading.get_ident(), environ["HTTP_X_AMZ_TARGET"].rpartition(".")[2]
        with self._count:
            self.inside.add(me)
            self.overlaps.setdefault(operation, []).append(len(self.inside) - 1)
        time.sleep(0.002)
        with self._count:
            self.overlaps[operation][-1] = max(self.overlaps[operation][-1], len(self.inside) - 1)
            self.inside.discard(me)
        start_response("200 OK", [])
        return [b"{}"]


def test_a_request_over_several_tables_runs_alone() -> None:
    app = OverlapApp()
    transaction = "DynamoDB_20120810.TransactWriteItems"
    environs = [_on_table(None, transaction) if index % 3 == 0 else _on_table(f"t{index % 4}") for index in range(24)]

    _race_on(DynamoDbOneAtATime(app), environs)

    assert app.overlaps["TransactWriteItems"] == [0] * 8
