"""Backup schedules end to end under `make run` (issue 25.1), on the real PostgreSQL: a `rate: 1m` entry fires on
the local scheduler, its `ScheduleFired` crosses the local bus to the backup worker, the backup lands in the local
S3 and the ledger shows it run by the schedule; an entry whose database refuses the connection is posted to its
channel naming the cause; a forged firing for an entry the configuration lacks runs nothing.

Observed as a person would: the channel through the fake Slack's transcript (make run's log), the ledger through its
DynamoDB adapter, the bucket through the backup worker's own S3 store.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from services.backup.adapters.s3_store import S3BackupStore
from shared.aws.tables import LEDGER
from shared.events.models import SCHEDULER_SOURCE, ScheduleFired
from shared.ledger.dynamodb import DynamoDbLedger
from shared.ledger.models import LedgerEntry
from tests.support.make_run import MakeRun, make_run
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.system import LOCAL_BUCKET, LOCAL_PREFIX

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
CHANNEL = "C0DBOPS"
CONFIG = f"""\
access: [{{command: "*"}}]
backup:
  schedules:
    - {{database: orders, rate: 1m, channel: {CHANNEL}, notify: always, name: orders-minutely}}
    - {{database: refusing, rate: 1m, channel: {CHANNEL}, name: refusing-minutely}}
"""
REFUSING = "postgresql://postgres@127.0.0.1:1/refusing"  # nothing listens on port 1: connection refused


def _client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def _until[T](probe: Callable[[], T | None], *, timeout: float, what: str, running: MakeRun) -> T:
    deadline = time.monotonic() + timeout
    while (found := probe()) is None:
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f}s\n{running.text()[-6000:]}"
        time.sleep(0.5)
    return found


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    config = tmp_path_factory.mktemp("schedules") / "slashops.yaml"
    config.write_text(CONFIG)
    with make_run(extra_env={"SLASHOPS_CONFIG": str(config), "SLASHOPS_DB_REFUSING": REFUSING}) as started:
        yield started


def _endpoints(running: MakeRun) -> tuple[str, str]:
    dynamodb = running.wait_for(r"moto server \(DynamoDB\) on (http://\S+)", 5).group(1)
    localstack = re.search(r"LocalStack on (http://\S+)", running.text())
    return (localstack.group(1) if localstack else dynamodb), dynamodb


def test_a_rate_schedule_backs_up_reports_and_refuses_forgeries(running: MakeRun) -> None:
    aws, dynamodb = _endpoints(running)
    ledger = DynamoDbLedger(LEDGER.name, client=_client("dynamodb", dynamodb))
    running.wait_for(r"schedules: 2 from the configuration: orders-minutely, refusing-minutely", 30)

    def by_schedule(name: str, state: str) -> LedgerEntry | None:
        return next(
            (e for e in ledger.iter_recent(command="backup") if e.user_id == f"schedule {name}" and e.state == state),
            None,
        )

    # the minutely entry on the real PostgreSQL: in the ledger, run by the schedule, its dump in the bucket
    done = _until(
        lambda: by_schedule("orders-minutely", "succeeded"), timeout=150, what="the scheduled backup", running=running
    )
    assert done.channel_id == CHANNEL and done.arguments == {"db": "orders"}
    store = S3BackupStore(LOCAL_BUCKET, client=_client("s3", aws))
    manifest = next(m for m in store.manifests("orders") if m.command_id == done.command_id)
    assert manifest.created_by == "schedule orders-minutely" and manifest.size_bytes > 0
    # `notify: always`: the success is posted in its channel, naming the schedule
    posted = running.wait_for(
        rf"\[chat\.postMessage {CHANNEL} ts=\S+\] [^\n]*`backup` `{done.command_id}` \*succeeded\*[^\n]*", 20
    ).group(0)
    assert "Run by schedule orders-minutely" in running.text()[running.text().index(posted) :][:2000]

    # the entry whose database refuses the connection: failed, and posted there with the cause
    failed = _until(
        lambda: by_schedule("refusing-minutely", "failed"),
        timeout=60,
        what="the failed scheduled backup",
        running=running,
    )
    failure = running.wait_for(
        rf"\[chat\.postMessage {CHANNEL} ts=\S+\] [^\n]*`backup` `{failed.command_id}` \*failed\*", 20
    )
    after = running.text()[failure.start() :][:3000]
    assert "refused" in after.lower() and "Run by schedule refusing-minutely" in after
    # a quiet entry's progress and a notify-always entry's progress are never posted: only the outcomes
    assert not re.search(rf"\[chat\.postMessage {CHANNEL} ts=\S+\] [^\n]*started", running.text())

    # a forged firing for an entry the configuration does not have: refused and logged, nothing runs
    forged = ScheduleFired(schedule="orders@every 1m", database="orders", fired_at=datetime.now(UTC))
    _client("events", aws).put_events(
        Entries=[
            {
                "Source": SCHEDULER_SOURCE,
                "DetailType": "ScheduleFired",
                "Detail": forged.model_dump_json(),
                "EventBusName": LOCAL_PREFIX,
            }
        ]
    )
    running.wait_for(r"REFUSED a ScheduleFired event, nothing runs: no backup schedule 'orders@every 1m'", 30)
    assert not any(e.user_id == "schedule orders@every 1m" for e in ledger.iter_recent(command="backup"))
