"""Value checks named by `ArgumentSpec.validator`; each returns a problem description or None."""

from __future__ import annotations

import re
from collections.abc import Callable

_IDENTIFIER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_COMMAND_ID = re.compile(r"^[a-z0-9]{6,32}$")
_SLACK_USER = re.compile(r"^([UW][A-Z0-9]{2,}|[a-z0-9][a-z0-9._-]{0,79})$")
_COMMAND_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")


def git_ref_problem(value: str) -> str | None:
    """The rules of `git check-ref-format --branch`, so Jenkins is never handed an impossible ref."""
    checks: list[tuple[bool, str]] = [
        (value == "" or value == "@", "must be a branch or tag name"),
        (len(value) > 255, "is longer than 255 characters"),
        (value.startswith("-"), "cannot start with '-'"),
        (bool(_REF_FORBIDDEN.search(value)), "cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"),
        (".." in value, "cannot contain '..'"),
        ("@{" in value, "cannot contain '@{'"),
        (value.startswith("/") or value.endswith("/") or "//" in value, "has an empty path component"),
        (value.endswith("."), "cannot end with '.'"),
        (any(part.startswith(".") for part in value.split("/")), "has a component starting with '.'"),
        (any(part.endswith(".lock") for part in value.split("/")), "has a component ending with '.lock'"),
    ]
    for failed, problem in checks:
        if failed:
            return problem
    return None


def _pattern_check(pattern: re.Pattern[str], problem: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if pattern.match(value) else problem

    return check


VALIDATORS: dict[str, Callable[[str], str | None]] = {
    "git_ref": git_ref_problem,
    "identifier": _pattern_check(
        _IDENTIFIER, "must be 1-63 lowercase letters, digits, '-' or '_', starting with a letter or digit"
    ),
    "command_id": _pattern_check(_COMMAND_ID, "is not a command id (6-32 lowercase letters and digits)"),
    "slack_user": _pattern_check(_SLACK_USER, "is not a Slack user ID (U…) or user name"),
    "command_name": _pattern_check(_COMMAND_NAME, "is not a command name"),
}
