from __future__ import annotations

import pytest

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.parser import parse_arguments, resolve_command
from shared.commands.spec import ArgumentSpec, CommandSpec
from shared.errors import UnknownCommandError, UsageError

DEPLOY = CATALOG.get("deploy")
assert DEPLOY is not None


def test_deploy_arguments_parse_with_default_env() -> None:
    parsed = parse_arguments(DEPLOY, ["--client", "acme", "--branch=main"])
    assert parsed.arguments == {"client": "acme", "branch": "main", "env": "staging"}


def test_choices_are_enforced() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--env", "prod"])
    assert "invalid choice" in caught.value.message
    assert "/ops deploy --client CLIENT --branch BRANCH" in (caught.value.hint or "")


def test_missing_required_arguments_are_named() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme"])
    assert "--branch" in caught.value.message


def test_unknown_option_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--force"])
    assert "--force" in caught.value.message


def test_option_given_twice_is_refused() -> None:
    with pytest.raises(UsageError, match="more than once"):
        parse_arguments(DEPLOY, ["--client", "acme", "--client", "beta", "--branch", "main"])


def test_abbreviated_options_are_not_guessed() -> None:
    with pytest.raises(UsageError):
        parse_arguments(DEPLOY, ["--cli", "acme", "--branch", "main"])


@pytest.mark.parametrize(
    "branch", ["main..x", "feat ure", "a~1", "x.lock", "-rf", "/abs", "a//b", "end.", "@", "a@{b", ".hidden"]
)
def test_invalid_git_refs_are_refused_before_anything_runs(branch: str) -> None:
    with pytest.raises(UsageError, match="--branch"):
        parse_arguments(DEPLOY, ["--client", "acme", f"--branch={branch}"])


@pytest.mark.parametrize("branch", ["main", "release/2.4", "feature/JIRA-12_x", "v1.2.3"])
def test_valid_git_refs_pass(branch: str) -> None:
    assert parse_arguments(DEPLOY, ["--client", "acme", "--branch", branch]).arguments["branch"] == branch


def test_help_flag_anywhere_requests_help() -> None:
    assert parse_arguments(DEPLOY, ["--client", "--help"]).help_requested


def test_integer_and_flag_arguments() -> None:
    history = CATALOG.get("history")
    assert history is not None
    parsed = parse_arguments(history, ["--mine", "--limit", "5"])
    assert parsed.arguments["mine"] is True and parsed.arguments["limit"] == 5
    with pytest.raises(UsageError, match="invalid int"):
        parse_arguments(history, ["--limit", "many"])


def test_optional_positional() -> None:
    help_spec = CATALOG.get("help")
    assert help_spec is not None
    assert parse_arguments(help_spec, []).arguments == {"command": None}
    assert parse_arguments(help_spec, ["deploy"]).arguments == {"command": "deploy"}
    with pytest.raises(UsageError):
        parse_arguments(help_spec, ["deploy", "backup"])


def test_unknown_command_suggests_the_closest_one() -> None:
    with pytest.raises(UnknownCommandError) as caught:
        resolve_command(CATALOG, ["deplyo", "--client", "acme"])
    assert "Did you mean `deploy`?" in (caught.value.hint or "")
    assert "/ops help" in (caught.value.hint or "")


def test_no_text_means_help() -> None:
    spec, rest = resolve_command(CATALOG, [])
    assert spec.name == "help" and rest == []


def test_a_new_command_needs_only_a_declaration() -> None:
    purge = CommandSpec(
        name="purge-cache",
        summary="Purge a CDN cache",
        arguments=(ArgumentSpec(name="zone", required=True, help="zone", choices=("eu", "us")),),
        consumer="cdn",
    )
    catalog = Catalog([*CATALOG, purge])
    spec, rest = resolve_command(catalog, ["purge-cache", "--zone", "eu"])
    assert parse_arguments(spec, rest).arguments == {"zone": "eu"}


def test_argparse_never_prints(capsys: pytest.CaptureFixture[str]) -> None:
    for tokens in (["--env"], ["--nope"], ["--client"], ["-h"], ["x"]):
        try:
            parse_arguments(DEPLOY, tokens)
        except UsageError:
            pass
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_declarations_reject_inconsistent_arguments() -> None:
    with pytest.raises(ValueError):
        ArgumentSpec(name="x", help="x", required=True, default="y")
    with pytest.raises(ValueError):
        ArgumentSpec(name="x", help="x", choices=("a",), default="b")
