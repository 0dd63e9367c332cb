"""Scheduled backups on the real PostgreSQL and MariaDB, S3 on LocalStack: `rate: 1m` entries fire on the local
scheduler under the test's clock (`tools.local.schedules`), the firings reach the worker as the bus delivers them,
and each backup lands in the bucket as a command of its own, run by its schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.connections import Database
from services.backup.consumer import Disposition, handle_message
from services.backup.ports import QueueMessage
from shared.events.models import SCHEDULER_SOURCE, CommandRequested, CommandSucceeded, ScheduleFired
from tests.support.backup import events_of, make_worker
from tests.support.fakes import StaticConfig
from tools.local.scheduler import Scheduler
from tools.local.schedules import LocalSchedules

pytestmark = pytest.mark.integration
START = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
CONFIG = """
access: [{command: status, users: [U0NOBODY]}]  # nobody may back up by hand: the entries need no rule
backup:
  schedules:
    - {database: orders, rate: 1m, channel: C0DBOPS, name: orders-minutely}
    - {database: shop, rate: 1m, channel: C0SHOP, name: shop-minutely}
"""


def test_rate_schedules_back_up_postgres_and_mariadb_as_their_own_commands(
    pg_database: Database, maria_database: Database, store: S3BackupStore
) -> None:
    worker = make_worker(store, pg_database, maria_database)
    worker.deps.config = StaticConfig.from_text(CONFIG)
    delivered: list[Disposition] = []

    class ToTheWorker:
        """The bus rule's delivery: the event as an SQS body on the backup queue, handled by the worker."""

        def fire(self, event: ScheduleFired) -> None:
            envelope = {
                "source": SCHEDULER_SOURCE,
                "detail-type": "ScheduleFired",
                "detail": event.model_dump(mode="json"),
            }
            delivered.append(handle_message(QueueMessage(json.dumps(envelope), "r"), worker.deps, worker.stop))

    now = [START]
    scheduler = Scheduler(clock=lambda: now[0])
    LocalSchedules(scheduler, ToTheWorker()).sync(worker.deps.config.get())

    now[0] = START + timedelta(seconds=59)
    assert scheduler.run_pending() == []  # not yet
    now[0] = START + timedelta(minutes=1)
    assert sorted(scheduler.run_pending()) == ["schedule orders-minutely", "schedule shop-minutely"]

    assert delivered == [Disposition.DONE, Disposition.DONE]
    requests = {event.arguments["db"]: event for event in events_of(worker.deps, CommandRequested)}
    for name, database in (("orders", pg_database), ("shop", maria_database)):
        [manifest] = store.manifests(name)
        request = requests[name]
        assert manifest.engine == database.engine and manifest.size_bytes > 0
        assert manifest.command_id == request.command_id
        assert manifest.created_by == request.actor.user_id == f"schedule {name}-minutely"
        assert request.requested_at == START + timedelta(minutes=1)
    done = {event.command_id for event in events_of(worker.deps, CommandSucceeded)}
    assert done == {request.command_id for request in requests.values()}
