"""Which consumer receives which command: derived from the catalog's `CommandSpec.consumer`, and nowhere else.

The bus rules (`infra/bus.yaml`, checked and written by `python -m tools.release.routes`), `make run`'s runners and the
tests all read this, so a command declared for a consumer is routed to that consumer's queue or a test fails.
Pure: no AWS, no files.
"""

from __future__ import annotations

from typing import Any

from shared.commands.catalog import CATALOG, Catalog
from shared.events.models import INGRESS_SOURCE, CommandRequested


def routes(catalog: Catalog = CATALOG) -> dict[str, list[str]]:
    """`{consumer: [command, ...]}` for every command published to the bus, both in declaration order."""
    routed: dict[str, list[str]] = {}
    for command in catalog:
        if command.handled_by == "event" and command.consumer:
            routed.setdefault(command.consumer, []).append(command.name)
    return routed


def event_pattern(commands: list[str]) -> dict[str, Any]:
    """The EventBridge pattern of a consumer's rule: the ingress' `CommandRequested` for these commands only.

    `source` is restricted to the ingress so that a consumer (which may publish only as itself) cannot make
    another consumer run a command.
    """
    return {
        "source": [INGRESS_SOURCE],
        "detail-type": [CommandRequested.detail_type],
        "detail": {"command": list(commands)},
    }


def rule_patterns(catalog: Catalog = CATALOG) -> dict[str, dict[str, Any]]:
    """`{consumer: event pattern}`: what each consumer rule on the bus must say."""
    return {consumer: event_pattern(commands) for consumer, commands in routes(catalog).items()}
