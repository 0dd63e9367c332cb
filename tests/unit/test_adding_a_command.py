"""docs/contributors.md's "Add a command", performed step by step in memory, once per kind of consumer.

Each step of the page is done here as the page says it (a `CommandSpec` added to the catalog, `make routes`'s
rewrite of `infra/bus.yaml`, a use case registered in the consumer's registry, an access rule naming the command),
and the command then travels the whole way on fakes: a signed slash command into the real Chalice app, the event
the ingress publishes into the consumer's entry point, the result events it reports into the notifier, and the
Slack message the notifier sends. If the steps of the page stop being enough, a test here fails: keep the two in
step. (Leaving a step out is caught by the real tree's tests: `tests/unit/infra/test_bus_routes.py` without step 2,
the consumers' `test_consumer.py` registry checks without step 4.)

The registries are injected (`DeployDeps.commands`, `BackupDeps.use_cases`, `IngressDeps.catalog`) exactly where
the real tree's module registries (`COMMANDS`, `USE_CASES`, `CATALOG`) are their defaults.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from services.backup.consumer import USE_CASES, Disposition, handle_message
from services.backup.deps import BackupDeps
from services.backup.job import Job, Outcome, UseCase
from services.backup.ports import QueueMessage
from services.deploy.consumer import COMMANDS
from services.deploy.deps import DeployDeps
from services.deploy.handler import handle_batch
from services.deploy.models import Delivery
from services.notifier.consumer import handle_body
from services.notifier.deps import NotifierDeps
from shared.commands.catalog import CATALOG, Catalog
from shared.commands.routing import routes
from shared.commands.spec import ArgumentSpec, CommandSpec
from shared.config.access import recheck
from shared.config.loader import parse_config
from shared.errors import ConfigurationError
from shared.events.models import CommandRequested, CommandSucceeded, Event, ResultEvent
from shared.slack.mrkdwn import code
from tests.support.backup import backup_deps
from tests.support.clock import Clock
from tests.support.deploy import MemoryDeploy
from tests.support.events import T0, eventbridge_body, eventbridge_envelope, sqs_batch
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.slack import RecordingSlack
from tests.support.ingress import SEED_RULES, Ingress, message_text
from tests.support.slack import SIGNING_SECRET
from tools.local_system import local_consumers
from tools.routes import logical_name, problems, write
from tools.stacks import BUS_TEMPLATE, load_template


# Step 3: the use case, in a module of its own in the consumer. A deploy-service use case takes
# (request, deps, delivery), re-checks the caller against the current rules, and reports through the Reporter.
# User text is escaped where it is put into a message (`shared.slack.mrkdwn`), once.
def echo(request: CommandRequested, deps: DeployDeps, delivery: Delivery) -> None:
    report = deps.reporter.about_request(request)
    if not recheck(request, deps.config.get()).allowed:
        report.rejected(f"You may not run {code(request.command)}.", "Ask an admin for an access rule naming it.")
        return
    report.succeeded(f"The deploy service received {code(str(request.arguments['client']))}.")


# A backup-worker use case takes a `Job` (the worker has already re-checked the caller, found the database and,
# for `locked` use cases, taken its lock) and returns an `Outcome`; the worker reports it.
def count_backups(job: Job) -> Outcome:
    return Outcome(summary=f"`{job.database.name}` has {len(job.store.manifests(job.database.name))} backup(s).")


@dataclass(frozen=True)
class NewCommand:
    """One way through the page: the spec (step 1), what is typed, what it publishes and what it reports."""

    spec: CommandSpec
    typed: str
    arguments: dict[str, Any]
    summary: str

    @property
    def consumer(self) -> str:
        assert self.spec.consumer is not None
        return self.spec.consumer


# Step 1: the declarations, as they would be added to `shared/commands/catalog.py` (and to `CATALOG`).
ECHO = NewCommand(
    CommandSpec(
        name="echo",
        summary="Have the deploy service say which client it received",
        arguments=(ArgumentSpec(name="client", required=True, help="the client", validator="identifier"),),
        examples=("/ops echo --client acme",),
        consumer="deploy",
    ),
    typed="echo --client acme",
    arguments={"client": "acme"},
    summary="The deploy service received `acme`.",
)
COUNT = NewCommand(
    CommandSpec(
        name="backup-count",
        summary="Count a database's completed backups",
        arguments=(ArgumentSpec(name="db", required=True, help="the database", validator="identifier"),),
        examples=("/ops backup-count --db orders",),
        consumer="backup",
    ),
    typed="backup-count --db orders",
    arguments={"db": "orders"},
    summary="`orders` has 0 backup(s).",
)
EACH = pytest.mark.parametrize("new", [ECHO, COUNT], ids=["deploy", "backup"])


def config_with(new: NewCommand) -> StaticConfig:
    """Step 5: an access rule names the command (the configuration accepts the names of the catalog's commands)."""
    rules = SEED_RULES[:-1] + f', {{"command": "{new.spec.name}", "users": ["U0ABC"]}}]'
    return StaticConfig(parse_config(rules, origin="test", known_commands=[*CATALOG.names(), new.spec.name]))


@contextmanager
def ingress_knowing(*specs: CommandSpec, config: StaticConfig | None = None) -> Iterator[Ingress]:
    """The real Chalice app on fakes; its catalog is the real one plus `specs`."""
    publisher = RecordingPublisher()
    deps = ingress_deps(
        publisher=publisher,
        catalog=Catalog([*CATALOG, *specs]),
        now=lambda: T0,
        new_id=lambda: "c0ffee123456",
        **({"config": config} if config else {}),
    )
    with Client(create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: deps)) as client:
        yield Ingress(client=client, publisher=publisher, deps=deps)


