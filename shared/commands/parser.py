"""Parse tokens against a `CommandSpec` with argparse, which must never exit or print.

argparse only reads the tokens (nothing is required to it, and it checks no choices): what is wrong with them is
said here, all at once — an unknown option with the closest known one, stray words, every missing required
argument — in one message, and a value outside an argument's choices with the closest choice. Every string
value is checked for invisible and control characters here, for every command, before the argument's own
validator runs; messages show what the user typed escaped once (`shared.slack.mrkdwn`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from shared.commands.catalog import Catalog
from shared.commands.characters import describe, unsafe_character
from shared.commands.spec import ArgumentSpec, ArgumentValue, CommandSpec
from shared.commands.validators import problem_with
from shared.commands.wording import usage_hint
from shared.errors import UnknownCommandError, UsageError
from shared.slack.mrkdwn import code, text

ExtraCharacters = Callable[[CommandSpec, ArgumentSpec, Mapping[str, ArgumentValue]], str]
"""Characters the configuration adds to an argument's alphabet, given the other arguments (e.g. the client)."""


def no_extra_characters(spec: CommandSpec, argument: ArgumentSpec, arguments: Mapping[str, ArgumentValue]) -> str:
    return ""


@dataclass(frozen=True)
class ParsedCommand:
    spec: CommandSpec
    arguments: dict[str, ArgumentValue] = field(default_factory=dict)


def resolve_command(catalog: Catalog, tokens: Sequence[str]) -> tuple[CommandSpec, list[str]]:
    """Find the command the first token names; no tokens at all means `help`."""
    if not tokens:
        spec = catalog.get("help")
        if spec is None:
            raise UnknownCommandError("No command given.", hint="Try `/ops help`.")
        return spec, []
    name, rest = tokens[0], list(tokens[1:])
    spec = catalog.get(name.lower())
    if spec is None:
        raise UnknownCommandError(f"{code(_shorten(name))} is not a command.", hint=_unknown_hint(catalog, name))
    return spec, rest


def parse_arguments(
    spec: CommandSpec, tokens: Sequence[str], *, extra_characters: ExtraCharacters = no_extra_characters
) -> ParsedCommand:
    """Validate `tokens` as `spec`'s arguments; raise `UsageError` saying what is wrong."""
    arguments = read_plain_options(spec, tokens)
    if arguments is None:
        from shared.commands.argparsing import build_parser  # argparse, for the tokens read_plain_options leaves

        namespace, leftovers = build_parser(spec).parse_known_args(list(tokens))
        arguments = {a.dest: getattr(namespace, a.dest) for a in spec.arguments}
        _refuse_leftovers(spec, leftovers, arguments)
    else:
        _refuse_leftovers(spec, [], arguments)
    for argument in spec.arguments:
        _refuse_invisible(spec, argument, arguments[argument.dest])
    for argument in spec.arguments:
        _refuse_other_choices(spec, argument, arguments[argument.dest])
        _validate(spec, argument, arguments, extra_characters)
    return ParsedCommand(spec=spec, arguments=arguments)


def read_plain_options(spec: CommandSpec, tokens: Sequence[str]) -> dict[str, ArgumentValue] | None:
    """What argparse reads from the usual tokens, read directly (argparse costs more than the rest of a request).

    Only `--option value` pairs and `--flag`s of a command without positionals, each given once, no value starting
    with `-`, every integer readable: None for anything else, which argparse then reads (and explains).
    tests/unit/shared/commands/test_parser.py holds the two equal.
    """
    plain = _plain_reading(spec)
    if plain is None:
        return None
    options, defaults = plain
    arguments = dict(defaults)
    seen: set[str] = set()
    index, count = 0, len(tokens)
    while index < count:
        argument = options.get(tokens[index])
        if argument is None or argument.dest in seen:
            return None
        seen.add(argument.dest)
        if argument.type == "flag":
            arguments[argument.dest] = True
            index += 1
            continue
        if index + 1 == count or tokens[index + 1].startswith("-"):
            return None
        value: str | int = tokens[index + 1]
        if argument.type == "integer":
            try:
                value = int(value)
            except ValueError:
                return None
        arguments[argument.dest] = value
        index += 2
    return arguments


_PlainReading = tuple[dict[str, ArgumentSpec], dict[str, ArgumentValue]] | None
_PLAIN_READINGS: dict[int, tuple[CommandSpec, _PlainReading]] = {}
"""By the spec's identity (the spec kept alive with it): hashing a frozen spec hashes every argument, every time."""


def _absent(argument: ArgumentSpec) -> ArgumentValue:
    """An option's value when it is not given, as argparse sets it: False for a flag, a string default converted by
    the argument's type, any other default as it is."""
    if argument.type == "flag":
        return False
    if argument.type == "integer" and isinstance(argument.default, str):
        return int(argument.default)
    return argument.default


def _plain_reading(spec: CommandSpec) -> _PlainReading:
    """(the options by name, each argument's value when absent as argparse gives it), or None for a command with
    positionals."""
    known = _PLAIN_READINGS.get(id(spec))
    if known is not None and known[0] is spec:
        return known[1]
    reading: _PlainReading = None
    if not any(argument.positional for argument in spec.arguments):
        defaults = {argument.dest: _absent(argument) for argument in spec.arguments}
        reading = {argument.option: argument for argument in spec.arguments}, defaults
    if len(_PLAIN_READINGS) >= 256:  # tests build many specs; a catalog has a few
        _PLAIN_READINGS.clear()
    _PLAIN_READINGS[id(spec)] = (spec, reading)
    return reading


