"""The e2e bench's py-spy summary: a consumer's handling time, by the slashops function and the library it was in
(no py-spy here: its raw output is given)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.local_run import Profiles

RUNNER = "Thread.run (threading.py:992);SqsRunner._poll_until (tools/local/sqs_runner.py:127)"
HANDLING = f"{RUNNER};SqsRunner._invoke (tools/local/sqs_runner.py:137);handler (services/notifier/handler.py:20)"
BOTO = "BaseClient._make_api_call (botocore/client.py:1)"
RAW = "\n".join(
    [
        f"{RUNNER};SqsRunner.poll_once (tools/local/sqs_runner.py:96);{BOTO} 500",
        f"{HANDLING};DynamoDbLedger._update (shared/ledger/dynamodb.py:90);{BOTO};SocketIO.readinto (socket.py:719) 60",
        f"{HANDLING};SlackSdkAdapter._call (services/notifier/slack.py:40);WebClient.api_call (slack_sdk/c.py:9) 30",
        f"{HANDLING};notify (services/notifier/notifying.py:50) 5",
        f"{HANDLING};Pending.result (shared/deadline.py:120) 5",
    ]
)


@pytest.fixture
def profiles(tmp_path: Path) -> Profiles:
    (tmp_path / "notifier.pyspy.txt").write_text(RAW + "\n")
    return Profiles({}, tmp_path)


def test_only_samples_taken_while_handling_a_batch_count_by_function_and_library(profiles: Profiles) -> None:
    assert profiles.shares("notifier") == [
        ("dynamodb.DynamoDbLedger._update → botocore", 0.6),
        ("slack.SlackSdkAdapter._call → slack_sdk", 0.3),
        ("notifying.notify", 0.05),
        ("deadline.Pending.result (waiting for a call in a worker thread)", 0.05),
    ]


def test_no_profile_means_no_shares(profiles: Profiles) -> None:
    assert profiles.shares("deploy") == []
