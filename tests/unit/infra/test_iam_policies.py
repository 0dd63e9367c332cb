"""What the consumers' roles may do on the bus and in the backup bucket, read from the templates themselves.

LocalStack does not enforce IAM, so these statements are checked as written: each consumer publishes only as
itself (never as the ingress, so it cannot forge a `CommandRequested`), and the backup role creates objects
only with `If-None-Match: *` (a finished backup or manifest is never replaced).
"""

from __future__ import annotations

from datetime import timedelta
from fnmatch import fnmatchcase
from typing import Any

import pytest

from services.backup.deps import SOURCE as BACKUP_SOURCE
from services.backup.models import restore_record_key
from services.deploy.deps import SOURCE as DEPLOY_SOURCE
from tests.support.events import at, progress, refused, succeeded
from tests.support.events import command_requested as requested
from tests.support.ledger import moto_ledger
from tools.release.stacks import INFRA, load_template


def _statements(template: str) -> list[dict[str, Any]]:
    document = load_template((INFRA / template).read_text())
    found = []
    for resource in document["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                found += policy["PolicyDocument"]["Statement"]
        if resource["Type"] == "AWS::IAM::Policy":  # a role's policy of its own (the backup role's storage)
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


@pytest.mark.parametrize(
    ("template", "source"), [("deploy-service.yaml", DEPLOY_SOURCE), ("backup-service.yaml", BACKUP_SOURCE)]
)
def test_each_consumer_may_publish_only_as_itself(template: str, source: str) -> None:
    publishing = [s for s in _statements(template) if "events:PutEvents" in _actions(s)]
    assert publishing
    for statement in publishing:
        assert statement["Condition"] == {"StringEquals": {"events:source": source}}


def test_the_notifier_may_not_publish_at_all() -> None:
    assert not [s for s in _statements("notifier.yaml") if any(a.startswith("events:") for a in _actions(s))]


def test_the_backup_role_creates_objects_only_where_none_exists() -> None:
    writes = [s for s in _statements("backup-service.yaml") if "s3:PutObject" in _actions(s)]
    assert writes
    for statement in writes:
        condition = statement.get("Condition")
        if condition == {"Bool": {"s3:ObjectCreationOperation": "false"}}:
            continue  # CreateMultipartUpload/UploadPart: they take no conditional header and replace nothing
        assert condition == {"StringEquals": {"s3:if-none-match": "*"}}, statement["Sid"]


def test_the_backup_role_deletes_only_its_locks_its_read_markers_and_pruned_backups() -> None:
    deletes = [s for s in _statements("backup-service.yaml") if "s3:DeleteObject" in _actions(s)]
    assert [s["Resource"] for s in deletes] == [
        {"Fn::Sub": "${Bucket.Arn}/locks/*"},
        {"Fn::Sub": "${Bucket.Arn}/reading/*"},
        [{"Fn::Sub": "${Bucket.Arn}/backups/*"}, {"Fn::Sub": "${Bucket.Arn}/manifests/*"}],
    ]
    # never a version: in the versioned bucket a pruned backup stays recoverable until the noncurrent expiry
    assert not [s for s in _statements("backup-service.yaml") if any("Version" in a for a in _actions(s))]


def _covers(statement: dict[str, Any], key: str) -> bool:
    """Whether one of the statement's `${Bucket.Arn}/...` resources matches the object key."""
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    patterns = [r["Fn::Sub"] for r in resources if isinstance(r, dict) and "Fn::Sub" in r]
    return any(fnmatchcase(f"${{Bucket.Arn}}/{key}", pattern) for pattern in patterns)


def test_the_backup_role_writes_a_restore_record_only_once_and_may_read_it() -> None:
    key = restore_record_key("orders", "3f9c2a1b7d4e")
    statements = [s for s in _statements("backup-service.yaml") if _covers(s, key)]
    writes = [s for s in statements if "s3:PutObject" in _actions(s)]
    assert writes and all(s["Condition"] == {"StringEquals": {"s3:if-none-match": "*"}} for s in writes)
    assert any("s3:GetObject" in _actions(s) for s in statements)
    assert not any("s3:DeleteObject" in _actions(s) for s in statements)


def _on_locks(template: str) -> set[str]:
    """Every DynamoDB action the template's roles may take on the lock table."""
    actions: set[str] = set()
    for statement in _statements(template):
        resource = statement["Resource"]
        # its own table (the ingress), or the ingress stack's export of it (the deploy service)
        if resource in (
            {"Fn::GetAtt": ["LockTable", "Arn"]},
            {"Fn::ImportValue": {"Fn::Sub": "${IngressStackName}-LockTableArn"}},
        ):
            actions.update(_actions(statement))
    return actions


def test_the_ingress_answers_lock_commands_and_the_deploy_service_only_reads_locks() -> None:
    assert _on_locks("ingress.yaml") == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:Scan"}
    assert _on_locks("deploy-service.yaml") == {"dynamodb:GetItem"}
    assert _on_locks("notifier.yaml") == set() and _on_locks("backup-service.yaml") == set()


def test_the_notifier_may_make_every_call_its_ledger_adapter_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter's calls as it makes them (a new command is a `PutItem`), against the notifier's ledger policy."""
    calls: set[str] = set()
    with moto_ledger(monkeypatch) as ledger:
        ledger.client.meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.add(f"dynamodb:{model.name}")
        )
        ledger.record_only(requested(), now=at(0))
        ledger.record(refused(), now=at(0))
        ledger.record(progress("10%", minute=1), now=at(1))
        ledger.claim_response_url_use("abc123def456", now=at(1), max_uses=5)
        ledger.claim_parent("abc123def456", now=at(1), stale_after=timedelta(seconds=60))
        ledger.record_parent("abc123def456", "C0123", "1.2")
        ledger.mark_notified("abc123def456", "k", route="thread")
        ledger.record(succeeded(), now=at(5))
        ledger.record(succeeded("0123456789ab"), now=at(5))  # a result first: its command is created by the update

    allowed = {
        action for s in _statements("notifier.yaml") if s.get("Sid") == "ItsLedgerOnly" for action in _actions(s)
    }
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem"} <= calls <= allowed
