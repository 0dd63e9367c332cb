"""One error base: every unit's errors carry `title`, `hint` and `retryable` the same way."""

from __future__ import annotations

import pytest

from services.backup.errors import BackupError, Interrupted, JobRejected, ObjectExists
from services.deploy.errors import JenkinsAuthError, JenkinsUnavailableError
from services.notifier.errors import NotifierError, SlackAuthError, SlackUnavailableError
from shared.errors import SlashopsError


class Busy(SlashopsError):
    title = "Busy"
    retryable = True


def test_class_defaults_apply_and_one_call_may_override_each() -> None:
    default = Busy("the database is busy")
    assert (default.message, default.title, default.hint, default.retryable) == (
        "the database is busy",
        "Busy",
        None,
        True,
    )
    custom = Busy("gone", title="Gone", hint="restore it", retryable=False)
    assert (custom.title, custom.hint, custom.retryable) == ("Gone", "restore it", False)
    assert Busy.retryable is True  # overriding one instance leaves the class default alone


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (BackupError("dump failed"), False),
        (BackupError("bucket busy", retryable=True), True),
        (Interrupted(), True),
        (ObjectExists("backups/x"), True),
        (JenkinsUnavailableError("502"), True),
        (JenkinsAuthError("401"), False),
        (SlackUnavailableError("503"), True),
        (SlackAuthError("invalid_auth"), False),
    ],
)
def test_every_unit_error_is_a_slashops_error_with_retryable(error: SlashopsError, retryable: bool) -> None:
    assert isinstance(error, SlashopsError)
    assert error.retryable is retryable
    assert error.title and str(error) == error.message


def test_backup_rejection_keeps_its_reason_and_hint() -> None:
    rejected = JobRejected("unknown database", hint="Configured databases: orders.")
    assert (rejected.reason, rejected.hint, rejected.retryable) == (
        "unknown database",
        "Configured databases: orders.",
        False,
    )
    assert issubclass(NotifierError, SlashopsError)
