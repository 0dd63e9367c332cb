"""`slashops new command NAME --unit <ingress|deploy|backup>`: a new command, green from the first minute.

Writes the command's declaration (a `CommandSpec` in `shared/commands/catalog.py`, added to `CATALOG`), its use
case module in the unit and the use case's unit test, then regenerates what derives from the catalog: the bus
rules (`infra/bus.yaml`), the Slack app manifest and the docs' command reference. Right after it `make lint` and
`make unit` pass, and under `make run` `/ops NAME` answers end to end (the local configuration admits every
command). What is left to edit: the declaration's summary and arguments, the use case's body and its test.

The notifier is not a unit a command can run in: it reports what the other units did, and may not publish.
A command answered from what Slack or the ledger says is an ingress command.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.commands.catalog import CATALOG

REPO_ROOT = Path(__file__).resolve().parents[2]
CATALOG_FILE = Path("shared/commands/catalog.py")
UNITS = ("ingress", "deploy", "backup")
_NAME = re.compile(r"[a-z][a-z0-9-]{0,30}")
_LIST = re.compile(r"^CATALOG = Catalog\(\n    \[\n(?P<names>(?:        \w+,\n)*)    \]\n\)$", re.MULTILINE)


class ScaffoldError(Exception):
    """A refusal: the message says why and what to do instead."""


@dataclass(frozen=True)
class Plan:
    """What the scaffold writes for one command: paths relative to the repository, and their text."""

    name: str
    unit: str
    files: dict[Path, str]
    declaration: str

    @property
    def module(self) -> str:
        return self.name.replace("-", "_")


def plan(name: str, unit: str) -> Plan:
    if not _NAME.fullmatch(name):
        raise ScaffoldError(f"{name!r}: a command name is lowercase letters, digits and dashes, starting with a letter")
    if name in CATALOG:
        raise ScaffoldError(f"{name!r} is already a command (shared/commands/catalog.py)")
    if unit == "notifier":
        raise ScaffoldError(
            "the notifier runs no commands: it reports what the other units did (and may not publish). "
            "A command answered from what Slack or the ledger says is an `--unit ingress` command."
        )
    if unit not in UNITS:
        raise ScaffoldError(f"--unit must be one of {', '.join(UNITS)}")
    module = name.replace("-", "_")
    write = WRITERS[unit]
    return write(name, module)


def _ingress(name: str, module: str) -> Plan:
    use_case = f'''"""`/ops {name}`: answered by the ingress itself, within Slack's 3 seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.slack.messages import answer
from shared.slack.mrkdwn import mention

if TYPE_CHECKING:
    from chalicelib.deps import IngressDeps
    from chalicelib.models import Command
    from shared.slack.blocks import SlackMessage


def run(command: Command, deps: IngressDeps) -> SlackMessage:
    """What `/ops {name}` answers (mrkdwn: put every value through `shared.slack.mrkdwn.text`)."""
    return answer(f"`{name}` ran for {{mention(command.request.user_id)}}.")
'''
    test = f'''"""`/ops {name}` through the real ingress (signed request, access rules, parser) to its answer."""

from __future__ import annotations

from tests.support.fakes import StaticConfig
from tests.support.ingress import Ingress, message_text