def published_request(new: NewCommand) -> CommandRequested:
    """Steps 1 and 5 done: the event the ingress publishes when the command is typed."""
    with ingress_knowing(new.spec, config=config_with(new)) as ingress:
        status, payload = ingress.send(new.typed)
    assert status == 200, payload
    [event] = ingress.publisher.requested
    assert isinstance(event, CommandRequested)
    return event


@EACH
def test_step_1_the_ingress_parses_lists_and_publishes_a_declared_command(new: NewCommand) -> None:
    with ingress_knowing(new.spec, config=config_with(new)) as ingress:
        listed = message_text(ingress.send("help")[1])
        status, payload = ingress.send(new.typed)
    assert f"`{new.spec.name}` — {new.spec.summary}" in listed
    assert status == 200 and "accepted as `c0ffee123456`" in message_text(payload)
    [event] = ingress.publisher.requested
    assert isinstance(event, CommandRequested)
    assert (event.command, event.arguments, event.actor.user_id) == (new.spec.name, new.arguments, "U0ABC")


@EACH
def test_step_1_undeclared_the_command_is_unknown_and_no_rule_may_name_it(new: NewCommand) -> None:
    with pytest.raises(ConfigurationError, match="unknown command"):
        parse_config(f'{{"command": "{new.spec.name}"}}', origin="test", known_commands=CATALOG.names())
    with ingress_knowing() as ingress:
        status, payload = ingress.send(new.typed)
    assert status == 200 and "is not a command" in message_text(payload) and ingress.publisher.requested == []


@EACH
def test_step_5_without_an_access_rule_the_ingress_refuses_it(new: NewCommand) -> None:
    with ingress_knowing(new.spec) as ingress:  # the seed rules: deploy, backup, restore only
        status, payload = ingress.send(new.typed)
    assert status == 200 and "Not allowed" in message_text(payload) and ingress.publisher.requested == []


