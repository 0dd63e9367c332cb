"""The configuration read from a real SSM parameter (LocalStack), with its TTL cache."""

from __future__ import annotations

import uuid

import boto3
import pytest

from shared.commands.catalog import CATALOG
from shared.config.source import CachedConfig, SsmConfigText
from shared.errors import ConfigurationError
from tools.local.aws import Service

pytestmark = pytest.mark.integration


def test_config_comes_from_ssm_and_edits_apply_after_the_ttl(localstack: Service) -> None:
    ssm = boto3.client("ssm", endpoint_url=localstack.endpoint)
    name = f"/slashops/test/{uuid.uuid4().hex[:8]}"
    ssm.put_parameter(Name=name, Type="SecureString", Value='{"command": "deploy", "users": ["U0ABC"]}')
    now = [0.0]
    config = CachedConfig(
        SsmConfigText(name, client=ssm), known_commands=CATALOG.names(), ttl_seconds=30, clock=lambda: now[0]
    )
    assert config.get().access[0].users == ("U0ABC",)

    ssm.put_parameter(Name=name, Type="SecureString", Value="- command: backup\n", Overwrite=True)
    assert config.get().access[0].command == "deploy"
    now[0] = 31
    assert config.get().access[0].command == "backup"


def test_missing_parameter_fails_closed(localstack: Service) -> None:
    ssm = boto3.client("ssm", endpoint_url=localstack.endpoint)
    config = CachedConfig(SsmConfigText("/slashops/absent", client=ssm), known_commands=CATALOG.names())
    with pytest.raises(ConfigurationError, match="ssm:/slashops/absent: cannot read"):
        config.get()
