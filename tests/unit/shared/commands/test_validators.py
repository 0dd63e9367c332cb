"""Validators match the whole value (a trailing newline is not "the end"), and branches keep to a safe alphabet."""

from __future__ import annotations

import pytest

from shared.commands.validators import VALIDATORS, git_ref_problem, git_rules_problem, problem_with

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
