"""`make run` seeds the SSM parameter its units read from the configuration file (issue 21.3), on in-process moto:
the same writer as `slashops config push`, so the lifecycle (push, show, rollback) can be tried locally."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tools.local.system import ConfigSeedError, SeededConfig, seed_config

TEXT = "access:\n  - {command: deploy, users: [U0DEV1]}\n"


@pytest.fixture
def ssm() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def test_the_file_becomes_a_version_of_the_parameter_the_units_are_pointed_at(ssm: Any, tmp_path: Path) -> None:
    file = tmp_path / "local.yaml"
    file.write_text(TEXT)
    seeded = seed_config("unused", str(file), parameter="/slashops/config", ttl_seconds=5, ssm=ssm)

    assert seeded == SeededConfig(file=str(file), parameter="/slashops/config", version=1, ttl_seconds=5)
    parameter = ssm.get_parameter(Name="/slashops/config")["Parameter"]
    assert (parameter["Value"], parameter["Type"]) == (TEXT, "String")
    assert seeded.env() == {"SLASHOPS_CONFIG_PARAMETER": "/slashops/config", "SLASHOPS_CONFIG_TTL": "5"}
    assert seeded.state() == {"config_parameter": "/slashops/config", "config_ttl": "5", "config_file": str(file)}


def test_a_parameter_already_there_gets_a_new_version_of_its_own_type(ssm: Any, tmp_path: Path) -> None:
    ssm.put_parameter(Name="/slashops/config", Value="older", Type="SecureString")
    file = tmp_path / "local.yaml"
    file.write_text(TEXT)
    assert seed_config("unused", str(file), ssm=ssm).version == 2
    parameter = ssm.get_parameter(Name="/slashops/config", WithDecryption=True)["Parameter"]
    assert (parameter["Value"], parameter["Type"]) == (TEXT, "SecureString")


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read"), ("", "is empty"), ("#" * 9000, "an SSM parameter holds at most 8192")],
)
def test_a_file_that_cannot_be_the_parameter_is_refused_and_nothing_is_written(
    ssm: Any, tmp_path: Path, content: str | None, reason: str
) -> None:
    file = tmp_path / "local.yaml"
    if content is not None:
        file.write_text(content)
    with pytest.raises(ConfigSeedError, match=reason):
        seed_config("unused", str(file), ssm=ssm)
    assert ssm.describe_parameters()["Parameters"] == []
