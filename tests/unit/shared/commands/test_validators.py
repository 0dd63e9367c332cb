"""Validators match the whole value (a trailing newline is not "the end"), and branches keep to a safe alphabet."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commands.validators import (
    REF_CHARACTERS,
    REF_CHARACTERS_SHOWN,
    VALIDATORS,
    git_ref_problem,
    git_rules_problem,
    problem_with,
)

DANGEROUS_BRANCHES = ["$(id)", "`id`", "a;b", "a|b", "$HOME", "main\u202e", "feature/🚀", "a&b", "x<y>", "a'b", 'a"b']


@pytest.mark.parametrize(
    ("validator", "good"),
    [("identifier", "fuzznl"), ("identifier", "orders"), ("command_id", "abcdef"), ("slack_user", "U123"),
     ("command_name", "deploy"), ("git_ref", "main")],
)  # fmt: skip
def test_a_trailing_newline_is_refused_by_every_validator(validator: str, good: str) -> None:
    assert VALIDATORS[validator](good) is None
    assert VALIDATORS[validator](good + "\n") is not None
    assert VALIDATORS[validator]("\n" + good) is not None


@pytest.mark.parametrize("branch", DANGEROUS_BRANCHES)
def test_branches_outside_the_conservative_alphabet_are_refused(branch: str) -> None:
    assert git_ref_problem(branch) is not None


def test_the_refusal_names_the_characters_and_the_alphabet() -> None:
    problem = git_ref_problem("$(id)")
    assert problem == "may contain only ASCII letters, digits and / . _ - (not '$' '(' ')')"


@pytest.mark.parametrize("branch", ["main", "release/2.4", "feature/JIRA-12_x", "v1.2.3", "A-b_c.d/e"])
def test_ordinary_branches_pass(branch: str) -> None:
    assert git_ref_problem(branch) is None


def test_extra_characters_widen_the_alphabet_but_never_past_gits_rules() -> None:
    assert git_ref_problem("feature+x@2", "+@") is None
    assert git_ref_problem("feature+x", "@") is not None
    assert git_ref_problem("a@{b", "@{") == "cannot contain '@{'"
    assert git_ref_problem("-rf", "") == "cannot start with '-'"


def test_only_git_ref_takes_extra_characters() -> None:
    assert problem_with("git_ref", "a+b", extra_characters="+") is None
    assert problem_with("identifier", "a+b", extra_characters="+") is not None


def test_gits_own_rules_stand_alone_for_the_deploy_service() -> None:
    assert git_rules_problem("feature+x") is None
    assert git_rules_problem("main\n") is not None


def test_pydantic_patterns_anchor_at_the_true_end() -> None:
    """pydantic 2's default (Rust) regex engine searches, but its `$` does not match before a final newline.

    A guard: were `regex_engine="python-re"` ever configured, `^…$` would accept "deploy\\n" like `re.match` does.
    """
    from pydantic import ValidationError

    from chalicelib.slack_request import SlashCommandRequest
    from shared.commands.spec import ArgumentSpec, CommandSpec

    with pytest.raises(ValidationError):
        ArgumentSpec(name="client\n", help="x")
    with pytest.raises(ValidationError):
        CommandSpec(name="deploy\n", summary="x", handled_by="ingress")
    form = {"team_id": "T", "channel_id": "C", "user_id": "U"}
    with pytest.raises(ValidationError):
        SlashCommandRequest.model_validate(form | {"response_url": "https://hooks.slack.com/x\n"})
    assert SlashCommandRequest.model_validate(form | {"response_url": "https://hooks.slack.com/x"})


def _git_rules_one_component_at_a_time(value: str) -> str | None:
    """The rules as git states them, each component split out (`git_rules_problem` reads the ref in one go)."""
    parts = value.split("/")
    checks = [
        (value in ("", "@"), "must be a branch or tag name"),
        (len(value) > 255, "is longer than 255 characters"),
        (value.startswith("-"), "cannot start with '-'"),
        (bool(re.search(r"[\x00-\x20\x7f~^:?*\[\\]", value)), "cannot contain spaces, control characters or any of"),
        (".." in value, "cannot contain '..'"),
        ("@{" in value, "cannot contain '@{'"),
        (any(part == "" for part in parts), "has an empty path component"),
        (value.endswith("."), "cannot end with '.'"),
        (any(part.startswith(".") for part in parts), "has a component starting with '.'"),
        (any(part.endswith(".lock") for part in parts), "has a component ending with '.lock'"),
    ]
    return next((problem for failed, problem in checks if failed), None)


COMPONENTS = [".a", "a/.b", "a/b.", "a./b", "a.lock", "a.lock/b", "a/b.lock", "a.locks/b", "a/.lock", "x.lockx", "a/b"]


@given(st.text(alphabet="ab./-lock@{ ~", max_size=24) | st.sampled_from(COMPONENTS))
def test_git_rules_read_in_one_go_say_what_each_component_would(value: str) -> None:
    expected = _git_rules_one_component_at_a_time(value)
    problem = git_rules_problem(value)
    assert problem == expected or (expected is not None and problem is not None and problem.startswith(expected))


@given(st.text(max_size=12), st.text(max_size=4))
def test_the_characters_outside_the_alphabet_are_the_same_however_counted(value: str, extra: str) -> None:
    problem = git_ref_problem(value, extra)
    outside = sorted({character for character in value if character not in REF_CHARACTERS} - set(extra))
    shown = " ".join(repr(character) for character in outside[:5])
    if outside and not re.search(r"[\x00-\x20\x7f~^:?*\[\\]", value):
        assert problem == f"may contain only {REF_CHARACTERS_SHOWN} (not {shown})"
    else:
        assert problem == git_rules_problem(value)
