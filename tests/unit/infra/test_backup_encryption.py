"""The backup bucket's encryption and retention backstop, read from the template: SSE-KMS under the stack's key
(or one given), the worker's role may use that key only, and the lifecycle outlasts any retention policy."""

from __future__ import annotations

from typing import Any

from tools.release.stacks import INFRA, load_template

KEY = {"Fn::If": ["CreateKey", {"Fn::GetAtt": ["BackupKey", "Arn"]}, {"Ref": "KmsKeyArn"}]}


def _template() -> dict[str, Any]:
    document: dict[str, Any] = load_template((INFRA / "backup-service.yaml").read_text())
    return document


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = _template()["Resources"]
    return resources


def test_the_bucket_encrypts_with_the_key_by_default_with_a_bucket_key() -> None:
    [rule] = _resources()["Bucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY},
        "BucketKeyEnabled": True,
    }


def test_the_key_is_created_unless_one_is_given_and_kept_with_the_bucket() -> None:
    template = _template()
    assert template["Conditions"]["CreateKey"] == {"Fn::Equals": [{"Ref": "KmsKeyArn"}, ""]}
    key = template["Resources"]["BackupKey"]
    assert key["Condition"] == "CreateKey" and key["DeletionPolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_the_keys_policy_lets_the_account_administer_it_and_the_worker_use_it_through_s3() -> None:
    root, worker = _resources()["BackupKey"]["Properties"]["KeyPolicy"]["Statement"]
    assert root["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}}
    assert worker["Principal"] == {"AWS": {"Fn::GetAtt": ["TaskRole", "Arn"]}}
    assert worker["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert worker["Condition"] == {"StringEquals": {"kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.amazonaws.com"}}}


def test_the_worker_may_use_that_key_only_and_is_told_which() -> None:
    resources = _resources()
    statements = [
        statement
        for resource in resources.values()
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy")
        for document in [resource["Properties"].get("PolicyDocument")]
        + [p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])]
        if document
        for statement in document["Statement"]
    ]
    kms = [
        s
        for s in statements
        if any(str(a).startswith("kms:") for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    ]
    assert kms == [
        {
            "Sid": "UseTheBackupKeyOnly",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": KEY,
        }
    ]
    [container] = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"]
    assert {"Name": "SLASHOPS_BACKUP_KMS_KEY_ARN", "Value": KEY} in container["Environment"]


def test_the_bucket_refuses_objects_under_another_encryption_or_key() -> None:
    statements = {s["Sid"]: s for s in _resources()["BucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["KmsOnly"]["Effect"] == "Deny" and statements["KmsOnly"]["Action"] == "s3:PutObject"
    assert statements["KmsOnly"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    assert statements["ThisKeyOnly"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY}
    }


def test_the_lifecycle_backstop_outlasts_the_longest_policy_the_docs_show_and_stale_read_markers_go() -> None:
    template = _template()
    assert template["Parameters"]["BackupRetentionDays"]["Default"] >= 6 * 31 + 7  # keep_monthly 6, as in the docs
    rules = {r["Id"]: r for r in template["Resources"]["Bucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-stale-read-markers"]["Prefix"] == "reading/"
    assert rules["expire-stale-read-markers"]["ExpirationInDays"] == 2
