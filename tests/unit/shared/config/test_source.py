"""The config port's sources: SSM through Powertools' SSMProvider (in-process moto), failures cached and logged."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from shared.aws.clients import ClientLimits
from shared.commands.catalog import CATALOG
from shared.config.documents import MAX_BYTES
from shared.config.location import ConfigLocation
from shared.config.port import ConfigPort
from shared.config.source import CachedConfig, ConfigText, FileConfigText, SsmConfigText, cached_config
from shared.errors import ConfigurationError
from tools.local.aws import FAKE_CREDENTIALS

NAME = "/slashops/config"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    for key, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_SSM", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def _cached(source: ConfigText, now: list[float]) -> ConfigPort:
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


def test_a_file_larger_than_the_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    with path.open("wb") as file:
        file.truncate(8 * 1024**3)  # 8 GiB, sparse: reading it whole would exhaust the unit
    with pytest.raises(ConfigurationError, match=f"larger than {MAX_BYTES} bytes"):
        FileConfigText(path).read()


class GatedText:
    """A configuration source whose reads wait for `gate` once it is closed."""

    origin = "gated"

    def __init__(self, text: str) -> None:
        self.text = text
        self.gate = threading.Event()
        self.gate.set()
        self.reads = 0

    def read(self) -> str:
        self.reads += 1
        assert self.gate.wait(5)
        return self.text


def test_while_one_thread_reads_again_the_others_answer_from_the_configuration_in_hand() -> None:
    source, now = GatedText('{"command": "deploy"}'), [0.0]
    config = _cached(source, now)
    assert config.get().access[0].command == "deploy"
    source.text, now[0] = '{"command": "backup"}', 31
    source.gate.clear()
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(config.get)
        while source.reads < 2:
            time.sleep(0.01)
        answers = [config.get().access[0].command for _ in range(20)]  # not blocked, not read again
        source.gate.set()
        assert reading.result(timeout=5).access[0].command == "backup"
    assert answers == ["deploy"] * 20 and source.reads == 2
    assert config.get().access[0].command == "backup"


@pytest.mark.parametrize(
    "text",
    [
        "- command: " + "[" * 100_000 + "]" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        "- command: " + "x" * 900_000,
        "- command: [&a0 [lol,lol,lol,lol,lol,lol,lol,lol,lol],"
        + ",".join(f"&a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9))
        + "]",
    ],
    ids=["deep yaml", "deep json", "long command", "alias bomb"],
)
def test_a_hostile_configuration_fails_closed_with_one_short_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    config = _cached(FileConfigText(path), [0.0])
    with caplog.at_level(logging.ERROR, logger="shared.config.source"):
        for _ in range(2):
            with pytest.raises(ConfigurationError):
                config.get()
    [record] = caplog.records
    assert len(record.getMessage()) < 600
