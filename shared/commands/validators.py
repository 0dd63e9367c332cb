"""Value checks named by `ArgumentSpec.validator`; each returns a problem description or None.

Patterns are matched with `fullmatch`: `re.match` with `$` accepts a trailing newline (`"acme\\n"`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

_IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_COMMAND_ID = re.compile(r"[a-z0-9]{6,32}")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}|[a-z0-9][a-z0-9._-]{0,79}")
_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]{0,31}")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")

REF_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-")
"""The conservative branch alphabet: nothing a shell, a URL or a Slack message would read as syntax."""
REF_CHARACTERS_SHOWN = "ASCII letters, digits and / . _ -"
GIT_FORBIDDEN = "~^:?*[\\"
"""Characters git never allows in a ref (besides spaces and control characters)."""


def git_ref_problem(value: str, extra_characters: str = "") -> str | None:
    """Git's ref rules (`git check-ref-format --branch`) within the conservative alphabet plus `extra_characters`.

    The alphabet keeps `$(id)`, backticks, `;`, `|` and emoji out of Jenkins jobs that put the branch in a
    shell step; the configuration may add characters per client (`deploy.clients.<name>.branch_characters`).
    """
    outside = sorted(set(value) - REF_CHARACTERS - set(extra_characters))
    if outside and not _REF_FORBIDDEN.search(value):
        shown = " ".join(repr(character) for character in outside[:5])
        return f"may contain only {REF_CHARACTERS_SHOWN} (not {shown})"
    return git_rules_problem(value)


def git_rules_problem(value: str) -> str | None:
    """Only git's own rules: what any configured alphabet must also satisfy."""
    checks: list[tuple[bool, str]] = [
        (value == "" or value == "@", "must be a branch or tag name"),
        (len(value) > 255, "is longer than 255 characters"),
        (value.startswith("-"), "cannot start with '-'"),
        (bool(_REF_FORBIDDEN.search(value)), "cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"),
        (".." in value, "cannot contain '..'"),
        ("@{" in value, "cannot contain '@{'"),
        (value.startswith("/") or value.endswith("/") or "//" in value, "has an empty path component"),
        (value.endswith("."), "cannot end with '.'"),
        ("/." in "/" + value, "has a component starting with '.'"),  # as the first character, or after a `/`
        (".lock/" in value + "/", "has a component ending with '.lock'"),  # before a `/`, or at the end
    ]
    for failed, problem in checks:
        if failed:
            return problem
    return None


def _pattern_check(pattern: re.Pattern[str], problem: str) -> Callable[[str], str | None]:
    def check(value: str) -> str | None:
        return None if pattern.fullmatch(value) else problem

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


def problem_with(validator: str, value: str, *, extra_characters: str = "") -> str | None:
    """Run the named validator; only `git_ref` takes extra characters (from the configuration)."""
    if validator == "git_ref":
        return git_ref_problem(value, extra_characters)
    return VALIDATORS[validator](value)
