"""Every error a user can be shown derives from the one base (`shared.errors.SlashopsError`: a title, a hint, whether
to retry), and each unit declares its own in its `errors.py`.

The rule, checked over every module of shared/, the ingress and the services: an exception class defined there
derives from `SlashopsError`, unless it is in `INTERNAL` below, with the reason it never reaches a user as itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from shared.errors import SlashopsError

REPO = Path(__file__).resolve().parents[2]
UNITS = {
    "chalicelib": REPO / "ingress" / "chalicelib",
    **{f"services.{s}": REPO / "services" / s for s in ("deploy", "backup", "notifier")},
}
"""Each deployable unit's package: the ingress (its code is `chalicelib`) and the three consumers."""

INTERNAL = {
    # Signals between the code and its callers, each turned into an answer (or a redelivery) where it is caught:
    "shared.deadline.DeadlineExceededError": "a call ran out of time; callers raise their port's unavailable error",
    "shared.events.publisher.PublishError": "the bus port's outcome; the ingress answers NotQueuedError",
    "shared.events.publisher.NotPublishedError": "as PublishError",
    "shared.events.publisher.PublishOutcomeUnknownError": "the ingress answers CommandMayBeQueuedError",
    "shared.events.envelope.MalformedEventError": "a message no user typed: logged and dropped by the consumers",
    "shared.pipeline.DeliverAgain": "tells the queue to deliver again (another delivery holds the work)",
    "shared.commands.references.UnresolvedReferenceError": "a declaration naming code that is not there: a bug",
    # ValueErrors raised inside parsers and validators (pydantic wants a ValueError); their callers translate them:
    "shared.bounded_json.TooDeepError": "a configuration or click too deeply nested: a ConfigurationError, a 400",
    "shared.locks.models.DurationError": "a `--for` that is not a duration: a UsageError",
    "shared.schedules.ScheduleError": "a cron, time zone or rate that cannot be read: a ConfigurationError at load",
    "shared.config.deploy.UnsafeBranchError": "the plan's second check of a branch the use case checked first",
    "services.backup.connections.InvalidConnectionUrl": "a database URL the worker cannot use: that database is off",
    # Private control flow inside one module:
    "shared.config.documents._Refused": "a YAML construct refused while parsing: a ConfigurationError",
    "shared.config.documents._DuplicateKey": "a repeated key while parsing: a ConfigurationError",
    "shared.ledger.dynamodb._ConditionFailed": "a refused conditional write: the answer `applied=False`",
}


def _modules() -> Iterator[ModuleType]:
    packages = [("shared", REPO / "shared"), *UNITS.items()]
    for name, path in packages:
        yield importlib.import_module(name)
        for found in pkgutil.walk_packages([str(path)], prefix=f"{name}."):
            if found.name.rsplit(".", 1)[-1] != "__main__":  # running it would start the worker
                yield importlib.import_module(found.name)
    yield importlib.import_module("app")


def _exceptions() -> dict[str, type[BaseException]]:
    return {
        f"{value.__module__}.{value.__qualname__}": value
        for module in _modules()
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module.__name__
    }


EXCEPTIONS = _exceptions()


def test_every_exception_derives_from_the_one_base_or_says_why_it_is_never_shown() -> None:
    strays = sorted(name for name, error in EXCEPTIONS.items() if not issubclass(error, SlashopsError))
    assert [name for name in strays if name not in INTERNAL] == []


def test_the_internal_list_names_only_exceptions_that_exist_and_are_not_shown() -> None:
    assert sorted(name for name in INTERNAL if name not in EXCEPTIONS) == []
    assert sorted(name for name in INTERNAL if issubclass(EXCEPTIONS[name], SlashopsError)) == []


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_each_unit_declares_its_errors_in_its_errors_module(unit: str) -> None:
    assert (UNITS[unit] / "errors.py").is_file()
    elsewhere = sorted(
        name
        for name, error in EXCEPTIONS.items()
        if error.__module__.startswith(f"{unit}.")
        and error.__module__ != f"{unit}.errors"
        and issubclass(error, SlashopsError)
    )
    assert elsewhere == []


def test_the_stores_unavailable_errors_are_retryable_errors_a_user_can_be_shown() -> None:
    from shared.approvals import ApprovalStoreUnavailableError
    from shared.errors import UnavailableError
    from shared.ledger.errors import LedgerUnavailableError
    from shared.locks.port import LockStoreUnavailableError
    from shared.replay import ReplayGuardUnavailableError
    from shared.slack.groups import GroupsUnavailableError
    from shared.slack.names import NamesUnavailableError

    for error in (
        ApprovalStoreUnavailableError,
        LedgerUnavailableError,
        LockStoreUnavailableError,
        ReplayGuardUnavailableError,
        GroupsUnavailableError,
        NamesUnavailableError,
    ):
        shown = error("the table did not answer (ClientError)")
        assert isinstance(shown, UnavailableError) and shown.retryable
        assert shown.title and shown.hint and str(shown) == shown.message
