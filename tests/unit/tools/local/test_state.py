"""`make run`'s saved state is its owner's only and holds no credential (issue 19, finding 8), on in-process moto.

A response_url lets anyone post as the app for 30 minutes: the approvals table (its request), the deploy claims
(their reply target) and queued events hold one. The snapshot keeps them empty; what is restored still works.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.notifier.adapters.slack import SlackSdkAdapter
from services.notifier.errors import ResponseUrlUnusableError
from shared.approvals import PendingApproval
from shared.aws.approval_store import DynamoDbApprovalStore
from shared.aws.tables import APPROVALS, DEPLOYS, LEDGER, create_table
from shared.deadline import Deadline
from shared.ledger.dynamodb import DynamoDbLedger
from shared.slack.blocks import SlackMessage
from tests.support.deploy import claim
from tests.support.events import at, command_requested, eventbridge_body
from tools.local.aws import FAKE_CREDENTIALS
from tools.local.state import LocalStores, make_private, restore, save, without_credentials

RESPONSE_URL = "https://hooks.slack.com/commands/T0001/1234/secret"
LOCAL_RESPONSE_URL = "http://127.0.0.1:3001/response/secret"  # make run's fake Slack: as much a credential
BUCKET = "slashops-backups"
QUEUE = "slashops-deploy"


def approval() -> PendingApproval:
    return PendingApproval(
        approval_id="held00000001",
        command="deploy",
        text="deploy --client acme --branch main --env production",
        requester="U0ALICE",
        requester_name="alice",
        team_id="T0001",
        channel_id="C0123",
        response_url=RESPONSE_URL,
        rule=2,
        approver_users=("U0BOB",),
        requested_at=1_764_331_200,
        expires_at=1_764_333_000,
    )


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each `mock_aws()` block is one `make run`'s local AWS: empty when it starts, gone when it stops."""
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(key, raising=False)


def saved_run(folder: Path) -> None:
    """A `make run` that held an approval, a deploy claim, a ledger entry, a backup and a queued event, stopped."""
    with mock_aws():
        stores = fresh_stores()
        fill(stores)
        save(stores, folder, settle=0)


