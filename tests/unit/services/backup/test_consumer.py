"""Message → use case with the fakes: the checks every command shares, and what reaches the user."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.backup.connections import databases_from_env
from services.backup.consumer import Disposition, handle_message, use_case_of
from services.backup.deps import BackupDeps
from services.backup.ports import QueueMessage
from shared.commands.catalog import CATALOG
from shared.commands.routing import routes
from shared.config.source import CachedConfig
from shared.errors import ConfigurationError
from shared.events.models import Approval, CommandAccepted, CommandFailed, CommandRejected, CommandSucceeded
from tests.support.backup import a_manifest, backup_deps, published, request_message
from tests.support.fakes import StaticConfig
from tests.support.fakes.backup import FakeBackupStore
from tests.support.incidents import incident_shown, logged_detail


def _handle(deps: BackupDeps, *messages: QueueMessage) -> list[Disposition]:
    return [handle_message(message, deps, threading.Event()) for message in messages]


def test_every_command_routed_to_the_backup_worker_has_a_use_case() -> None:
    specs = [spec for spec in CATALOG if spec.name in routes()["backup"]]
    assert specs and all(spec.runs and spec.runs.startswith("services.backup.") for spec in specs)
    use_cases = {spec.name: use_case_of(spec) for spec in specs}
    assert {name for name, use_case in use_cases.items() if use_case.locked} == {
        spec.name for spec in specs if spec.exclusive
    }


def test_malformed_messages_are_dropped_without_a_result() -> None:
    deps = backup_deps()
    for body in ("not json", "[]", '{"detail": {"event": "Nope"}}'):
        assert _handle(deps, QueueMessage(body, "r")) == [Disposition.DONE]
    assert published(deps) == []


def test_an_unknown_database_is_rejected() -> None:
    deps = backup_deps()
    _handle(deps, request_message("backups", db="nope"))
    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and "`orders`" in rejected.hint


def test_a_listing_is_accepted_then_answered_without_taking_the_lock() -> None:
    store = FakeBackupStore()
    deps = backup_deps(store=store)
    _handle(deps, request_message("backups", db="orders"))
    accepted, listed = published(deps)
    assert isinstance(accepted, CommandAccepted) and accepted.message == "Listing the backups of `orders` (postgresql)…"
    assert isinstance(listed, CommandSucceeded) and listed.summary == "`orders` has no completed backups yet."
    assert store.calls["acquire_lock"] == 0


# --- access is re-checked against the rules as they are now ---------------------------------------------------

RULES = """
access:
  - {command: backup, users: [U0ABC], channels: [ops]}
  - {command: restore, users: [UADMIN]}
