"""What the channel reads about a scheduled backup: the worker's own events (fakes) through the notifier.

A failure is always posted to the entry's channel, naming the schedule and the cause; a success only with
`notify: always`; either way the ledger knows the command, run by the schedule."""

from __future__ import annotations

import threading

from services.backup.consumer import handle_message
from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.events.models import CommandRequested, ResultEvent
from tests.support.backup import ScriptEngine, backup_deps, published
from tests.support.fakes import StaticConfig
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack
from tests.unit.services.backup.test_scheduling import CONFIG, fired_message
from tests.unit.services.notifier.test_announcing import body

REFUSED = "import sys; sys.stderr.write('pg_dump: error: connection to server refused'); sys.exit(1)"


def _run_schedule(deps: NotifierDeps, schedule: str, *, dump: str = "") -> str:
    engine = ScriptEngine(dump_script=dump) if dump else ScriptEngine()
    worker = backup_deps(engines={"postgresql": engine}, config=StaticConfig.from_text(CONFIG))
    handle_message(fired_message(schedule), worker, threading.Event())
    events = published(worker)
    for event in events:
        assert isinstance(event, CommandRequested | ResultEvent)
        handle_event(event, deps)
    return events[0].command_id


def test_a_quiet_schedules_success_is_recorded_and_not_posted(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    command_id = _run_schedule(deps, "orders@0 3 * * * Europe/Berlin")
    assert slack.posts == [] and slack.responses == [] and slack.replies == {}
    entry = ledger.get(command_id)
    assert entry is not None and entry.state == "succeeded" and entry.command == "backup"
    assert entry.user_id == "schedule orders@0 3 * * * Europe/Berlin" and entry.channel_id == "C0DBOPS"


def test_a_failure_is_posted_to_the_channel_naming_the_schedule_and_the_cause(
    deps: NotifierDeps, slack: RecordingSlack, ledger: InMemoryLedger
) -> None:
    command_id = _run_schedule(deps, "orders@0 3 * * * Europe/Berlin", dump=REFUSED)
    [(channel, parent)] = slack.posts
    assert channel == "C0DBOPS"
    text = body(parent)
    assert "Run by schedule orders@0 3 * * * Europe/Berlin" in text  # who
    assert "*failed*" in text and "pg_dump: error: connection to server refused" in text  # what, and why
    assert f"`{command_id}`" in text  # `/ops status <id>` finds it
    entry = ledger.get(command_id)
    assert entry is not None and entry.state == "failed"


def test_notify_always_posts_the_success_in_the_channel(deps: NotifierDeps, slack: RecordingSlack) -> None:
    _run_schedule(deps, "orders-6h")
    [(channel, result)] = slack.posts  # the outcome only: nobody waits for a schedule's progress
    assert channel == "C0DBOPS" and "Run by schedule orders-6h" in body(result) and "*succeeded*" in body(result)