_NEGATIVE_NUMBER = re.compile(r"^-\d+$|^-\d*\.\d+$")


def _refuse_leftovers(spec: CommandSpec, leftovers: Sequence[str], arguments: Mapping[str, ArgumentValue]) -> None:
    """Unknown options (with the closest known one), stray words and missing required arguments: one message."""
    unknown, stray = _sort_leftovers(leftovers)
    known = [argument.option for argument in spec.arguments if not argument.positional]
    sentences, suggested = [], set()
    for option in unknown:
        closest = _close_matches(option, known, cutoff=0.6)
        if closest:
            suggested.add(closest[0])
            sentences.append(f"Unknown option {code(_shorten(option))}; did you mean {code(closest[0])}?")
        else:
            sentences.append(f"Unknown option {code(_shorten(option))}.")
    if stray:
        sentences.append("Unexpected " + ", ".join(code(_shorten(word)) for word in stray) + ".")
    missing = [
        a.option for a in spec.arguments if a.required and arguments[a.dest] is None and a.option not in suggested
    ]
    if missing:
        names = " and ".join(code(option) for option in missing)
        required = f"{names} {'is' if len(missing) == 1 else 'are'} required."
        sentences.append(f"Also, {required}" if sentences else required[:1].upper() + required[1:])
    if sentences:
        raise UsageError(" ".join(sentences), hint=usage_hint(spec))


def _sort_leftovers(leftovers: Sequence[str]) -> tuple[list[str], list[str]]:
    """(unknown options, stray words); a word right after an unknown `--option` is taken as its value."""
    unknown: list[str] = []
    stray: list[str] = []
    takes_value = False
    for token in leftovers:
        if token == "--":
            continue
        if token.startswith("-") and len(token) > 1 and not _NEGATIVE_NUMBER.match(token):
            name, has_value, _ = token.partition("=")
            unknown.append(name)
            takes_value = not has_value
        elif takes_value:
            takes_value = False
        else:
            stray.append(token)
    return unknown, stray


def _refuse_other_choices(spec: CommandSpec, argument: ArgumentSpec, value: ArgumentValue) -> None:
    if not argument.choices or value is None or value in argument.choices:
        return
    closest = _closest_choice(str(value), argument.choices)
    suggestion = f"; did you mean {code(closest)}?" if closest else "."
    raise UsageError(
        f"{code(f'{argument.option} {_shorten(str(value))}')} is not one of {', '.join(argument.choices)}{suggestion}",
        hint=usage_hint(spec),
    )


def _closest_choice(value: str, choices: Sequence[str]) -> str | None:
    """The same word in another case, the only choice it begins, or the closest spelling."""
    lowered = value.lower()
    same = [choice for choice in choices if choice.lower() == lowered]
    starting = [choice for choice in choices if lowered and choice.lower().startswith(lowered)]
    if same or len(starting) == 1:
        return (same or starting)[0]
    close = _close_matches(lowered, [choice.lower() for choice in choices], cutoff=0.5)
    return next((choice for choice in choices if close and choice.lower() == close[0]), None)


def _refuse_invisible(spec: CommandSpec, argument: ArgumentSpec, value: ArgumentValue) -> None:
    """Generic, whatever the validator: such characters hide or reorder what Slack shows, or break a shell.

    Leading or trailing spaces (only possible inside quotes) are refused too: no value means anything with them.
    """
    if not isinstance(value, str):
        return
    character = unsafe_character(value)
    if character is not None:
        raise UsageError(
            f"{code(argument.option)} contains an invisible or control character ({describe(character)}).",
            hint=f"Type the value again rather than pasting it. {usage_hint(spec)}",
        )
    if value != value.strip():
        raise UsageError(f"{code(argument.option)} starts or ends with a space.", hint=usage_hint(spec))


def _validate(
    spec: CommandSpec, argument: ArgumentSpec, arguments: Mapping[str, ArgumentValue], extra: ExtraCharacters
) -> None:
    value = arguments[argument.dest]
    if argument.validator is None or not isinstance(value, str):
        return
    extra_characters = extra(spec, argument, arguments) if argument.validator == "git_ref" else ""
    problem = problem_with(argument.validator, value, extra_characters=extra_characters)
    if problem:
        shown = text(repr(_shorten(value)))
        raise UsageError(f"{code(argument.option)} {shown} {text(problem)}.", hint=usage_hint(spec))


def _unknown_hint(catalog: Catalog, name: str) -> str:
    closest = catalog.closest(name)
    suggestion = f"Did you mean `{closest}`? " if closest else ""
    return f"{suggestion}Type `/ops help` to see every command."


def _shorten(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _close_matches(word: str, candidates: Sequence[str], *, cutoff: float) -> list[str]:
    """The closest candidate, if any; difflib is imported by the first mistyped word, not at every cold start."""
    import difflib

    return difflib.get_close_matches(word, candidates, n=1, cutoff=cutoff)
