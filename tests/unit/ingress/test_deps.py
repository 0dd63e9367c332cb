from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.bootstrap import SigningSecret, signing_secret_from
from chalicelib.deps import IngressSettings
from chalicelib.handler import handle_slash_http
from shared.errors import ConfigurationError
from tests.support.fakes.ingress import ingress_deps
from tests.support.fresh_interpreter import printed_lines
from tests.support.slack import SIGNING_SECRET, signed_request

REPO = Path(__file__).resolve().parents[3]


def test_environment_wins_and_nothing_set_is_a_configuration_error() -> None:
    assert signing_secret_from(IngressSettings.from_env({"SLACK_SIGNING_SECRET": "local"})) == "local"
    with pytest.raises(ConfigurationError, match="no Slack signing secret"):
        signing_secret_from(IngressSettings.from_env({}))


def test_the_signing_secret_is_known_without_io_only_from_the_environment_or_a_fresh_read() -> None:
    local = SigningSecret(settings=lambda: IngressSettings.from_env({"SLACK_SIGNING_SECRET": "local"}))
    assert local.cached() == local() == "local"
    never_read = SigningSecret(settings=lambda: IngressSettings.from_env({"SLACK_SIGNING_SECRET_ID": "never-read"}))
    assert never_read.cached() is None  # not fetched yet: the handler reads it within the deadline
    assert SigningSecret(settings=lambda: IngressSettings.from_env({})).cached() is None


class KnownSecret:
    """A provider that knows its secret without I/O; reading it otherwise would be a bug here."""

    def __init__(self, cached: str | None) -> None:
        self.value = cached
        self.reads = 0

    def __call__(self) -> str:
        self.reads += 1
        return SIGNING_SECRET

    def cached(self) -> str | None:
        return self.value


@pytest.mark.parametrize(("cached", "reads"), [(SIGNING_SECRET, 0), (None, 1)])
def test_a_known_secret_is_used_directly_and_an_unknown_one_is_read(cached: str | None, reads: int) -> None:
    provider = KnownSecret(cached)
    deps = ingress_deps()
    body, headers = signed_request("deploy --client acme --branch main")
    answer = handle_slash_http(body, headers, signing_secret=provider, deps=lambda: deps)
    assert answer.status == 200 and "deploy accepted as" in json.loads(answer.body)["text"]
    assert provider.reads == reads


def test_the_ledger_is_built_on_its_first_read_and_once() -> None:
    from chalicelib.bootstrap import LedgerOnFirstRead
    from tests.support.fakes.ledger import InMemoryLedger

    built: list[InMemoryLedger] = []

    def build() -> InMemoryLedger:
        built.append(InMemoryLedger())
        return built[-1]

    ledger = LedgerOnFirstRead(build)
    assert built == []
    assert ledger.get("abc123") is None
    assert list(ledger.iter_recent(command="deploy", refused=True)) == []
    assert len(built) == 1


COMPOSED = """
import sys
import app
from chalicelib.bootstrap import ingress_deps
ingress_deps()
print("\\n".join(sorted(sys.modules)))
"""


def test_the_real_dependencies_import_the_ledger_adapter_only_when_it_is_read() -> None:
    """Its module imports every event's and ledger entry's model; a command's cold start builds these deps."""
    imported = printed_lines(COMPOSED, SLACK_SIGNING_SECRET=SIGNING_SECRET, AWS_DEFAULT_REGION="us-east-1")
    assert "chalicelib.deps" in imported
    assert sorted(imported & {"shared.ledger.dynamodb", "shared.ledger.models", "shared.events.models"}) == []


def test_a_cold_start_does_not_import_croniter_until_a_schedule_is_read() -> None:
    """Freeze windows and backup schedules are rare; croniter (and dateutil) cost ~20 ms of every cold start."""
    imported = printed_lines(COMPOSED, SLACK_SIGNING_SECRET=SIGNING_SECRET, AWS_DEFAULT_REGION="us-east-1")
    assert "shared.schedules" in imported and "croniter" not in imported
