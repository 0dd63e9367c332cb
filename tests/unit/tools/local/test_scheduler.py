"""The local scheduler (tools/local/scheduler.py): jobs run when due, on a clock the test moves, failures never stop
it, missed times run once, and daily times roll over to the next day."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, time, timedelta

import pytest

from tests.support.clock import Clock
from tools.local.scheduler import Daily, Every, Scheduler, as_job, load, parse_schedule

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_a_job_runs_every_period_from_when_it_was_added() -> None:
    clock, ran = Clock(T0), []
    scheduler = Scheduler(clock=clock)
    scheduler.add("tick", Every(5), lambda: ran.append(clock.now))

    assert scheduler.run_pending() == [] and scheduler.seconds_until_next() == 5
    for seconds in (4.9, 5, 7, 10, 15.5):
        clock.now = T0 + timedelta(seconds=seconds)
        scheduler.run_pending()
    assert ran == [T0 + timedelta(seconds=s) for s in (5, 10, 15.5)]
    assert scheduler.seconds_until_next() == pytest.approx(4.5)  # next at 20 s: the plan, not the late run


def test_missed_times_run_once_not_once_each() -> None:
    clock, ran = Clock(T0), []
    scheduler = Scheduler(clock=clock)
    scheduler.add("tick", Every(5), lambda: ran.append(clock.now), first_at=T0)
    clock.now = T0 + timedelta(seconds=61)  # the machine slept
    assert scheduler.run_pending() == ["tick"] and scheduler.run_pending() == []
    assert scheduler.jobs[0].next_at == T0 + timedelta(seconds=66)


def test_a_failing_job_is_logged_and_runs_again_at_its_next_time(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock(T0)
    scheduler = Scheduler(clock=clock)
    calls = []

    def broken() -> None:
        calls.append(clock.now)
        raise RuntimeError("table down")

    job = scheduler.add("sweep", Every(1), broken, first_at=T0)
    scheduler.run_pending()
    clock.now += timedelta(seconds=1)
    scheduler.run_pending()
    assert len(calls) == 2 and (job.runs, job.failures) == (2, 2)
    assert "scheduled job sweep failed (run 2); it runs again at its next time" in caplog.text
    assert "table down" in caplog.text


def test_daily_times_are_the_next_one_today_or_tomorrow() -> None:
    daily = Daily((time(2, 0), time(14, 30)))
    assert daily.next_after(T0) == T0.replace(hour=14, minute=30)
    assert daily.next_after(T0.replace(hour=14, minute=30)) == T0.replace(hour=2) + timedelta(days=1)
    assert daily.next_after(T0.replace(hour=1, minute=59)) == T0.replace(hour=2)


def test_two_jobs_run_in_the_order_they_are_due() -> None:
    clock, ran = Clock(T0), []
    scheduler = Scheduler(clock=clock)
    scheduler.add("nightly", Daily((time(12, 0, 3),)), lambda: ran.append("nightly"))
    scheduler.add("sweep", Every(2), lambda: ran.append("sweep"))
    clock.now = T0 + timedelta(seconds=3)
    assert scheduler.run_pending() == ["sweep", "nightly"] == ran


def test_the_thread_runs_jobs_on_the_real_clock_and_stops() -> None:
    done = threading.Event()
    scheduler = Scheduler()
    scheduler.add("once", Every(0.05), done.set)
    scheduler.start()
    try:
        assert done.wait(5)
    finally:
        scheduler.stop()
    assert scheduler._thread is not None and not scheduler._thread.is_alive()


def test_schedules_and_targets_are_checked() -> None:
    with pytest.raises(ValueError, match="positive"):
        Every(0)
    with pytest.raises(ValueError, match="either --every"):
        parse_schedule(None, [])
    with pytest.raises(ValueError, match="either --every"):
        parse_schedule(5, ["02:00"])
    assert parse_schedule(None, ["02:00"]) == Daily((time(2, 0),))
    with pytest.raises(ValueError, match="module:function"):
        load("tools.local.scheduler")
    calls: list[tuple[object, ...]] = []
    as_job(lambda *args: calls.append(args), lambda_style=True)()
    as_job(lambda *args: calls.append(args), lambda_style=False)()
    assert calls == [({}, None), ()]


def test_the_command_line_refuses_a_target_that_does_not_exist() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.local.scheduler", "--every", "5", "no.such.module:run"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "No module named 'no'" in result.stderr
