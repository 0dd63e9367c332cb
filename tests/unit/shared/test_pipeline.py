"""The one consumer pipeline (`shared.pipeline`): every command gets the same checks and the same answers for a
broken configuration, a refusal and an unexpected error, whatever its use case does or forgets."""

from __future__ import annotations

from typing import Any

import pytest

from shared.commands.catalog import Catalog
from shared.commands.spec import CommandSpec
from shared.errors import ConfigurationError
from shared.events.models import CommandFailed, CommandRejected
from shared.events.reporter import Reporter
from shared.pipeline import Authorized, DeliverAgain, admit, run_admitted
from tests.support.events import command_requested
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.names import MemoryNameDirectory


class Deps:
    def __init__(self, config: str | ConfigurationError) -> None:
        self.config = StaticConfig(config) if isinstance(config, ConfigurationError) else StaticConfig.from_text(config)
        self.groups = None
        self.names = MemoryNameDirectory().user("U0CAROL", "carol")


def _run(deps: Deps, run: Any, *, last_attempt: bool = False, request: Any = None) -> RecordingPublisher:
    publisher = RecordingPublisher()
    request = request or command_requested(command="backups", arguments={"db": "orders"}, user="U0CAROL")
    reporter = Reporter(publisher, "slashops.test").about_request(request)
    run_admitted(request, deps, reporter, run, where="test unit", last_attempt=last_attempt)
    return publisher


def test_an_admitted_request_reaches_its_use_case_authorized_with_the_configuration_it_was_checked_against() -> None:
    seen: list[Authorized] = []
    publisher = _run(Deps('{"command": "backups", "users": ["carol"]}'), seen.append)
    [authorized] = seen
    assert authorized.request.actor.user_id == "U0CAROL" and authorized.config.access[0].users == ("carol",)
    assert publisher.events == []


def test_a_refused_caller_never_reaches_the_use_case_and_is_told() -> None:
    seen: list[Authorized] = []
    publisher = _run(Deps('{"command": "backups", "users": ["U0BOB"]}'), seen.append)
    [rejected] = publisher.events
    assert seen == [] and isinstance(rejected, CommandRejected) and "Nothing was run" in rejected.reason


def test_a_broken_configuration_is_reported_with_an_incident_and_nothing_runs() -> None:
    seen: list[Authorized] = []
    publisher = _run(Deps(ConfigurationError("ssm:/slashops/config: cannot read")), seen.append)
    [failed] = publisher.events
    assert seen == [] and isinstance(failed, CommandFailed)
    assert "slashops is misconfigured, so `backups` was not run" in failed.reason and "ssm:" not in failed.reason


def _crash(_: Authorized) -> None:
    raise RuntimeError("boom at 0xdeadbeef")


def test_an_unexpected_error_is_delivered_again_then_reported_on_the_last_delivery() -> None:
    deps = Deps('{"command": "*"}')
    with pytest.raises(RuntimeError):
        _run(deps, _crash)
    [failed] = _run(deps, _crash, last_attempt=True).events
    assert isinstance(failed, CommandFailed) and "unexpected error running `backups`" in failed.reason
    assert "0xdeadbeef" not in failed.reason and "incident" in failed.reason


def test_work_in_hand_elsewhere_is_never_reported_failed() -> None:
    def busy(_: Authorized) -> None:
        raise DeliverAgain("another delivery holds the claim")

    with pytest.raises(DeliverAgain):
        _run(Deps('{"command": "*"}'), busy, last_attempt=True)


def test_a_command_open_to_all_skips_the_rules_but_not_the_workspace_pin() -> None:
    catalog = Catalog([CommandSpec(name="backups", summary="x", consumer="backup", open_to_all=True)])
    request = command_requested(command="backups", arguments={"db": "orders"}, user="U0NOBODY")
    publisher = RecordingPublisher()
    reporter = Reporter(publisher, "slashops.test").about_request(request)
    assert admit(request, Deps("[]"), reporter, where="t", catalog=catalog) is not None
    pinned = Deps('{"access": [], "slack": {"team_id": "T0HOME"}}')
    assert admit(request, pinned, reporter, where="t", catalog=catalog) is None
    [rejected] = publisher.events
    assert isinstance(rejected, CommandRejected)
