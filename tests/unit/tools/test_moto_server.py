"""The local moto server applies DynamoDB requests one at a time (conditional writes atomic, as on AWS)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tools.moto_server import DynamoDbOneAtATime


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