@EACH
def test_step_2_make_routes_writes_the_rule_that_delivers_the_event_to_its_consumer(new: NewCommand) -> None:
    routing = routes(Catalog([*CATALOG, new.spec]))
    assert new.spec.name in routing[new.consumer] and new.consumer in local_consumers()
    text = BUS_TEMPLATE.read_text()
    before = problems(load_template(text), routing)
    assert before and all("run `make routes`" in problem for problem in before)  # tests/unit/infra fails until then
    template = load_template(write(text, routing))  # what `make routes` (python -m tools.routes --write) writes
    assert problems(template, routing) == []
    pattern = template["Resources"][f"{logical_name(new.consumer)}Rule"]["Properties"]["EventPattern"]
    assert matches(pattern, eventbridge_envelope(published_request(new)))


def matches(pattern: dict[str, Any], envelope: dict[str, Any]) -> bool:
    """The consumer rules' pattern shape (`shared.commands.routing.event_pattern`): exact values only."""
    assert set(pattern) == {"source", "detail-type", "detail"} and set(pattern["detail"]) == {"command"}
    return (
        envelope["source"] in pattern["source"]
        and envelope["detail-type"] in pattern["detail-type"]
        and envelope["detail"]["command"] in pattern["detail"]["command"]
    )


def run_deploy_consumer(event: CommandRequested, config: StaticConfig) -> list[Event]:
    """Step 4 for the deploy service: `COMMANDS["echo"] = echo`; the event enters through `handler.py`."""
    memory = MemoryDeploy()
    deps = dataclasses.replace(memory.deps, config=config, commands={**COMMANDS, ECHO.spec.name: echo})
    assert handle_batch(sqs_batch(event), None, deps) == {"batchItemFailures": []}
    return memory.publisher.events


def run_backup_consumer(event: CommandRequested, config: StaticConfig) -> list[Event]:
    """Step 4 for the backup worker: `USE_CASES["backup-count"] = UseCase(...)`; the event enters the consumer."""
    use_case = UseCase(run=lambda job, _: count_backups(job), precheck=lambda job: None, locked=False)
    deps: BackupDeps = backup_deps(config=config, use_cases={**USE_CASES, COUNT.spec.name: use_case})
    message = QueueMessage(body=eventbridge_body(event), receipt_handle="r-1")
    assert handle_message(message, deps, threading.Event()) is Disposition.DONE
    assert isinstance(deps.publisher, RecordingPublisher)
    return deps.publisher.events


CONSUMERS = {"deploy": run_deploy_consumer, "backup": run_backup_consumer}


@EACH
def test_steps_3_and_4_the_registered_use_case_handles_it_and_reports(new: NewCommand) -> None:
    results = CONSUMERS[new.consumer](published_request(new), config_with(new))
    final = results[-1]
    assert isinstance(final, CommandSucceeded), results
    assert (final.command, final.command_id, final.summary) == (new.spec.name, "c0ffee123456", new.summary)
    assert final.source == f"slashops.{new.consumer}"  # the reporter's source: what the notifier's rule takes


@EACH
def test_step_5_the_consumer_refuses_a_caller_the_current_rules_do_not_admit(new: NewCommand) -> None:
    results = CONSUMERS[new.consumer](published_request(new), StaticConfig.from_text(SEED_RULES))
    assert [type(event).__name__ for event in results] == ["CommandRejected"]


@EACH
def test_step_6_the_notifier_reports_the_result_with_no_change(new: NewCommand) -> None:
    request = published_request(new)
    results = CONSUMERS[new.consumer](request, config_with(new))
    slack = RecordingSlack()
    deps = NotifierDeps(ledger=InMemoryLedger(), slack=slack, now=Clock(T0 + timedelta(minutes=1)))
    for event in [request, *results]:
        assert isinstance(event, CommandRequested | ResultEvent)
        handle_body(eventbridge_body(event), deps)
    url, message = slack.responses[-1]
    assert url == request.reply_to.response_url
    assert f"`{new.spec.name}` `c0ffee123456` *succeeded*: {new.summary}" in message_text(message.payload())
