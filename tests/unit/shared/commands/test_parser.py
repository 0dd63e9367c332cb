from __future__ import annotations

from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.commands.argparsing import build_parser
from shared.commands.catalog import CATALOG, Catalog
from shared.commands.parser import parse_arguments, read_plain_options, resolve_command
from shared.commands.spec import ArgumentSpec, ArgumentValue, CommandSpec
from shared.errors import UnknownCommandError, UsageError

DEPLOY = CATALOG.get("deploy")
assert DEPLOY is not None


def test_deploy_arguments_parse_with_default_env() -> None:
    parsed = parse_arguments(DEPLOY, ["--client", "acme", "--branch=main"])
    assert parsed.arguments == {"client": "acme", "branch": "main", "env": "staging"}


def test_choices_are_enforced_and_the_closest_choice_is_suggested() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--env", "prod"])
    assert caught.value.message == "`--env prod` is not one of staging, production; did you mean `production`?"
    assert "/ops deploy --client CLIENT --branch BRANCH" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("typed", "suggested"), [("Production", "production"), ("stagign", "staging"), ("s", "staging"), ("qa", None)]
)
def test_a_value_outside_the_choices_gets_the_closest_one(typed: str, suggested: str | None) -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--env", typed])
    ending = f"; did you mean `{suggested}`?" if suggested else "."
    assert caught.value.message == f"`--env {typed}` is not one of staging, production{ending}"


def test_an_unknown_option_names_the_closest_one_in_one_message() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--clinet", "acme", "--branch", "main"])
    assert caught.value.message == "Unknown option `--clinet`; did you mean `--client`?"


def test_an_unknown_option_and_the_missing_required_ones_are_one_message() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--clinet=acme"])
    assert caught.value.message == "Unknown option `--clinet`; did you mean `--client`? Also, `--branch` is required."


def test_stray_words_and_missing_options_are_one_message() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["acme", "main"])
    assert caught.value.message == "Unexpected `acme`, `main`. Also, `--client` and `--branch` are required."
    status = CATALOG.get("status")
    assert status is not None
    with pytest.raises(UsageError) as positional:
        parse_arguments(status, ["abc123def456", "again"])
    assert positional.value.message == "Unexpected `again`."
    with pytest.raises(UsageError) as none:
        parse_arguments(status, [])
    assert none.value.message == "`id` is required."


def test_an_unknown_option_without_a_close_one_is_named_alone() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--force"])
    assert caught.value.message == "Unknown option `--force`."
    assert "Usage: `/ops deploy" in (caught.value.hint or "")


