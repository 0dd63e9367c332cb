"""Write the reference parts of `docs/` from the code: the users' command reference comes from the catalog.

    python -m tools.release.docs_pages          # exit 1 and say so if a generated part of docs/ is stale (`make docs`)
    python -m tools.release.docs_pages --write  # rewrite it (`make docs WRITE=1`)

`docs/users.md` holds the reference between two markers (`BEGIN`, `END`); everything outside them is written by
hand. Each command's section is its `CommandSpec` in `shared/commands/catalog.py`: summary, description, usage,
options (with the validator's rule in words: `VALUE_RULES`, which must name every validator), examples, who may
run it and who answers it. tests/unit/docs/test_docs_pages.py fails when the page and the catalog disagree.
"""

from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path
from typing import get_args

from shared.commands.catalog import CATALOG, Catalog
from shared.commands.spec import ArgumentSpec, CommandSpec, ValidatorName

REPO_ROOT = Path(__file__).resolve().parents[2]
USERS_PAGE = REPO_ROOT / "docs" / "users.md"
BEGIN = (
    "<!-- BEGIN commands: written by `python -m tools.release.docs_pages --write` from shared/commands/catalog.py -->"
)
END = "<!-- END commands -->"
PROG = "/ops"

VALUE_RULES: dict[str, str] = {
    "git_ref": "a git branch or tag: git's ref-name rules, ASCII letters, digits and `/ . _ -` "
    "(a client's `branch_characters` may add more)",
    "identifier": "1-63 lowercase letters, digits, `-` or `_`, starting with a letter or digit",
    "command_id": "a command id: 6-32 lowercase letters and digits",
    "slack_user": "a Slack user ID (`U…`) or user name",
    "command_name": "a command's name",
}
"""Each `ArgumentSpec.validator` in words (shared/commands/validators.py holds the checks themselves)."""
CONSUMERS = {"deploy": "the deploy service", "backup": "the backup worker"}
"""A consumer's name as users know it; one missing here is shown as `the <name> service`."""


class DocsError(RuntimeError):
    pass


def command_reference(catalog: Catalog = CATALOG) -> str:
    """The markdown between the markers: a table of every command, then one section per command."""
    unknown = sorted(set(get_args(ValidatorName)) - set(VALUE_RULES))
    if unknown:
        raise DocsError(f"validators without words in tools/release/docs_pages.py VALUE_RULES: {', '.join(unknown)}")
    rows = [f"| [`{spec.name}`](#{spec.name}) | {_cell(spec.summary)} | {_who_may(spec)} |" for spec in catalog]
    table = "\n".join(["| command | what it does | who may run it |", "|---|---|---|", *rows])
    sections = "\n\n".join(render_command(spec) for spec in catalog)
    return f"{table}\n\n{sections}\n"


def render_command(spec: CommandSpec) -> str:
    parts = [f"### `{spec.name}`", _markdown(spec.summary + "." + (f" {spec.description}" if spec.description else ""))]
    parts.append(f"Usage: `{spec.usage(PROG)}`")
    if spec.arguments:
        rows = [f"| `{_option(a)}` | {_cell(a.help)} | {_cell(_value(a))} |" for a in spec.arguments]
        parts.append("\n".join(["| option | meaning | value |", "|---|---|---|", *rows]))
    if spec.examples:
        parts.append("Examples:\n\n```text\n" + "\n".join(spec.examples) + "\n```")
    parts.append(f"Who may run it: {_who_may(spec)}. {_answered_by(spec)}")
    return "\n\n".join(parts)


def _option(argument: ArgumentSpec) -> str:
    if argument.positional:
        return f"<{argument.display_metavar}>"
    if argument.type == "flag":
        return argument.option
    return f"{argument.option} {argument.display_metavar}"


def _value(argument: ArgumentSpec) -> str:
    notes = ["required"] if argument.required else []
    if argument.type == "flag":
        notes.append("a flag: given or not")
    elif argument.choices:
        notes.append("one of " + ", ".join(f"`{choice}`" for choice in argument.choices))
    elif argument.type == "integer":
        notes.append("a whole number")
    if argument.validator is not None:
        notes.append(VALUE_RULES[argument.validator])
    if argument.default is not None and argument.type != "flag":
        notes.append(f"default `{argument.default}`")
    return "; ".join(notes) or "any text"


def _who_may(spec: CommandSpec) -> str:
    if spec.open_to_all:
        return "anyone, without an access rule"
    return "whoever an [access rule](admins.md#access-rules) admits"


def _answered_by(spec: CommandSpec) -> str:
    if spec.handled_by == "ingress":
        answered = "Answered at once by the ingress"
    else:
        consumer = spec.consumer or ""
        answered = f"Handed to {CONSUMERS.get(consumer, f'the {consumer} service')} through the event bus"
    if spec.long_running:
        answered += "; it runs for a while, and its progress and result follow"
    where = "in the channel, for everyone there" if spec.visibility == "in_channel" else "to you alone"
    return f"{answered}. Its result is shown {where}."


def _markdown(text: str) -> str:
    """`text` with code spans kept and HTML characters escaped outside them."""
    pieces = text.split("`")
    return "`".join(piece if index % 2 else html.escape(piece, quote=False) for index, piece in enumerate(pieces))


def _cell(text: str) -> str:
    return _markdown(text).replace("|", "\\|")


def splice(page: str, reference: str) -> str:
    """`page` with the text between its markers replaced by `reference`."""
    if page.count(BEGIN) != 1 or page.count(END) != 1 or page.index(BEGIN) > page.index(END):
        raise DocsError(f"docs/users.md must hold the markers once each, in order: {BEGIN} … {END}")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{reference}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the generated parts of docs/")
    args = parser.parse_args(argv)
    shown = USERS_PAGE.relative_to(REPO_ROOT) if USERS_PAGE.is_relative_to(REPO_ROOT) else USERS_PAGE
    try:
        current = USERS_PAGE.read_text()
        text = splice(current, command_reference())
    except (OSError, DocsError) as error:
        print(f"docs_pages: {error}", file=sys.stderr)
        return 2
    if args.write:
        if text != current:
            USERS_PAGE.write_text(text)
        print(f"wrote {shown}")
        return 0
    if text != current:
        rewrite = "python -m tools.release.docs_pages --write"
        print(f"{shown} is stale: run `make docs WRITE=1` ({rewrite})", file=sys.stderr)
        return 1
    print(f"{shown} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
