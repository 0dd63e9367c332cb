"""`make run`'s schedules: each entry fires at its times on the test's clock, and a changed configuration (what
`config push --local` does) adds, replaces and removes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.config.model import SlashopsConfig
from shared.errors import ConfigurationError
from shared.events.models import ScheduleFired
from tests.support.fakes import StaticConfig
from tools.local.scheduler import Scheduler
from tools.local.schedules import LocalSchedules, refresher

START = datetime(2026, 12, 5, 23, 0, tzinfo=UTC)  # a Saturday, midnight in Berlin
NIGHTLY = "- {database: orders, cron: '0 3 * * *', timezone: Europe/Berlin, channel: C0DBOPS}"
EVERY_MINUTE = "- {database: shop, rate: 1m, channel: C0DBOPS}"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class RecordedFirings:
    def __init__(self) -> None:
        self.fired: list[ScheduleFired] = []

    def fire(self, event: ScheduleFired) -> None:
        self.fired.append(event)


def _config(*entries: str) -> SlashopsConfig:
    body = "\n    ".join(entries)
    return StaticConfig.from_text(f"access: [{{command: '*'}}]\nbackup:\n  schedules:\n    {body}\n").get()


def _advance(scheduler: Scheduler, clock: Clock, until: timedelta, step: timedelta = timedelta(seconds=30)) -> None:
    end = clock.now + until
    while clock.now < end:
        clock.now += step
        scheduler.run_pending()


def test_entries_fire_at_their_times_with_the_event_scheduler_sends() -> None:
    clock, firings = Clock(), RecordedFirings()
    scheduler = Scheduler(clock=clock)
    schedules = LocalSchedules(scheduler, firings)
    assert schedules.sync(_config(NIGHTLY, EVERY_MINUTE)) == [
        "added orders@0 3 * * * Europe/Berlin (backup of orders, 0 3 * * * Europe/Berlin)",
        "added shop@every 1m (backup of shop, every 1m)",
    ]

    _advance(scheduler, clock, timedelta(hours=3))

    nightly = [event for event in firings.fired if event.database == "orders"]
    minutely = [event for event in firings.fired if event.database == "shop"]
    assert [event.fired_at for event in nightly] == [datetime(2026, 12, 6, 2, 0, tzinfo=UTC)]  # 03:00 Berlin
    assert nightly[0].schedule == "orders@0 3 * * * Europe/Berlin" and nightly[0].kind == "backup"
    assert len(minutely) == 180 and minutely[0].fired_at == START + timedelta(minutes=1)


def test_a_pushed_configuration_adds_changes_and_removes_schedules() -> None:
    clock, firings = Clock(), RecordedFirings()
    scheduler = Scheduler(clock=clock)
    current = StaticConfig(_config(EVERY_MINUTE))
    refresh = refresher(current, schedules := LocalSchedules(scheduler, firings))
    refresh()
    _advance(scheduler, clock, timedelta(minutes=2))
    assert len(firings.fired) == 2

    current.value = _config("- {database: shop, rate: 5m, channel: C0DBOPS}")  # changed: a new entry
    refresh()
    assert list(schedules.registered) == ["shop@every 5m"]
    _advance(scheduler, clock, timedelta(minutes=10))
    assert [event.schedule for event in firings.fired[2:]] == ["shop@every 5m"] * 2

    current.value = ConfigurationError("broken")  # unreadable: what is registered stays
    refresh()
    assert list(schedules.registered) == ["shop@every 5m"]

    current.value = _config(NIGHTLY)
    refresh()
    assert list(schedules.registered) == ["orders@0 3 * * * Europe/Berlin"]
    assert [job.name for job in scheduler.jobs] == ["schedule orders@0 3 * * * Europe/Berlin"]
