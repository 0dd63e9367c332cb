"""In-memory fakes of the ports only the ingress uses, and its dependencies built from fakes."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.deps import IngressDeps
from shared.deadline import Deadline
from shared.replay import ReplayGuardUnavailableError, SignedRequest
from shared.slack.blocks import SlackMessage
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.locks import MemoryLockStore


class MemoryReplayGuard:
    """`ReplayGuard` in one process; tests/contracts/test_replay_guard.py holds it to the DynamoDB adapter.

    `unavailable=True` is a guard that cannot tell (the table did not answer): the ingress must fail closed.
    """

    def __init__(self, *, unavailable: bool = False) -> None:
        self.seen: dict[str, str] = {}
        self.unavailable = unavailable
        self._lock = threading.Lock()

    def first_sighting(self, request: SignedRequest, command_id: str, *, deadline: Deadline) -> str | None:
        if self.unavailable:
            raise ReplayGuardUnavailableError("the request log did not answer (unavailable)")
        with self._lock:
            earlier = self.seen.setdefault(request.key, command_id)
        return None if earlier == command_id else earlier  # like a retried put that finds its own id


class RecordingResponder:
    """`Responder` that keeps what a click's answer would have posted to its `response_url`."""

    def __init__(self) -> None:
        self.posted: list[tuple[str, SlackMessage]] = []

    def respond(self, response_url: str, message: SlackMessage, *, deadline: Deadline) -> bool:
        self.posted.append((response_url, message))
        return True


def ingress_deps(**overrides: Any) -> IngressDeps:
    """The ingress on fakes: the seed access rules, a recording bus, in-memory replay guard and locks, no ledger."""
    fields: dict[str, Any] = {
        "publisher": RecordingPublisher(),
        "replays": MemoryReplayGuard(),
        "locks": MemoryLockStore(),
        "responder": RecordingResponder(),
    }
    fields.update(overrides)
    if "config" not in fields:  # imported only here: it imports chalice.test (bench/ingress_bench.py's cold start)
        from tests.support.ingress import SEED_RULES

        fields["config"] = StaticConfig.from_text(SEED_RULES)
    return IngressDeps(**fields)
