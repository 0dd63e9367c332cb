"""`make run`'s ingress (`tools.local.ingress`, the real Chalice app) under a burst of simultaneous connections."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from chalice.app import Chalice

from tests.support.burst import burst, local_ingress, signed_help_requests
from tools.local.ingress import build_server

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture
def ingress_port() -> Iterator[int]:
    with local_ingress() as port:
        yield port


def test_two_hundred_simultaneous_signed_requests_are_all_answered(ingress_port: int) -> None:
    answers = burst("127.0.0.1", ingress_port, signed_help_requests(200), timeout=15)
    assert Counter(answers) == Counter({"HTTP/1.1 200 OK": 200})


def test_each_event_carries_when_its_request_arrived_as_api_gateway_stamps_it() -> None:
    """The ingress counts Slack's 3 s from `requestTimeEpoch`: locally it is the connection's accept for its first
    request (a request waiting for a thread under a burst is not given its budget anew), the request line's arrival
    for the next ones on a kept-alive connection."""
    app = Chalice(app_name="stamps")

    @app.route("/when", methods=["GET"])
    def when() -> dict[str, object]:
        request = app.current_request
        assert request is not None
        return {"requestTimeEpoch": request.context.get("requestTimeEpoch")}

    server = build_server(app, "127.0.0.1", 0)
    port = server.server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        connected = time.time()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.connect()
        time.sleep(0.3)  # accepted, but the request comes later
        sent = time.time()
        first = _epoch(connection)
        time.sleep(0.3)
        second_sent = time.time()
        second = _epoch(connection)  # the same connection, kept alive
    finally:
        server.shutdown()
    assert connected * 1000 - 5 <= first <= sent * 1000 - 200  # stamped at the accept, not when it was read
    assert second >= second_sent * 1000 - 5  # stamped when its own request line arrived


def _epoch(connection: http.client.HTTPConnection) -> int:
    connection.request("GET", "/when")
    answer = json.loads(connection.getresponse().read())
    stamp = answer["requestTimeEpoch"]
    assert isinstance(stamp, int)
    return stamp
