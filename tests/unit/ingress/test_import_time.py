"""Import time is Lambda cold-start time: importing the app must not read config or touch the network."""

from __future__ import annotations

from pathlib import Path

from tests.support.fresh_interpreter import printed_lines, run_fresh
from tests.support.slack import SIGNING_SECRET

GUARDED_IMPORT = """
import builtins, socket
def refuse(*args, **kwargs):
    raise AssertionError("network used at import time")
socket.socket.connect = refuse
socket.create_connection = refuse
real_open = builtins.open
def guarded_open(file, *args, **kwargs):
    if str(file).endswith("never-read.yaml"):
        raise AssertionError("configuration read at import time")
    return real_open(file, *args, **kwargs)
builtins.open = guarded_open
import app
assert app.app.app_name == "slashops-ingress"
"""


def test_importing_the_app_reads_nothing_and_connects_nowhere(tmp_path: Path) -> None:
    run_fresh(
        GUARDED_IMPORT,
        SLASHOPS_CONFIG=str(tmp_path / "never-read.yaml"),
        SLACK_SIGNING_SECRET_ID="would-need-secrets-manager",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",
    )


NOT_AT_IMPORT = (
    "slack_sdk",  # the signature is checked without it (its `signature` module imports all of `slack_sdk.web`)
    "boto3",  # the adapters build their clients on the first request
    "yaml",  # the configuration is read (and parsed) on the first request
    "asyncio",
    "difflib",  # only a mistyped command's suggestion needs it
    "urllib.request",  # only a click's answer posts to its response_url
    "shared.aws.eventbridge",
    "shared.aws.replay_guard",
    "shared.ledger.dynamodb",
    "shared.ledger.models",  # only `status` and `history` read the ledger: their modules load on their first use
    "chalicelib.status",
    "chalicelib.history",
    "chalicelib.confirming",  # a restore's confirmation button
    "shared.aws.approval_store",
    "shared.locks.dynamodb",
    "shared.config.source",
    "aws_lambda_powertools",  # the JSON log lines are the standard library's (shared/logs.py); secrets, SSM later
    "botocore",  # the adapters' clients come with the first request
    "chalicelib.clicks",  # a click's models are built when a click arrives
    "chalicelib.interaction_request",
)
"""Each would lengthen every cold start (bench/ingress_bench.py measures it)."""


def test_importing_the_app_imports_nothing_a_command_does_not_need() -> None:
    imported = printed_lines("import sys, app; print('\\n'.join(sorted(sys.modules)))")
    assert "chalicelib.handler" in imported
    assert sorted(imported & set(NOT_AT_IMPORT)) == []


BUILT_AT_IMPORT = {
    "shared.commands.spec.ArgumentSpec",  # the catalog is data: its `CommandSpec`s are instances at import
    "shared.commands.spec.CommandSpec",
    "shared.config.backup.BackupConfig",  # the configuration's section defaults are instances at import
    "shared.config.deploy.DeployConfig",
    "shared.config.deploy.LocksConfig",
    "shared.config.model.SlackConfig",
}
"""Every other model is declared with `defer_build=True`: its validator is built when a request first uses it, so
a cold start builds only what its request touches (a schema build costs about as much as importing a module)."""

BUILT_MODELS = """
import app
from pydantic import BaseModel
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
built = {f"{m.__module__}.{m.__qualname__}" for m in subclasses(BaseModel) if m.__pydantic_complete__}
print("\\n".join(sorted(built)))
"""


def test_importing_the_app_builds_only_the_models_it_instantiates() -> None:
    assert printed_lines(BUILT_MODELS) == BUILT_AT_IMPORT


JSON_CONFIG = """
import sys
from shared.commands.catalog import CATALOG
from shared.config.loader import parse_config
from shared.events import envelope
config = parse_config('[{"command": "deploy"}]', origin="test", known_commands=CATALOG.names())
assert config.access[0].command == "deploy"
assert envelope._event_adapter.cache_info().currsize == 0  # the event parser is built on the first parse
print("\\n".join(sorted(sys.modules)))
"""


def test_a_json_configuration_is_read_without_yaml_and_the_event_parser_waits_for_a_parse() -> None:
    """PyYAML costs about a tenth of a cold start: only a YAML configuration text imports it."""
    assert "yaml" not in printed_lines(JSON_CONFIG)


NOT_FOR_A_DEPLOY = (
    "argparse",  # the usual `--option value` tokens are read without it (`parser.read_plain_options`)
    "gettext",
    "shared.commands.argparsing",
    "shared.events.models",  # the result, refusal and approval events: a command needs `shared.events.requested`
)
"""Not imported by a cold start that answers one deploy typed as documented (bench/ingress_bench.py's)."""

A_DEPLOY = """
import sys
from urllib.parse import urlencode
import app
from chalicelib.bootstrap import signing_secret
from chalicelib.handler import handle_slash_http
from tests.support.fakes import StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.slack import signed_headers, slash_form
deps = ingress_deps(config=StaticConfig.from_text('{"command": "deploy"}'))
body = urlencode(slash_form("deploy --client acme --branch main --env production")).encode()
answer = handle_slash_http(body, signed_headers(body), signing_secret=signing_secret, deps=lambda: deps)
assert answer.status == 200 and "accepted" in answer.body, answer
print("\\n".join(sorted(sys.modules)))
"""


def test_answering_a_deploy_imports_nothing_only_other_requests_need() -> None:
    imported = printed_lines(A_DEPLOY, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    assert sorted(imported & set(NOT_FOR_A_DEPLOY)) == []
