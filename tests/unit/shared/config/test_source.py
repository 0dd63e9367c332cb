"""The config port's sources: SSM through Powertools' SSMProvider (in-process moto), failures cached and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shared.aws.clients import ClientLimits
from shared.commands.catalog import CATALOG
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.config.source import CachedConfig, FileConfigText, SsmConfigText, cached_config
from shared.errors import ConfigurationError
from tools.local_aws import FAKE_CREDENTIALS

NAME = "/slashops/config"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSM", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def _cached(source: SsmConfigText | FileConfigText, now: list[float]) -> ConfigPort:
    return CachedConfig(source, known_commands=CATALOG.names(), ttl_seconds=30, clock=lambda: now[0])


def test_a_secure_string_is_read_decrypted_and_edits_apply_after_the_ttl(ssm: object) -> None:
    client = boto3.client("ssm", region_name="us-east-1")
    client.put_parameter(Name=NAME, Type="SecureString", Value='{"command": "deploy"}')
    now = [0.0]
    config = _cached(SsmConfigText(NAME, client=client), now)
    assert config.get().access[0].command == "deploy"
    client.put_parameter(Name=NAME, Type="SecureString", Value='{"command": "backup"}', Overwrite=True)
    now[0] = 29
    assert config.get().access[0].command == "deploy"
    now[0] = 31  # Powertools keeps no copy of its own (max_age=0): the TTL above is the only one
    assert config.get().access[0].command == "backup"


def test_a_missing_parameter_fails_closed_naming_the_cause(ssm: object) -> None:
    config = _cached(SsmConfigText("/slashops/absent", client=boto3.client("ssm", region_name="us-east-1")), [0.0])
    with pytest.raises(ConfigurationError, match=r"ssm:/slashops/absent: cannot read \(ParameterNotFound\)"):
        config.get()


def test_nothing_is_built_before_the_first_read_and_limits_reach_the_client(ssm: object) -> None:
    source = SsmConfigText(NAME, limits=ClientLimits(connect_timeout=0.5, read_timeout=1.0, total_max_attempts=1))
    assert "_lazy_provider" not in vars(source) or vars(source)["_lazy_provider"] is None
    config = source.provider.client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (0.5, 1.0, 1)


def test_a_bad_parse_is_cached_for_the_ttl_and_logged_once_at_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"command": "deploy", "oops": 1}')
    now = [0.0]
    config = _cached(FileConfigText(path), now)
    with caplog.at_level(logging.ERROR, logger="shared.config.source"):
        for _ in range(3):
            with pytest.raises(ConfigurationError):
                config.get()
    assert [record.levelno for record in caplog.records] == [logging.ERROR]
    path.write_text('{"command": "deploy"}')
    now[0] = 29
    with pytest.raises(ConfigurationError):
        config.get()  # still the cached failure: fixed text applies after the TTL, like any edit
    now[0] = 31
    assert config.get().access[0].command == "deploy"


def test_the_file_wins_over_the_parameter(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"command": "deploy"}')
    assert cached_config(ConfigLocation(file=str(path), parameter=NAME)).get().access[0].command == "deploy"
