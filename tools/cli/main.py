"""`slashops`: the operator's command line (`make install` puts it in `.venv/bin/`; `pip install .` anywhere).

This module only picks the verb; each verb is a module of `tools.cli` with its own `--help`, imported when that verb
runs. So `slashops --help` works with nothing but Python, and a dependency missing (an environment not yet or not
completely installed) is told as what to run instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO, cast

EX_USAGE = 64
"""sysexits.h' EX_USAGE: no verb, or one slashops does not know."""
NOT_INSTALLED = 2
"""The exit status when the environment lacks a dependency (bin/slashops exits with it when there is no `.venv`)."""
FIRST_PARTY = frozenset({"tools", "shared", "services", "chalicelib"})
"""Packages of this repository: an import of one of them that fails is a bug to show, not an installation to finish."""
INSTALL = "run `make install` in the slashops checkout (`make run` installs too)"


@dataclass(frozen=True)
class Verb:
    """A verb: the words naming it, the `module:function` given the remaining arguments, and its usage line."""

    words: tuple[str, ...]
    entry: str
    usage: str


VERBS = (
    Verb(("send",), "tools.cli.send:main", 'send "<command text>" [--user U123] [--channel C123] [--timeout 60]'),
    Verb(
        ("click",),
        "tools.cli.send:click_main",
        "click <action_id> --value <value> [--as U123] [--channel C123] [--message-ts <ts>]",
    ),
    Verb(
        ("submit",),
        "tools.cli.forms:main",
        "submit <deploy|restore> [--as U123] [--channel C123] [--field NAME=VALUE]... [--show|--cancel]",
    ),
    Verb(("home",), "tools.cli.home:main", "home [--as U123] [--click <action_id> --value <value>]"),
    Verb(("dlq",), "tools.cli.dlq:main", "dlq <list|redrive> <deploy|backup|notifier> [--local] [--prefix slashops]"),
    Verb(
        ("config",),
        "tools.cli.configuration:main",
        "config <validate FILE|push FILE|show|rollback [--to N]> [--parameter NAME] [--local]",
    ),
    Verb(
        ("aws", "bootstrap"),
        "tools.cli.aws_bootstrap:main",
        "aws bootstrap [--database NAME]... [--rotate KEY]... [--prefix slashops]",
    ),
    Verb(
        ("replay",),
        "tools.cli.replay:main",
        "replay --since TIME [--until TIME] --service <deploy|backup|notifier>... [--local]",
    ),
    Verb(("stats",), "tools.cli.stats:main", "stats [--since 24h] [--local]"),
    Verb(("new",), "tools.cli.scaffold:main", "new command NAME --unit <ingress|deploy|backup>"),
)
FOOTNOTE = "(every verb: --help; AWS as configured, --local for make run's, --endpoint-url for an emulator)"


def usage(verbs: Sequence[Verb] = VERBS, *, footnote: bool = True) -> str:
    """One line per verb, `usage: ` before the first, as `slashops` alone prints it."""
    lines = [f"{'usage:' if n == 0 else '      '} slashops {verb.usage}" for n, verb in enumerate(verbs)]
    return "\n".join([*lines, f"       {FOOTNOTE}"] if footnote else lines)


def main(argv: Sequence[str] | None = None, *, verbs: Sequence[Verb] = VERBS) -> int:
    """Run the verb `argv` names with the arguments after it; without one, print the usage (exit 64)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] in (["--help"], ["-h"], ["help"]):
        print(usage(verbs))
        return 0
    verb = next((verb for verb in verbs if tuple(arguments[: len(verb.words)]) == verb.words), None)
    if verb is None:
        return _misused(arguments, verbs, sys.stderr)
    return _run(verb, arguments[len(verb.words) :])


def _misused(arguments: list[str], verbs: Sequence[Verb], err: TextIO) -> int:
    started = [verb for verb in verbs if arguments and verb.words[0] == arguments[0]]  # `aws` without `bootstrap`
    if arguments and not started:
        print(f"slashops: no verb {arguments[0]!r}", file=err)
    print(usage(started, footnote=False) if started else usage(verbs), file=err)
    return EX_USAGE


def _run(verb: Verb, arguments: list[str]) -> int:
    module, _, function = verb.entry.partition(":")
    try:
        run = cast(Callable[[list[str]], int | None], getattr(importlib.import_module(module), function))
        return run(arguments) or 0
    except ImportError as error:
        missing = error.name or ""
        if not missing or missing.partition(".")[0] in FIRST_PARTY:
            raise
        print(
            f"slashops: this environment has no {missing!r} (not installed yet, or not completely): {INSTALL}",
            file=sys.stderr,
        )
        return NOT_INSTALLED


if __name__ == "__main__":
    sys.exit(main())
