"""In AWS the signing secret comes from Secrets Manager (here LocalStack's)."""

from __future__ import annotations

import uuid

import boto3
import pytest

from chalicelib.bootstrap import signing_secret_from
from chalicelib.deps import IngressSettings
from shared.errors import ConfigurationError
from tools.local.aws import Service

pytestmark = pytest.mark.integration


def test_signing_secret_is_read_from_secrets_manager(localstack: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", localstack.endpoint)
    name = f"slashops/signing-{uuid.uuid4().hex[:8]}"
    boto3.client("secretsmanager", endpoint_url=localstack.endpoint).create_secret(Name=name, SecretString="s3cr3t")

    assert signing_secret_from(IngressSettings.from_env({"SLACK_SIGNING_SECRET_ID": name})) == "s3cr3t"
    with pytest.raises(ConfigurationError, match="cannot read the signing secret"):
        signing_secret_from(IngressSettings.from_env({"SLACK_SIGNING_SECRET_ID": "slashops/absent"}))