def test_typed_options_and_values_are_escaped_once_in_suggestions() -> None:
    with pytest.raises(UsageError) as option:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--<!here>`x"])
    assert option.value.message == "Unknown option `--&lt;!here&gt;ˋx`."
    with pytest.raises(UsageError) as choice:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "--env", "<@U1>&"])
    assert choice.value.message == "`--env &lt;@U1&gt;&amp;` is not one of staging, production."


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


RESTORE = CATALOG.get("restore")
assert RESTORE is not None


@pytest.mark.parametrize(
    ("spec_name", "tokens", "option"),
    [
        ("deploy", ["--client", "fuzznl\n", "--branch", "main"], "--client"),
        ("deploy", ["--client", "acme", "--branch", "main\u202e"], "--branch"),
        ("backups", ["--db", "orders\n"], "--db"),
        ("cancel", ["abcdef\n"], "id"),
        ("history", ["--user", "U123\n"], "--user"),
        ("restore", ["--db", "orders", "--from", "orders-1\u2066x"], "--from"),  # no validator of its own
        ("restore", ["--db", "orders", "--from", "x", "--confirm", "orders\u200e"], "--confirm"),
    ],
)
def test_invisible_and_control_characters_are_refused_in_every_argument(
    spec_name: str, tokens: list[str], option: str
) -> None:
    spec = CATALOG.get(spec_name)
    assert spec is not None
    with pytest.raises(UsageError) as caught:
        parse_arguments(spec, tokens)
    assert caught.value.message.startswith(f"`{option}` contains an invisible or control character (U+")


def test_the_refusal_names_the_character() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main\u202e"])
    assert caught.value.message == (
        "`--branch` contains an invisible or control character (U+202E RIGHT-TO-LEFT OVERRIDE)."
    )


@pytest.mark.parametrize("branch", ["$(id)", "`id`", "a;b", "a|b", "$HOME", "feature/🚀", "a&b"])
def test_branches_a_shell_would_read_as_syntax_are_refused(branch: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", branch])
    assert caught.value.message.startswith("`--branch`") and "may contain only" in caught.value.message


def test_the_configuration_can_widen_a_branch_alphabet_given_the_other_arguments() -> None:
    seen: list[str] = []

    def extra(spec: CommandSpec, argument: ArgumentSpec, arguments: Mapping[str, ArgumentValue]) -> str:
        seen.append(argument.dest)
        return "+" if arguments["client"] == "acme" else ""

    tokens = ["--branch", "feature+x", "--client"]
    assert parse_arguments(DEPLOY, [*tokens, "acme"], extra_characters=extra).arguments["branch"] == "feature+x"
    with pytest.raises(UsageError, match="may contain only"):
        parse_arguments(DEPLOY, [*tokens, "globex"], extra_characters=extra)
    assert seen == ["branch", "branch"]  # asked only for the branch, with the client known


def test_widening_never_lets_a_control_character_through() -> None:
    with pytest.raises(UsageError, match="invisible or control character"):
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "a\tb"], extra_characters=lambda *_: "\t")


def test_echoed_values_are_escaped_once_and_show_invisible_characters() -> None:
    with pytest.raises(UsageError) as caught:
        parse_arguments(DEPLOY, ["--client", "<!channel>&", "--branch", "main"])
    assert "'&lt;!channel&gt;&amp;'" in caught.value.message and "<!channel>" not in caught.value.message
    with pytest.raises(UnknownCommandError) as unknown:
        resolve_command(CATALOG, ["de\u202eploy<@U1>"])
    assert unknown.value.message == "`de\\u202eploy&lt;@U1&gt;` is not a command."
    with pytest.raises(UsageError) as unrecognized:
        parse_arguments(DEPLOY, ["--client", "acme", "--branch", "main", "<@U1>\u202e"])
    assert "&lt;@U1&gt;\\u202e" in unrecognized.value.message


@pytest.mark.parametrize("value", [" ", " orders-1", "orders-1 "])
def test_values_padded_with_spaces_are_refused(value: str) -> None:
    with pytest.raises(UsageError, match="`--from` starts or ends with a space"):
        parse_arguments(RESTORE, ["--db", "orders", "--from", value])


MIXED = CommandSpec(
    name="mixed",
    summary="every kind of option",
    arguments=(
        ArgumentSpec(name="count", help="n", type="integer", default="3"),
        ArgumentSpec(name="dry-run", help="f", type="flag"),
        ArgumentSpec(name="target", help="t", required=True),
        ArgumentSpec(name="env", help="e", choices=("a", "b"), default="a"),
    ),
    handled_by="ingress",
)
SPECS = [*(spec for spec in CATALOG if spec.arguments), MIXED]
WORDS = ["acme", "main", "5", " 7", "-1", "", "x y", "--", "--client=acme", "prod", "-", "--dry", "9" * 5, "١٢"]


@st.composite
def spec_and_tokens(draw: st.DrawFn) -> tuple[CommandSpec, list[str]]:
    spec = draw(st.sampled_from(SPECS))
    options = [argument.option for argument in spec.arguments]
    return spec, draw(st.lists(st.sampled_from(options + WORDS), max_size=8))


@settings(max_examples=1500)
@given(case=spec_and_tokens())
def test_plain_options_are_read_exactly_as_argparse_reads_them(case: tuple[CommandSpec, list[str]]) -> None:
    spec, tokens = case
    plain = read_plain_options(spec, tokens)
    if plain is None:
        return  # argparse reads these itself
    namespace, leftovers = build_parser(spec).parse_known_args(list(tokens))
    assert leftovers == []
    assert plain == {argument.dest: getattr(namespace, argument.dest) for argument in spec.arguments}


def test_the_usual_deploy_is_read_without_argparse_and_odd_ones_with_it() -> None:
    assert read_plain_options(DEPLOY, ["--client", "acme", "--branch", "main", "--env", "production"]) == {
        "client": "acme",
        "branch": "main",
        "env": "production",
    }
    assert read_plain_options(MIXED, ["--target", "x"]) == {"count": 3, "dry_run": False, "target": "x", "env": "a"}
    for odd in (["--client=acme"], ["--client", "a", "--client", "b"], ["--client"], ["--client", "-x"], ["word"]):
        assert read_plain_options(DEPLOY, odd) is None