def fresh_stores() -> LocalStores:
    """`make run`'s tables, bucket and queue, empty (as `provision` leaves them)."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    for table in (LEDGER, DEPLOYS, APPROVALS):
        create_table(dynamodb, table)
    s3.create_bucket(Bucket=BUCKET)
    sqs.create_queue(QueueName=QUEUE)
    return LocalStores(dynamodb, s3, sqs, (LEDGER.name, DEPLOYS.name, APPROVALS.name), BUCKET, "slashops-")


def fill(stores: LocalStores) -> None:
    DynamoDbApprovalStore(client=stores.dynamodb).create(approval(), deadline=Deadline.after(5))
    reply_to = claim().reply_to.model_copy(update={"response_url": LOCAL_RESPONSE_URL})
    DynamoClaimStore(client=stores.dynamodb).create(claim("claim0000001", reply_to=reply_to))
    DynamoDbLedger(client=stores.dynamodb).record(command_requested("c0mmand00001"), now=at(0))
    stores.s3.put_object(Bucket=BUCKET, Key="orders/dump.gz", Body=b"\x1f\x8b dump")
    queued = command_requested("queued000001").model_copy(
        update={"reply_to": command_requested().reply_to.model_copy(update={"response_url": RESPONSE_URL})}
    )
    url = stores.sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    stores.sqs.send_message(QueueUrl=url, MessageBody=eventbridge_body(queued))


def saved_files(folder: Path) -> list[Path]:
    return [path for path in (folder / "snapshot").rglob("*") if path.is_file()]


def test_the_snapshot_is_private_and_holds_no_response_url(aws: None, tmp_path: Path) -> None:
    previous = os.umask(0o022)  # the usual umask: what wrote the snapshot 0644 before
    try:
        with mock_aws():
            stores = fresh_stores()
            fill(stores)
            counts = save(stores, tmp_path, settle=0)
    finally:
        os.umask(previous)

    assert (counts.items, counts.objects, counts.messages) == (3, 1, 1)
    files = saved_files(tmp_path)
    assert {path.name for path in files} == {"dynamodb.json", "sqs.json", "meta.json", "dump.gz"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    for folder in (tmp_path / "snapshot", tmp_path / "snapshot" / "s3", tmp_path / "snapshot" / "s3" / "orders"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    written = "\n".join(path.read_text(errors="replace") for path in files)
    assert "secret" not in written and "hooks.slack.com" not in written
    assert '\\"response_url\\":\\"\\"' in written  # inside the approval's request, and the queued event
    assert '"response_url": {"S": ""}' in written  # in the claim's reply target


def test_what_is_restored_without_its_response_url_still_works(aws: None, tmp_path: Path) -> None:
    """The approval can still be read (and run: `approval_clicks` carries an empty response_url on), the claim still
    follows its build, and the notifier answers a command without a response_url through the bot."""
    saved_run(tmp_path)
    with mock_aws():  # the next `make run`: a new, empty local AWS
        stores = fresh_stores()
        approvals = DynamoDbApprovalStore(client=stores.dynamodb)
        assert approvals.get("held00000001", deadline=Deadline.after(5)) is None
        restored = restore(stores, tmp_path)
        assert restored is not None and (restored.items, restored.objects, restored.messages) == (3, 1, 1)
        held = approvals.get("held00000001", deadline=Deadline.after(5))
        assert held == approval().model_copy(update={"response_url": ""})
        record = DynamoClaimStore(client=stores.dynamodb).get("claim0000001")
        assert record is not None and record.reply_to.response_url == "" and record.claim_token == "t1"
        url = stores.sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
        [message] = stores.sqs.receive_message(QueueUrl=url)["Messages"]
        assert json.loads(message["Body"])["detail"]["reply_to"]["response_url"] == ""


def test_an_empty_response_url_is_one_the_notifier_does_not_post_to() -> None:
    """The adapter refuses "" as unusable (no retry); the notifier's delivery does not even try it and posts with the
    bot (tests/unit/services/notifier/test_consumer.py, `test_a_command_whose_response_url_was_not_kept_…`)."""
    with pytest.raises(ResponseUrlUnusableError):
        SlackSdkAdapter(lambda: "xoxb-unused").respond("", SlackMessage(text="done"))


def test_an_older_snapshot_is_made_private_and_its_response_urls_are_not_put_back(aws: None, tmp_path: Path) -> None:
    saved_run(tmp_path)
    snapshot = tmp_path / "snapshot"
    tables = json.loads((snapshot / "dynamodb.json").read_text())
    tables[DEPLOYS.name][0]["reply_to"]["M"]["response_url"] = {"S": RESPONSE_URL}  # as written before the fix
    (snapshot / "dynamodb.json").write_text(json.dumps(tables))
    for path in [snapshot, *snapshot.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)

    with mock_aws():
        stores = fresh_stores()
        restore(stores, tmp_path)
        record = DynamoClaimStore(client=stores.dynamodb).get("claim0000001")
    assert record is not None and record.reply_to.response_url == ""
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in saved_files(tmp_path))
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        (
            {"response_url": {"S": RESPONSE_URL}, "job": {"S": "deploy"}},
            {"response_url": {"S": ""}, "job": {"S": "deploy"}},
        ),
        ({"M": {"response_url": {"S": LOCAL_RESPONSE_URL}}}, {"M": {"response_url": {"S": ""}}}),
        (
            {"request": {"S": json.dumps({"response_url": RESPONSE_URL, "a": 1})}},
            {"request": {"S": '{"response_url":"","a":1}'}},
        ),
        ({"note": {"S": RESPONSE_URL}}, {"note": {"S": ""}}),
        (
            {"claim_token": {"S": "t1"}, "text": {"S": "{not json"}},
            {"claim_token": {"S": "t1"}, "text": {"S": "{not json"}},
        ),
        ([{"MessageBody": '{"x": 1}'}], [{"MessageBody": '{"x": 1}'}]),  # no credential: left byte for byte
    ],
    ids=["item", "nested-map", "json-string", "hooks-url", "untouched", "message-untouched"],
)
def test_without_credentials(value: Any, kept: Any) -> None:
    assert without_credentials(value) == kept


def test_make_private_without_a_snapshot_does_nothing(tmp_path: Path) -> None:
    make_private(tmp_path)
    assert list(tmp_path.iterdir()) == []
