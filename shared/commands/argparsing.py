"""argparse, for the tokens `parser.read_plain_options` does not read (positionals, `--option=value`, repeats, typos).

Imported on the first such request, not with `shared.commands.parser`: argparse (and the gettext it imports) cost
about 1% of the ingress' cold start, and a deploy typed as documented never needs them.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any, NoReturn

from shared.commands.spec import ArgumentSpec, CommandSpec
from shared.commands.wording import as_sentence, usage_hint
from shared.errors import UsageError
from shared.slack.mrkdwn import text


@functools.lru_cache(maxsize=128)
def build_parser(spec: CommandSpec) -> argparse.ArgumentParser:
    """Built once per command: argparse set-up costs more than parsing (parsers keep no state between calls)."""
    parser = _RaisingParser(spec)
    for argument in spec.arguments:
        parser.add_argument(*_names(argument), **_options(argument))
    return parser


class _RaisingParser(argparse.ArgumentParser):
    """argparse, except that every error raises `UsageError` instead of printing and exiting."""

    def __init__(self, spec: CommandSpec) -> None:
        super().__init__(prog=f"/ops {spec.name}", add_help=False, allow_abbrev=False, exit_on_error=False)
        self.spec = spec

    def error(self, message: str) -> NoReturn:
        raise UsageError(text(as_sentence(message)), hint=usage_hint(self.spec))

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UsageError(text(as_sentence(message or "invalid arguments")), hint=usage_hint(self.spec))

    def print_help(self, file: Any = None) -> None:  # never write to stdout
        return None

    def print_usage(self, file: Any = None) -> None:
        return None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as error:  # raised instead of error() when exit_on_error=False
            self.error(str(error))


class _StoreOnce(argparse.Action):
    """Refuse an option given twice instead of silently keeping the last value."""

    def __call__(
        self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any, option: Any = None
    ) -> None:
        if getattr(namespace, f"_seen_{self.dest}", False):
            parser.error(f"{option} was given more than once")
        setattr(namespace, f"_seen_{self.dest}", True)
        setattr(namespace, self.dest, values)


def _names(argument: ArgumentSpec) -> list[str]:
    return [argument.dest] if argument.positional else [argument.option]


def _options(argument: ArgumentSpec) -> dict[str, Any]:
    if argument.type == "flag":
        return {"action": "store_true", "dest": argument.dest, "help": argument.help}
    options: dict[str, Any] = {
        "help": argument.help,
        "type": int if argument.type == "integer" else str,
        "default": argument.default,
        "metavar": argument.display_metavar,
    }
    if argument.positional:
        options["nargs"] = "?"  # required or not: a missing one is named with the other problems
    else:
        options.update(dest=argument.dest, action=_StoreOnce)
    return options
