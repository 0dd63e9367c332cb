"""A schedule's firing → a command of its own, authorized only by the entry in the configuration as it is now."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime

import pytest

from services.backup.consumer import Disposition, handle_message
from services.backup.deps import BackupDeps
from services.backup.ports import QueueMessage
from services.backup.scheduling import command_id_for, metric_name
from shared.errors import ConfigurationError
from shared.events.models import (
    SCHEDULER_SOURCE,
    CommandAccepted,
    CommandFailed,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    ScheduleFired,
)
from tests.support.backup import ScriptEngine, backup_deps, events_of, published
from tests.support.fakes import StaticConfig
from tests.support.fakes.backup import FakeBackupStore

FIRED_AT = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
# access rules that admit nobody to anything: a schedule does not need them
CONFIG = """
access: [{command: status, users: [U0NOBODY]}]
backup:
  schedules:
    - {database: orders, cron: "0 3 * * *", timezone: Europe/Berlin, channel: C0DBOPS}
    - {database: orders, rate: 6h, channel: C0DBOPS, notify: always, name: orders-6h}
    - {database: billing, rate: 1d, channel: C0BILLING}
"""


def fired_message(
    schedule: str = "orders@0 3 * * * Europe/Berlin", database: str = "orders", *, kind: str = "backup"
) -> QueueMessage:
    event = ScheduleFired(schedule=schedule, kind=kind, database=database, fired_at=FIRED_AT)  # type: ignore[arg-type]
    envelope = {"source": SCHEDULER_SOURCE, "detail-type": "ScheduleFired", "detail": event.model_dump(mode="json")}
    return QueueMessage(body=json.dumps(envelope), receipt_handle="r-1")


def _deps(store: FakeBackupStore | None = None, engine: ScriptEngine | None = None, text: str = CONFIG) -> BackupDeps:
    return backup_deps(
        store=store or FakeBackupStore(),
        engines={"postgresql": engine or ScriptEngine()},
        config=StaticConfig.from_text(text),
    )


def _handle(deps: BackupDeps, message: QueueMessage) -> Disposition:
    return handle_message(message, deps, threading.Event())


def test_a_firing_runs_a_backup_as_its_own_command_run_by_the_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    store = FakeBackupStore()
    deps = _deps(store)

    assert _handle(deps, fired_message()) is Disposition.DONE

    request, accepted, succeeded = (
        published(deps)[0],
        *events_of(deps, CommandAccepted),
        *events_of(deps, CommandSucceeded),
    )
    assert isinstance(request, CommandRequested)  # published first: the notifier records it in the ledger
    assert request.command == "backup" and request.arguments == {"db": "orders"}
    assert request.actor.user_id == "schedule orders@0 3 * * * Europe/Berlin"
    assert request.command_id == command_id_for(
        ScheduleFired(schedule=request.actor.user_id[9:], database="orders", fired_at=FIRED_AT)
    )
    assert request.reply_to.channel_id == "C0DBOPS" and request.reply_to.visibility == "in_channel"
    assert request.reply_to.posts == "failures" and request.reply_to.response_url == ""
    assert {accepted.command_id, succeeded.command_id} == {request.command_id}
    assert all(event.reply_to == request.reply_to for event in (accepted, succeeded))
    [manifest] = store.manifests("orders")
    assert manifest.command_id == request.command_id
    # the metric the missed-schedule alarm watches, as CloudWatch's embedded metric format
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert line[metric_name("backup")] == [1.0] and line["Schedule"].startswith("backup-orders-")
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Schedule"]]


def test_notify_always_posts_every_result() -> None:
    deps = _deps()
    _handle(deps, fired_message("orders-6h"))
    [request] = events_of(deps, CommandRequested)
    assert request.actor.user_id == "schedule orders-6h" and request.reply_to.posts == "final"


def test_two_deliveries_of_one_firing_are_one_command_id() -> None:
    deps = _deps()
    _handle(deps, fired_message())
    _handle(deps, fired_message())
    first, second = events_of(deps, CommandRequested)
    assert first.command_id == second.command_id


@pytest.mark.parametrize(
    ("schedule", "database", "kind"),
    [
        ("orders@0 4 * * *", "orders", "backup"),  # an entry that is not (or no longer) configured
        ("orders@0 3 * * * Europe/Berlin", "billing", "backup"),  # a configured name, another database
        ("orders@0 3 * * * Europe/Berlin", "orders", "verify"),  # a configured name, another kind
    ],
)
def test_a_forged_or_stale_firing_runs_nothing_and_is_logged(
    schedule: str, database: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = FakeBackupStore()
    deps = _deps(store)
    with caplog.at_level(logging.ERROR):
        assert _handle(deps, fired_message(schedule, database, kind=kind)) is Disposition.DONE
    assert published(deps) == [] and store.manifests("orders") == []
    assert any(
        "REFUSED a ScheduleFired" in record.getMessage() and schedule in record.getMessage()
        for record in caplog.records
    )


def test_a_firing_with_an_unreadable_detail_is_dropped() -> None:
    deps = _deps()
    body = json.dumps({"source": SCHEDULER_SOURCE, "detail-type": "ScheduleFired", "detail": {"schedule": ""}})
    assert _handle(deps, QueueMessage(body, "r")) is Disposition.DONE
    assert published(deps) == []


def test_a_broken_configuration_keeps_the_firing_for_later() -> None:
    deps = _deps()
    deps.config = StaticConfig(ConfigurationError("bad yaml"))
    assert _handle(deps, fired_message()) is Disposition.LATER
    assert published(deps) == []


def test_a_failed_scheduled_backup_is_reported_with_its_cause_to_the_channel() -> None:
    failing = "import sys; sys.stderr.write('pg_dump: error: connection refused'); sys.exit(1)"
    deps = _deps(engine=ScriptEngine(dump_script=failing))
    _handle(deps, fired_message())
    [failed] = events_of(deps, CommandFailed)
    assert failed.reply_to.channel_id == "C0DBOPS" and "connection refused" in failed.output
    assert "schedule orders@0 3 * * * Europe/Berlin" == failed.reply_to.user_id


def test_a_schedule_for_a_database_the_worker_lacks_is_rejected_in_its_channel() -> None:
    deps = _deps()
    _handle(deps, fired_message("billing@every 1d", "billing"))
    [rejected] = events_of(deps, CommandRejected)
    assert rejected.reply_to.channel_id == "C0BILLING" and "billing" in rejected.reason


def test_a_verify_entry_runs_the_verify_command_through_the_same_path() -> None:
    text = CONFIG + "    - {kind: verify, database: orders, rate: 1d, channel: C0DBOPS, name: orders-verify}\n"
    deps = _deps(text=text)
    _handle(deps, fired_message("orders-verify", kind="verify"))
    [request] = events_of(deps, CommandRequested)
    assert (request.command, request.actor.user_id) == ("verify", "schedule orders-verify")
    [outcome] = [e for e in published(deps) if isinstance(e, CommandFailed | CommandRejected | CommandSucceeded)]
    assert outcome.command_id == request.command_id and outcome.reply_to.channel_id == "C0DBOPS"
    assert isinstance(outcome, CommandRejected) and "has no completed backups yet" in outcome.reason  # posted


def test_a_backup_verify_entry_fires_as_a_verify_schedule() -> None:
    """`backup.verify: [{database: orders, cron: …}]` (issue 25.4) is a `kind: verify` schedule of its own list."""
    text = CONFIG + "  verify:\n    - {database: orders, cron: '0 4 * * *', channel: C0DBOPS}\n"
    deps = _deps(text=text)
    _handle(deps, fired_message("orders@0 4 * * *", kind="verify"))
    [request] = events_of(deps, CommandRequested)
    assert (request.command, request.actor.user_id) == ("verify", "schedule orders@0 4 * * *")


def test_a_typed_backup_counts_for_no_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support.backup import request_message

    deps = backup_deps(engines={"postgresql": ScriptEngine()})
    assert _handle(deps, request_message("backup", db="orders")) is Disposition.DONE
    assert events_of(deps, CommandSucceeded) and '"_aws"' not in capsys.readouterr().out
