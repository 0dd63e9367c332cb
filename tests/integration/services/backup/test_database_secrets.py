"""In ECS the worker's databases are the stack's `Databases` list (SLASHOPS_DATABASE_SECRETS): each secret read from
Secrets Manager (here LocalStack's) through the worker's own settings, at start."""

from __future__ import annotations

import uuid

import boto3
import pytest

from services.backup.connections import Database, MisconfiguredDatabase
from services.backup.deps import BackupSettings
from tools.local.aws import Service

pytestmark = pytest.mark.integration


def test_the_listed_secrets_become_the_workers_databases(localstack: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", localstack.endpoint)
    secrets = boto3.client("secretsmanager", endpoint_url=localstack.endpoint)
    run = uuid.uuid4().hex[:8]
    orders = secrets.create_secret(
        Name=f"slashops/db/orders-{run}", SecretString="postgresql://app:pw@orders.internal:6543/orders"
    )["ARN"]
    legacy = secrets.create_secret(
        Name=f"slashops/db/legacy-{run}", SecretString="oracle://app:hunter2@legacy.internal/legacy"
    )["ARN"]
    gone = orders.replace(f"orders-{run}", f"gone-{run}")

    settings = BackupSettings.from_env(
        {
            "SLASHOPS_DATABASE_SECRETS": f"orders={orders},legacy={legacy},gone={gone}",
            "SLASHOPS_DB_LOCAL": "postgresql://postgres@127.0.0.1:5432/local",
        }
    )

    assert sorted(settings.databases) == ["gone", "legacy", "local", "orders"]
    found = settings.databases["orders"]
    assert isinstance(found, Database) and (found.host, found.port, found.password) == ("orders.internal", 6543, "pw")
    bad, missing = settings.databases["legacy"], settings.databases["gone"]
    assert isinstance(bad, MisconfiguredDatabase) and "unsupported scheme" in bad.problem
    assert "hunter2" not in bad.problem + bad.variable
    assert isinstance(missing, MisconfiguredDatabase) and "cannot read the database secret" in missing.problem
