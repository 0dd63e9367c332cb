"""Keep `infra/bus.yaml`'s consumer rules equal to the catalog's routing (`shared/commands/routing.py`).

`bus.yaml` stays a static template (cfn-lint, `aws cloudformation deploy` and `make run` read it as is), so
the routing it states is checked against the catalog, and its `detail.command` lists can be rewritten from it:

    python -m tools.release.routes           # exit 1 and say what differs
    python -m tools.release.routes --write   # rewrite each consumer rule's `command: [...]` line (`make routes`)

Consumer `<name>` owns the resources `<Name>Rule`, `<Name>Queue`, `<Name>DeadLetterQueue` and the outputs
`<Name>QueueUrl` / `<Name>QueueArn` (`<Name>` is `logical_name(name)`); `--write` never creates them.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from shared.commands.routing import event_pattern, routes
from tools.release.stacks import BUS_TEMPLATE, load_template

LISTENERS = ("notifier",)
"""Consumers with a queue on the bus that the catalog does not route commands to: the notifier takes every event."""


def logical_name(consumer: str) -> str:
    """`deploy` -> `Deploy`, `cdn-purge` -> `CdnPurge`: the prefix of the consumer's logical ids and outputs."""
    return "".join(part.capitalize() for part in re.split(r"[-_]", consumer))


def problems(template: dict[str, Any], routing: dict[str, list[str]]) -> list[str]:
    """Every way the template's command rules differ from `routing` (`{consumer: [command, ...]}`); [] if none."""
    resources: dict[str, Any] = template.get("Resources", {})
    found: list[str] = []
    expected_rules = set()
    for consumer, commands in routing.items():
        name = logical_name(consumer)
        expected_rules.add(f"{name}Rule")
        found += _consumer_problems(resources, consumer, name, commands)
    for logical_id, resource in resources.items():
        if _is_command_rule(resource) and logical_id not in expected_rules:
            commands = resource["Properties"]["EventPattern"]["detail"]["command"]
            found.append(
                f"{logical_id} routes {commands} to a consumer no command in shared/commands/catalog.py names: "
                "remove the rule, or declare those commands with that consumer"
            )
    return found


def _consumer_problems(resources: dict[str, Any], consumer: str, name: str, commands: list[str]) -> list[str]:
    missing = [f"{name}{kind}" for kind in ("Rule", "Queue", "DeadLetterQueue") if f"{name}{kind}" not in resources]
    if missing:
        return [
            f"consumer {consumer!r} (commands {commands}) has no {', '.join(missing)} in infra/bus.yaml: "
            "add its queue, DLQ, rule, queue policy, alarm and outputs (infra/README.md, 'Add a command or a consumer')"
        ]
    rule = resources[f"{name}Rule"]["Properties"]
    found = []
    if rule.get("EventPattern") != event_pattern(commands):
        found.append(
            f"{name}Rule's EventPattern is {json.dumps(rule.get('EventPattern'))} but the catalog routes "
            f"{commands} to {consumer!r}: run `make routes`"
        )
    targets = [target.get("Arn") for target in rule.get("Targets", [])]
    if targets != [{"Fn::GetAtt": [f"{name}Queue", "Arn"]}]:
        found.append(f"{name}Rule must target only {name}Queue, not {targets}")
    return found


def _is_command_rule(resource: dict[str, Any]) -> bool:
    """A rule that routes `CommandRequested` by `detail.command` (the notifier's rule takes everything)."""
    if resource.get("Type") != "AWS::Events::Rule":
        return False
    pattern = resource.get("Properties", {}).get("EventPattern", {})
    return isinstance(pattern.get("detail"), dict) and "command" in pattern["detail"]


def write(text: str, routing: dict[str, list[str]]) -> str:
    """`text` with each routed consumer rule's `command: [...]` line set to its catalog commands, nothing else."""
    for consumer, commands in routing.items():
        text = _write_rule(text, f"{logical_name(consumer)}Rule", commands)
    return text


def _write_rule(text: str, logical_id: str, commands: list[str]) -> str:
    block = re.search(rf"^  {logical_id}:\n(?:(?:    .*)?\n)+", text, flags=re.MULTILINE)
    if block is None:
        return text  # no rule to rewrite: `problems` says what to add
    line = re.compile(r"^(\s+command: )\[.*\]$", flags=re.MULTILINE)
    rewritten, count = line.subn(rf"\g<1>{json.dumps(commands)}", block.group(0))
    if count != 1:
        raise ValueError(f"{logical_id} in infra/bus.yaml has {count} `command: [...]` lines, not one")
    return text[: block.start()] + rewritten + text[block.end() :]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="rewrite the command lists in infra/bus.yaml")
    parser.add_argument("--template", type=Path, default=BUS_TEMPLATE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    routing = routes()
    text = args.template.read_text()
    if args.write:
        written = write(text, routing)
        if written != text:
            args.template.write_text(written)
            print(f"rewrote the consumer rules' command lists in {args.template}")
        text = written
    found = problems(load_template(text), routing)
    for problem in found:
        print(problem, file=sys.stderr)
    if not found:
        root = BUS_TEMPLATE.parent.parent
        shown = args.template.relative_to(root) if args.template.is_relative_to(root) else args.template
        print(f"{shown}'s consumer rules are up to date with the catalog")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
