"""The heartbeat keeps a message hidden while its job runs, and a failed beat does not end the job."""

from __future__ import annotations

import time

from services.backup.heartbeat import keep_invisible
from tests.support.backup import request_message
from tests.support.fakes.backup import FakeJobQueue


def test_the_message_is_kept_invisible_until_the_job_ends() -> None:
    queue = FakeJobQueue()
    with keep_invisible(request_message("backups", db="orders"), queue, timeout=120, every=0.01):
        time.sleep(0.1)
    beats = len(queue.extended)
    time.sleep(0.05)

    assert beats >= 3 and set(queue.extended) == {120}
    assert len(queue.extended) == beats  # stopped with the job


class FailingOnce(FakeJobQueue):
    def extend(self, message: object, seconds: int) -> None:  # type: ignore[override]
        if not self.extended:
            self.extended.append(-1)
            raise RuntimeError("SQS unreachable")
        self.extended.append(seconds)


def test_a_missed_beat_is_logged_and_the_next_one_still_happens() -> None:
    queue = FailingOnce()
    with keep_invisible(request_message("backups", db="orders"), queue, timeout=60, every=0.01):
        time.sleep(0.1)
    assert queue.extended[0] == -1 and 60 in queue.extended
