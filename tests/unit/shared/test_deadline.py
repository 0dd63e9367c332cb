"""One deadline for a whole request, and waiting for a blocking call no longer than it."""

from __future__ import annotations

import contextvars
import threading
import time

import pytest

from shared.deadline import Deadline, DeadlineExceededError, run_within, start_within


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_remaining_counts_down_and_never_goes_negative() -> None:
    clock = FakeClock()
    deadline = Deadline.after(2.5, clock=clock)
    clock.now += 1.0
    assert deadline.remaining() == pytest.approx(1.5)
    clock.now += 5.0
    assert deadline.remaining() == 0.0 and deadline.expired()


def test_a_step_never_gets_more_than_the_whole_request() -> None:
    clock = FakeClock()
    deadline = Deadline.after(2.5, clock=clock)
    assert deadline.within(1.0).remaining() == pytest.approx(1.0)
    clock.now += 2.0
    assert deadline.within(1.0).remaining() == pytest.approx(0.5)


def test_a_step_that_must_run_gets_a_floor_even_when_late() -> None:
    clock = FakeClock()
    deadline = Deadline.after(0.1, clock=clock)
    clock.now += 1.0
    assert deadline.at_least(0.2).remaining() == pytest.approx(0.2)
    assert Deadline.after(2.0, clock=clock).at_least(0.2).remaining() == pytest.approx(2.0)


def test_run_within_returns_the_result_or_raises_the_calls_error() -> None:
    deadline = Deadline.after(1.0)
    assert run_within(deadline, lambda: 42) == 42
    with pytest.raises(KeyError):
        run_within(deadline, lambda: {}["missing"])


def test_run_within_stops_waiting_at_the_deadline_for_a_call_that_hangs() -> None:
    release = threading.Event()
    started = time.monotonic()
    try:
        with pytest.raises(DeadlineExceededError):
            run_within(Deadline.after(0.2), lambda: release.wait(10))
        assert time.monotonic() - started < 1.0
    finally:
        release.set()


def test_run_within_reuses_an_idle_thread_but_never_waits_behind_a_hung_call() -> None:
    names: list[int] = []
    for _ in range(5):
        names.append(run_within(Deadline.after(1.0), threading.get_ident))
    assert len(set(names)) < 5  # the same idle thread served several calls
    release = threading.Event()
    try:
        with pytest.raises(DeadlineExceededError):
            run_within(Deadline.after(0.1), lambda: release.wait(10))
        started = time.monotonic()
        assert run_within(Deadline.after(1.0), lambda: 7) == 7  # another thread took it at once
        assert time.monotonic() - started < 0.5
    finally:
        release.set()


def test_run_within_runs_each_call_in_a_fresh_context() -> None:
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")
    run_within(Deadline.after(1.0), lambda: marker.set("leaked"))
    assert run_within(Deadline.after(1.0), marker.get) == "unset"


def test_short_of_leaves_the_time_asked_for_to_the_steps_after() -> None:
    clock = iter([10.0]).__next__
    assert Deadline(12.5, clock).short_of(0.5) == Deadline(12.0, clock)


def test_start_within_lets_the_caller_work_while_the_call_runs() -> None:
    """The call waits for the caller's own work: it can only answer True if both were under way together."""
    caller_worked = threading.Event()
    pending = start_within(Deadline.after(2.0), lambda: caller_worked.wait(2.0))
    caller_worked.set()
    assert pending.result() is True


def test_a_started_call_is_waited_for_no_longer_than_its_deadline_and_its_error_is_raised() -> None:
    release = threading.Event()
    try:
        pending = start_within(Deadline.after(0.1), lambda: release.wait(10))
        started = time.monotonic()
        with pytest.raises(DeadlineExceededError):
            pending.result()
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
    known: dict[str, int] = {}
    with pytest.raises(KeyError):
        start_within(Deadline.after(1.0), lambda: known["missing"]).result()


def test_a_call_its_own_timeouts_end_in_time_runs_on_the_callers_thread() -> None:
    ran_on = run_within(Deadline.after(2.0), threading.current_thread, bounded_by=1.75)
    assert ran_on is threading.current_thread()


def test_a_call_its_own_timeouts_would_end_too_late_is_abandoned_at_the_deadline() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        run_within(Deadline.after(0.2), lambda: release.wait(5), bounded_by=1.75)  # 1.75 s: more than is left
    release.set()
    assert time.monotonic() - started < 1.0


def test_a_call_without_a_known_bound_runs_in_a_worker_thread() -> None:
    ran_on = run_within(Deadline.after(2.0), threading.current_thread)
    assert ran_on is not threading.current_thread()
