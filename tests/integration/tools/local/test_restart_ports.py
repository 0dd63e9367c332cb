"""A restarted `make run` binds its ports at once: every local listener uses SO_REUSEADDR, and so does the
start-up check, so connections of the previous run left in TIME_WAIT (about 60 s on Linux) do not block it."""

from __future__ import annotations

import socket
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from socketserver import TCPServer

import pytest

from tools.fakes.server import ReusableHTTPServer
from tools.local.ingress import server_class
from tools.local.run import port_is_free

pytestmark = pytest.mark.integration
LISTENERS: dict[str, Callable[[tuple[str, int]], TCPServer]] = {
    "fake Slack and Jenkins (tools.fakes.server)": lambda address: ReusableHTTPServer(address, BaseHTTPRequestHandler),
    "ingress (tools.local.ingress)": lambda address: server_class(16)(address, BaseHTTPRequestHandler),
}


def _time_wait_on(port: int) -> bool:
    """A socket on 127.0.0.1:`port` in TIME_WAIT (state 06 in /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(row.split()[1] == local and row.split()[3] == "06" for row in rows)


def _leave_a_connection_in_time_wait(server: TCPServer) -> None:
    """Accept one connection and close it from the server's side first: the server's end goes to TIME_WAIT."""
    port = server.server_address[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.socket.accept()
    accepted.close()
    client.recv(1)  # the server's FIN
    client.close()
    server.server_close()


@pytest.mark.parametrize("make", list(LISTENERS.values()), ids=list(LISTENERS))
def test_a_listener_binds_again_while_its_previous_connection_is_in_time_wait(
    make: Callable[[tuple[str, int]], TCPServer],
) -> None:
    first = make(("127.0.0.1", 0))
    port = first.server_address[1]
    _leave_a_connection_in_time_wait(first)
    assert _time_wait_on(port), "the test did not produce TIME_WAIT: it would prove nothing"

    with socket.socket() as plain:  # what failed before: a bind without SO_REUSEADDR
        with pytest.raises(OSError):
            plain.bind(("127.0.0.1", port))
    assert port_is_free(port)  # make run's start-up check agrees
    second = make(("127.0.0.1", port))
    try:
        assert second.server_address[1] == port
    finally:
        second.server_close()


def test_the_start_up_check_still_sees_a_real_listener() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert not port_is_free(busy.getsockname()[1])
