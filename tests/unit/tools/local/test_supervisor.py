"""`make run`'s supervisor: a child that exits on its own is restarted with backoff; only stop_all ends them."""

from __future__ import annotations

import io
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import cast

import pytest

from tools.local.aws import Service
from tools.local.run import RestartPolicy, Supervisor, describe_exit

CHILD_THAT_STAYS = "import time; print('child up', flush=True); time.sleep(60)"
CHILD_THAT_EXITS = "import sys; sys.exit(3)"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def out() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def supervisor(out: io.StringIO) -> Iterator[Supervisor]:
    supervisor = Supervisor(env=dict(os.environ), out=out, policy=RestartPolicy(first_delay=0.05))
    yield supervisor
    supervisor.stop_all(timeout=2)


def _until(condition: Callable[[], bool], supervisor: Supervisor, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        supervisor.check()
        time.sleep(0.02)


def test_the_backoff_doubles_up_to_its_cap_and_starts_over_after_a_stable_run() -> None:
    policy = RestartPolicy(first_delay=1, max_delay=30, stable_after=60)
    delays: list[float] = []
    delay: float | None = None
    for _ in range(7):
        delay = policy.next_delay(delay, uptime=0.5)
        delays.append(delay)
    assert delays == [1, 2, 4, 8, 16, 30, 30]
    assert policy.next_delay(30, uptime=61) == 1


def test_a_child_killed_with_sigkill_is_restarted_and_the_exit_is_logged(
    supervisor: Supervisor, out: io.StringIO
) -> None:
    child = supervisor.start("tiny", [sys.executable, "-c", CHILD_THAT_STAYS])
    first = child.process
    _until(lambda: out.getvalue().count("child up") == 1, supervisor)
    os.kill(first.pid, signal.SIGKILL)
    _until(lambda: child.restarts == 1 and out.getvalue().count("child up") == 2, supervisor)
    assert child.process.pid != first.pid and child.process.poll() is None
    log = out.getvalue()
    assert f"tiny (pid {first.pid}) exited with -9 (SIGKILL)" in log
    assert f"restarted tiny (pid {child.process.pid}, restart 1)" in log


def test_a_lowered_priority_holds_for_the_child_its_threads_and_its_restarts(
    supervisor: Supervisor, out: io.StringIO
) -> None:
    # GIVEN a child started at niceness 7 that starts a thread and reports both priorities
    script = (
        "import os, threading, time\n"
        "def report(): print('nice', os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), flush=True)\n"
        "report(); threading.Thread(target=report).start(); time.sleep(60)"
    )
    child = supervisor.start("low", [sys.executable, "-c", script], niceness=7)
    _until(lambda: out.getvalue().count("nice ") == 2, supervisor)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    # WHEN it is killed and restarted
    os.kill(child.process.pid, signal.SIGKILL)
    _until(lambda: child.restarts == 1 and out.getvalue().count("nice ") == 4, supervisor)
    # THEN every report, before and after the restart, is 7 lower than ours
    assert out.getvalue().count(f"nice {min(base + 7, 19)}") == 4


def test_without_a_nice_command_the_child_still_starts_at_the_usual_priority(out: io.StringIO) -> None:
    supervisor = Supervisor(env={**os.environ, "PATH": ""}, out=out)  # `nice` cannot be found
    try:
        report = "import os; print('nice', os.getpriority(os.PRIO_PROCESS, 0), flush=True); import time; time.sleep(60)"
        supervisor.start("low", [sys.executable, "-c", report], niceness=7)
        _until(lambda: "nice " in out.getvalue(), supervisor)
        assert f"nice {os.getpriority(os.PRIO_PROCESS, 0)}" in out.getvalue()
    finally:
        supervisor.stop_all(timeout=2)


def test_quick_failures_wait_longer_each_time(out: io.StringIO) -> None:
    clock = FakeClock()
    policy = RestartPolicy(first_delay=1, max_delay=4, stable_after=60)
    supervisor = Supervisor(env=dict(os.environ), out=out, policy=policy, clock=clock)
    child = supervisor.start("flaky", [sys.executable, "-c", CHILD_THAT_EXITS])
    waits: list[float] = []
    try:
        for restart in range(1, 5):
            child.process.wait(timeout=10)
            supervisor.check()  # notices the exit, schedules the restart
            assert child.restart_at is not None
            waits.append(child.restart_at - clock.now)
            clock.now = child.restart_at - 0.01
            supervisor.check()
            assert child.restarts == restart - 1  # not before its time
            clock.now = child.restart_at
            supervisor.check()
            assert child.restarts == restart
    finally:
        supervisor.stop_all(timeout=2)
    assert waits == [1, 2, 4, 4]
    assert "flaky (pid " in out.getvalue() and "exited with 3 after" in out.getvalue()


def test_after_stop_all_nothing_is_restarted(supervisor: Supervisor, out: io.StringIO) -> None:
    child = supervisor.start("tiny", [sys.executable, "-c", CHILD_THAT_STAYS])
    supervisor.stop_all(timeout=2)
    time.sleep(0.1)
    supervisor.check()
    assert child.restarts == 0 and child.process.poll() is not None
    assert "stopped everything" in out.getvalue()


def test_the_local_state_is_saved_after_the_children_stop_and_before_the_local_aws_does(
    supervisor: Supervisor,
) -> None:
    """`at_stop` (saving `make run`'s state) sees no child writing any more, and an AWS still answering."""
    seen: list[str] = []
    child = supervisor.start("tiny", [sys.executable, "-c", CHILD_THAT_STAYS])

    class LocalAws:
        def stop(self) -> None:
            seen.append("aws stopped")

    supervisor.services.append(cast(Service, LocalAws()))
    supervisor.at_stop.append(lambda: seen.append(f"saved, child exited: {child.process.poll() is not None}"))
    supervisor.stop_all(timeout=2)
    assert seen == ["saved, child exited: True", "aws stopped"]


def test_exit_codes_are_described_with_their_signal() -> None:
    assert describe_exit(-9) == "-9 (SIGKILL)"
    assert describe_exit(-15) == "-15 (SIGTERM)"
    assert describe_exit(0) == "0"