def test_{module}_answers_whoever_a_rule_admits(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text('{{"command": "{name}"}}')
    status, payload = ingress.send("{name}", user_id="U0ABC")
    assert status == 200 and "`{name}` ran for <@U0ABC>." in message_text(payload)


def test_{module}_is_refused_without_a_rule(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text('{{"command": "deploy"}}')
    _, payload = ingress.send("{name}")
    assert "No one is allowed to run `{name}` yet." in message_text(payload)
'''
    files = {Path(f"ingress/chalicelib/{module}.py"): use_case, Path(f"tests/unit/ingress/test_{module}.py"): test}
    return Plan(name, "ingress", files, _declaration(name, 'handled_by="ingress"', f"chalicelib.{module}:run"))


def _deploy(name: str, module: str) -> Plan:
    use_case = f'''"""`/ops {name}`: run by the deploy service (its pipeline checked the caller: `shared.pipeline`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.slack.mrkdwn import mention

if TYPE_CHECKING:
    from services.deploy.deps import DeployDeps
    from services.deploy.models import Delivery
    from shared.pipeline import Authorized


def run(authorized: Authorized, deps: DeployDeps, delivery: Delivery) -> None:
    """What `/ops {name}` does; say how it went through the reporter (mrkdwn: escape values with `text()`)."""
    request = authorized.request
    deps.reporter.about_request(request).succeeded(f"`{name}` ran for {{mention(request.actor.user_id)}}.")
'''
    test = f'''"""`/ops {name}` delivered to the deploy service as its queue delivers it, through the one pipeline."""

from __future__ import annotations

from shared.events.models import CommandRejected, CommandSucceeded
from tests.support.deploy import MemoryDeploy, deliver, requested


def test_{module}_succeeds_for_whoever_a_rule_admits() -> None:
    deploy = MemoryDeploy(config='{{"command": "{name}"}}')
    deliver(requested("{name}", arguments={{}}), deploy.deps)
    [result] = deploy.publisher.events
    assert isinstance(result, CommandSucceeded) and "`{name}` ran for" in result.summary


def test_{module}_is_rejected_when_the_rules_no_longer_admit_the_caller() -> None:
    deploy = MemoryDeploy(config='{{"command": "deploy"}}')
    deliver(requested("{name}", arguments={{}}), deploy.deps)
    [result] = deploy.publisher.events
    assert isinstance(result, CommandRejected)
'''
    files = {Path(f"services/deploy/{module}.py"): use_case, Path(f"tests/unit/services/deploy/test_{module}.py"): test}
    return Plan(name, "deploy", files, _declaration(name, 'consumer="deploy"', f"services.deploy.{module}:run"))


def _backup(name: str, module: str) -> Plan:
    use_case = f'''"""`/ops {name} --db NAME`: run by the backup worker on one database, its caller checked."""

from __future__ import annotations

from services.backup.job import Job, Outcome
from shared.slack.mrkdwn import code


def run(job: Job) -> Outcome:
    """What `/ops {name}` does with `job.database` (`job.say` reports progress); its summary is the result."""
    return Outcome(summary=f"`{name}` ran on {{code(job.database.name)}}.")
'''
    test = f'''"""`/ops {name}` handed to the backup worker as its queue delivers it."""

from __future__ import annotations

import threading

from services.backup.consumer import Disposition, handle_message
from shared.events.models import CommandSucceeded
from tests.support.backup import backup_deps, events_of, request_message


def test_{module}_runs_on_the_database() -> None:
    deps = backup_deps()
    assert handle_message(request_message("{name}", db="orders"), deps, threading.Event()) is Disposition.DONE
    [result] = events_of(deps, CommandSucceeded)
    assert result.summary == "`{name}` ran on `orders`."
'''
    files = {Path(f"services/backup/{module}.py"): use_case, Path(f"tests/unit/services/backup/test_{module}.py"): test}
    arguments = 'arguments=(ArgumentSpec(name="db", required=True, help="the database", validator="identifier"),),'
    declaration = _declaration(name, 'consumer="backup"', f"services.backup.{module}:run", arguments)
    return Plan(name, "backup", files, declaration)


def _declaration(name: str, unit: str, runs: str, arguments: str = "") -> str:
    constant = name.replace("-", "_").upper()
    lines = [
        f"{constant} = CommandSpec(",
        f'    name="{name}",',
        f'    summary="TODO: what `{name}` does, in one line",',
        *([f"    {arguments}"] if arguments else []),
        f'    examples=("/ops {name}{" --db orders" if arguments else ""}",),',
        f"    {unit},",
        f'    runs="{runs}",',
        ")",
    ]
    return "\n".join(lines) + "\n"


WRITERS: dict[str, Callable[[str, str], Plan]] = {"ingress": _ingress, "deploy": _deploy, "backup": _backup}


def apply(planned: Plan, root: Path = REPO_ROOT) -> list[Path]:
    """Write the plan under `root`; returns every file written (derived ones included)."""
    for path in planned.files:
        if (root / path).exists():
            raise ScaffoldError(f"{path} exists already: nothing was written")
    catalog = root / CATALOG_FILE
    source = catalog.read_text()
    match = _LIST.search(source)
    if match is None:
        raise ScaffoldError(f"{CATALOG_FILE}: no `CATALOG = Catalog([...])` list (one name a line) to add it to")
    constant = planned.name.replace("-", "_").upper()
    listed = f"CATALOG = Catalog(\n    [\n{match.group('names')}        {constant},\n    ]\n)"
    source = source[: match.start()] + planned.declaration + "\n" + listed + source[match.end() :]
    catalog.write_text(source)
    for path, text in planned.files.items():
        (root / path).write_text(text)
    return [CATALOG_FILE, *planned.files]


def regenerate(root: Path = REPO_ROOT) -> list[str]:
    """The files derived from the catalog, rewritten by their own tools in a fresh interpreter (the catalog
    changed on disk); returns what each said."""
    import subprocess

    said = []
    for generator in ("routes", "manifest", "docs_pages"):
        tool = [f"tools.release.{generator}", "--write"]
        done = subprocess.run([sys.executable, "-m", *tool], cwd=root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ScaffoldError(f"python -m {' '.join(tool)} failed:\n{done.stdout}{done.stderr}")
        said.append(done.stdout.strip())
    return said


def main(argv: list[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["new"]:
        arguments = arguments[1:]  # `slashops new command ...`
    cli = argparse.ArgumentParser(prog="slashops new", description=__doc__.split("\n\n")[0])
    kinds = cli.add_subparsers(dest="kind", required=True)
    command = kinds.add_parser("command", help="a new command: declaration, use case, test")
    command.add_argument("name")
    command.add_argument("--unit", required=True, help=f"where it runs: {', '.join(UNITS)}")
    args = cli.parse_args(arguments)
    try:
        planned = plan(args.name, args.unit)
        written = apply(planned)
        regenerate()
    except ScaffoldError as error:
        print(f"slashops new command: {error}", file=sys.stderr)
        return 1
    print(f"`/ops {planned.name}` is declared and runs in the {planned.unit} unit. Written:")
    for path in written:
        print(f"  {path}")
    print("  (and regenerated: infra/bus.yaml, infra/slack-app-manifest.yaml, docs/users.md)")
    print("Next: the summary and arguments in its declaration, the use case's body, its test; then make lint unit.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
