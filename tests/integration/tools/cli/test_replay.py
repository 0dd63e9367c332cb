"""`slashops replay` on moto's server: the archived events come back through the bus to the named consumer's
queue, and EventBridge received the window and the rule limit we asked for (DescribeReplay).

What the emulators cannot show: moto replays every archived event to every rule of the bus (it ignores the
window and `Destination.FilterArns`); LocalStack 2026.3.0 answers StartReplay with a 500 as soon as the archive
holds an event (its archive compares times with `str.replace(second=0)`), and ignores FilterArns too ("TODO").
So the window and the filter are checked in the request, and only AWS applies them. The replay LocalStack records
stays STARTING (the command cancels it after 10 s and says what to do instead)."""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from tools.cli.replay import main, parse_time
from tools.local.aws import Service

pytestmark = pytest.mark.integration


def _bus(endpoint: str) -> tuple[str, Any, Any, dict[str, str]]:
    """A bus like infra/bus.yaml's: archive `<prefix>-archive`, a rule per consumer queue `<prefix>-<service>`."""
    prefix = f"r{uuid.uuid4().hex[:8]}"
    events = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    bus_arn = events.create_event_bus(Name=prefix)["EventBusArn"]
    events.create_archive(ArchiveName=f"{prefix}-archive", EventSourceArn=bus_arn, RetentionDays=1)
    urls = {}
    for service, pattern in (
        ("deploy", {"detail-type": ["CommandRequested"]}),
        ("notifier", {"source": [{"prefix": "slashops."}]}),
    ):
        url = sqs.create_queue(QueueName=f"{prefix}-{service}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=f"{prefix}-{service}-rule", EventBusName=prefix, EventPattern=json.dumps(pattern))
        events.put_targets(Rule=f"{prefix}-{service}-rule", EventBusName=prefix, Targets=[{"Id": "q", "Arn": arn}])
        urls[service] = url
    return prefix, events, sqs, urls


def _put(events: Any, bus: str, command_id: str) -> None:
    detail = json.dumps({"command": "deploy", "command_id": command_id})
    entry = {"EventBusName": bus, "Source": "slashops.ingress", "DetailType": "CommandRequested", "Detail": detail}
    assert events.put_events(Entries=[entry])["FailedEntryCount"] == 0


def _drain(sqs: Any, url: str, *, wait: int = 1) -> list[str]:
    ids = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", []):
        ids += [json.loads(message["Body"])["detail"]["command_id"] for message in batch]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(batch)]
        )
    return ids


def test_replay_sends_archived_events_back_and_asks_for_the_window_and_the_consumers_rule(moto_server: Service) -> None:
    prefix, events, sqs, urls = _bus(moto_server.endpoint)
    _put(events, prefix, "c1")
    _put(events, prefix, "c2")
    assert sorted(_drain(sqs, urls["deploy"])) == ["c1", "c2"]  # delivered once, then handled
    _drain(sqs, urls["notifier"])

    out = io.StringIO()
    argv = ["replay", "--since", "2026-11-28T09:00Z", "--until", "2026-11-28T10:30Z", "--service", "deploy"]
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert main([*argv, "--prefix", prefix, "--endpoint-url", moto_server.endpoint], out, now=now) == 0, out.getvalue()
    assert f"replay {prefix}-" in out.getvalue() and "COMPLETED" in out.getvalue()
    assert sorted(_drain(sqs, urls["deploy"])) == ["c1", "c2"]  # back again, as replayed events

    [replay] = events.list_replays(NamePrefix=prefix)["Replays"]
    described = events.describe_replay(ReplayName=replay["ReplayName"])
    rule_arn = events.describe_rule(Name=f"{prefix}-deploy-rule", EventBusName=prefix)["Arn"]
    assert described["Destination"] == {"Arn": events.describe_event_bus(Name=prefix)["Arn"], "FilterArns": [rule_arn]}
    assert described["EventSourceArn"].endswith(f":archive/{prefix}-archive")
    window = (described["EventStartTime"], described["EventEndTime"])
    assert window == (datetime(2026, 11, 28, 9, 0, tzinfo=UTC), datetime(2026, 11, 28, 10, 30, tzinfo=UTC))


def test_a_backup_replay_needs_allow_rerun_and_a_missing_rule_is_named(moto_server: Service) -> None:
    out = io.StringIO()
    assert main(["--since", "1h", "--service", "backup", "--endpoint-url", moto_server.endpoint], out) == 1
    assert "a replayed restore restores again): add --allow-rerun" in out.getvalue()
    prefix, *_ = _bus(moto_server.endpoint)
    out = io.StringIO()
    argv = ["--since", "1h", "--service", "backup", "--allow-rerun", "--prefix", prefix]
    assert main([*argv, "--endpoint-url", moto_server.endpoint], out) == 1
    assert f"no rule on the bus {prefix} targets the queue of: backup" in out.getvalue()


def test_times_are_iso_8601_in_utc_unless_zoned_or_relative() -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    assert parse_time("2h", now=now) == now - timedelta(hours=2)
    assert parse_time("2026-11-28T09:00Z", now=now) == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert parse_time("2026-11-28 10:00", now=now) == datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert parse_time("2026-11-28T10:00+01:00", now=now) == datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def test_a_window_older_than_the_archive_keeps_is_refused(moto_server: Service) -> None:
    prefix, *_ = _bus(moto_server.endpoint)  # RetentionDays=1
    out = io.StringIO()
    argv = ["--since", "3d", "--service", "deploy", "--prefix", prefix, "--endpoint-url", moto_server.endpoint]
    assert main(argv, out) == 1
    assert "the archive keeps 1 day(s) of events: --since is older than that" in out.getvalue()


def test_on_localstack_a_replay_that_never_starts_is_cancelled_and_explained_within_seconds(
    localstack: Service,
) -> None:
    """Issue 21.4: LocalStack 2026.3 records the replay and leaves it STARTING for ever; the command waited 600 s."""
    prefix, events, _, _ = _bus(localstack.endpoint)
    _put(events, prefix, "c1")
    out = io.StringIO()
    started = time.monotonic()
    argv = ["--since", "10m", "--service", "deploy", "--prefix", prefix, "--endpoint-url", localstack.endpoint]
    assert main(argv, out) == 1
    assert time.monotonic() - started < 30
    said = out.getvalue()
    assert "never left STARTING in 10s and was cancelled: this emulator does not run EventBridge archive" in said
    assert f"`slashops dlq redrive deploy --endpoint-url {localstack.endpoint} --prefix {prefix}`" in said