"""


def test_a_caller_the_current_rules_do_not_admit_is_rejected_and_nothing_runs() -> None:
    store = FakeBackupStore().add(a_manifest())
    deps = backup_deps(config=StaticConfig.from_text(RULES), store=store)
    restore = request_message("restore", db="orders", confirm="orders", **{"from": a_manifest().backup_id})

    assert _handle(deps, restore) == [Disposition.DONE]

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected)
    assert rejected.reason == (
        "<@U0ABC> is not allowed to run `restore` in this channel (the access rules changed, or the request did "
        "not come from the ingress). Nothing was run."
    )
    assert rejected.hint == "Ask an admin to add you to the `restore` rule of the slashops configuration."
    assert not store.calls


def test_a_restore_a_rule_holds_for_approval_runs_nothing_without_one() -> None:
    """A `CommandRequested` that skipped the ingress' approval (or carries the requester's own) is refused."""
    rules = "access:\n  - {command: restore, users: [U0ABC], approval: {users: [U0BOB]}}\n"
    arguments = {"db": "orders", "confirm": "orders", "from": a_manifest().backup_id}
    for approval in (None, Approval(approver_id="U0ABC", approved_at=datetime.now(UTC))):
        store = FakeBackupStore().add(a_manifest())
        deps = backup_deps(config=StaticConfig.from_text(rules), store=store)

        _handle(deps, request_message("restore", approval=approval, **arguments))

        [rejected] = published(deps)
        assert isinstance(rejected, CommandRejected) and "not allowed to run `restore`" in rejected.reason
        assert not store.calls


def test_an_allowed_user_in_another_channel_is_rejected() -> None:
    store = FakeBackupStore()
    deps = backup_deps(config=StaticConfig.from_text(RULES), store=store)

    _handle(deps, request_message("backup", channel_id="CGENERAL", db="orders"))

    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected) and "not allowed to run `backup`" in rejected.reason
    assert not store.calls


def test_a_broken_configuration_refuses_every_command(caplog: pytest.LogCaptureFixture) -> None:
    store = FakeBackupStore()
    broken = StaticConfig(ConfigurationError("config.yaml: line 3: mapping values are not allowed here"))
    deps = backup_deps(config=broken, store=store)

    assert _handle(deps, request_message("backup", db="orders")) == [Disposition.DONE]

    [failed] = published(deps)
    assert isinstance(failed, CommandFailed) and failed.retryable
    incident = incident_shown(failed.reason, "config.yaml", "line 3")  # file names: the admins' logs only
    logged_detail(caplog, incident, "config.yaml: line 3: mapping values are not allowed here", "backup worker")
    assert not store.calls


class EditableText:
    """A configuration file being edited: `text` is what the next read returns."""

    origin = "config.yaml"

    def __init__(self, text: str) -> None:
        self.text = text

    def read(self) -> str:
        return self.text


def test_fixing_the_configuration_heals_the_worker_on_the_next_read() -> None:
    now = [0.0]
    text = EditableText("access: [ {command: backup")  # unparsable
    config = CachedConfig(text, known_commands=CATALOG.names(), ttl_seconds=60, clock=lambda: now[0])
    deps = backup_deps(config=config)

    _handle(deps, request_message("backups", db="orders"))
    text.text = RULES.replace("command: backup,", "command: backups,")
    now[0] = 61.0
    _handle(deps, request_message("backups", db="orders"))

    failed, *rest = published(deps)
    assert isinstance(failed, CommandFailed) and "misconfigured" in failed.reason
    assert [type(e) for e in rest] == [CommandAccepted, CommandSucceeded]


# --- a bad SLASHOPS_DB_* URL takes only its own database down ----------------------------------------------------


def test_a_bad_url_makes_only_its_database_unavailable_and_never_shows_the_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    databases = databases_from_env(
        {
            "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1/orders",
            "SLASHOPS_DB_BILLING": "postgresql://app:hunter2@db.internal:notaport/billing",
            "SLASHOPS_DB_LEGACY": "oracle://app:hunter2@db.internal/legacy",
        }
    )
    deps = backup_deps(databases=databases)

    _handle(
        deps,
        request_message("backup", db="billing"),
        request_message("backup", db="legacy"),
        request_message("backups", db="orders"),
    )

    billing, legacy, accepted, listed = published(deps)
    assert isinstance(billing, CommandFailed) and isinstance(legacy, CommandFailed)
    assert billing.reason.startswith("Database `billing` cannot be used, so nothing was run: slashops is")
    logged_detail(caplog, incident_shown(billing.reason, "SLASHOPS_DB"), "SLASHOPS_DB_BILLING", "invalid port")
    logged_detail(caplog, incident_shown(legacy.reason, "SLASHOPS_DB"), "SLASHOPS_DB_LEGACY", "unsupported scheme")
    assert isinstance(accepted, CommandAccepted) and isinstance(listed, CommandSucceeded)
    assert all("hunter2" not in repr(event) for event in published(deps))
    assert "hunter2" not in repr(databases["billing"]) + repr(databases["legacy"])


def test_the_configuration_narrows_the_databases_on_each_command(caplog: pytest.LogCaptureFixture) -> None:
    config = StaticConfig.from_text('{"access": [{"command": "*"}], "backup": {"databases": ["billing"]}}')
    deps = backup_deps(config=config)

    _handle(deps, request_message("backups", db="orders"), request_message("backups", db="billing"))

    orders, billing = published(deps)
    assert isinstance(orders, CommandRejected) and "`orders` is not a database" in orders.reason
    assert isinstance(billing, CommandFailed)
    logged_detail(caplog, incident_shown(billing.reason, "SLASHOPS_DB"), "SLASHOPS_DB_BILLING is not set")


# --- the database's lock ----------------------------------------------------------------------------------------


def test_a_second_delivery_of_a_running_command_reports_nothing_and_waits_for_it() -> None:
    """GIVEN restore X running on another worker WHEN X is delivered again THEN no 'busy' failure is recorded for X."""
    command_id = "fedcba987654"
    message = request_message(
        "restore", db="orders", confirm="orders", command_id=command_id, **{"from": a_manifest().backup_id}
    )
    store = FakeBackupStore().add(a_manifest())
    store.hold_lock("orders", f"restore {command_id} on worker-2")
    deps = backup_deps(store=store)

    assert _handle(deps, message) == [Disposition.LATER]
    assert published(deps) == []


def test_another_command_holding_the_lock_makes_the_database_busy() -> None:
    message = request_message("restore", db="orders", confirm="orders", **{"from": a_manifest().backup_id})
    store = FakeBackupStore().add(a_manifest())
    store.hold_lock("orders", "backup 0123456789ab on worker-2")
    deps = backup_deps(store=store)

    assert _handle(deps, message) == [Disposition.DONE]
    [failed] = published(deps)
    assert isinstance(failed, CommandFailed) and "is busy" in failed.reason and "0123456789ab" in failed.reason
    assert failed.retryable and store.locks == {"orders": "backup 0123456789ab on worker-2"}


def test_the_lock_is_released_when_the_job_fails() -> None:
    store = FakeBackupStore()
    store.fail("backup_by_command", RuntimeError("S3 unreachable"))
    deps = backup_deps(store=store)

    _handle(deps, request_message("backup", db="orders"))

    assert isinstance(published(deps)[-1], CommandFailed)
    assert store.calls["acquire_lock"] == store.calls["release_lock"] == 1 and store.locks == {}


# --- which databases: every SLASHOPS_DB_<NAME>, unless the configuration lists some (the list wins) -----------

MAKE_RUN_CONFIG = Path(__file__).parents[4] / "config" / "local.yaml"


def test_make_runs_configuration_backs_up_every_database_in_the_environment() -> None:
    """Adding SLASHOPS_DB_BILLING to `make run` is enough: config/local.yaml does not pin the list."""
    env = {"SLASHOPS_DB_ORDERS": "postgresql://h/orders", "SLASHOPS_DB_BILLING": "mysql://h/billing"}
    deps = backup_deps(config=StaticConfig.from_text(MAKE_RUN_CONFIG.read_text()), databases=databases_from_env(env))
    _handle(deps, request_message("backups", db="billing"))
    accepted, listed = published(deps)
    assert isinstance(accepted, CommandAccepted) and "`billing`" in accepted.message
    assert isinstance(listed, CommandSucceeded)


def test_a_databases_list_wins_over_the_environment_and_the_refusal_says_so() -> None:
    env = {"SLASHOPS_DB_ORDERS": "postgresql://h/orders", "SLASHOPS_DB_BILLING": "mysql://h/billing"}
    config = StaticConfig.from_text('{"access": [{"command": "*"}], "backup": {"databases": ["orders"]}}')
    deps = backup_deps(config=config, databases=databases_from_env(env))
    _handle(deps, request_message("backups", db="billing"))
    [rejected] = published(deps)
    assert isinstance(rejected, CommandRejected)
    assert rejected.hint == (
        "Configured databases: `orders` (the configuration's `backup.databases` list; an admin adds a name there)."
    )
