"""What the system does, as CloudWatch metrics: per command (from the events the notifier records in the ledger) and
per unit (errors and redeliveries of the queue consumers).

Domain code builds `Emission`s (pure) and hands them to a `MetricsPort`; the one real adapter, `EmfMetrics`, prints
each as a CloudWatch embedded-metric-format (EMF) line on stdout, which CloudWatch Logs turns into metrics — no API
call, nothing to wait on. Every dimension value is bounded (a catalog command name, a refusal decision, a unit name):
never free text, so the number of series stays fixed. Names and meanings: docs/operations.md "Metrics and dashboard".

Each emission carries an aggregate dimension set with no dimension at all (`Failed` over every command: the
failure-rate alarm reads it) beside the detailed ones (`Failed` by `Command`).
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from shared.events.models import (
    ApprovalRequested,
    CommandAccepted,
    CommandCancelled,
    CommandFailed,
    CommandRefused,
    CommandRejected,
    CommandRequested,
    CommandSucceeded,
    Event,
)

logger = logging.getLogger(__name__)

NAMESPACE = "slashops"
COMMAND = "Command"
REASON = "Reason"
UNIT = "Unit"
UNKNOWN_COMMAND = "unknown"
"""The `Command` of a refusal whose text named no command of the catalog (what was typed is never a dimension)."""

Unit = Literal["Count", "Seconds"]

COMMAND_COUNTS: Mapping[type[Event], str] = {
    CommandRequested: "Requested",
    CommandRefused: "Refused",
    ApprovalRequested: "HeldForApproval",
    CommandAccepted: "Started",
    CommandSucceeded: "Succeeded",
    CommandFailed: "Failed",
    CommandCancelled: "Cancelled",
    CommandRejected: "Rejected",
}
"""The event the ledger recorded → the count it adds one to. `Rejected`: a consumer refused it (locked, frozen)."""
DURATION = "Duration"
UNIT_COUNTS = ("Errors", "Retries")


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: Unit = "Count"


@dataclass(frozen=True)
class Emission:
    """Metrics that share their dimensions: one EMF line, published under each of `dimension_sets` (`{}`: none)."""

    metrics: tuple[Metric, ...]
    dimension_sets: tuple[Mapping[str, str], ...] = field(default_factory=lambda: ({},))


class MetricsPort(Protocol):
    """Where emissions go: stdout as EMF in AWS and under `make run` (`EmfMetrics`), a list in tests."""

    def emit(self, emission: Emission) -> None: ...


def command_emission(event: Event, *, known_commands: Container[str] | None = None) -> Emission | None:
    """The count (and, for a finished command, its `Duration`) an event adds once the ledger recorded it; None for an
    event that counts nothing (progress, reminders, decisions). `known_commands`: the catalog's names, so a refusal
    of something that is no command is counted under `unknown` (None: the catalog's)."""
    name = COMMAND_COUNTS.get(type(event))
    if name is None:
        return None
    if known_commands is None:
        from shared.commands.catalog import CATALOG

        known_commands = CATALOG
    command = event.command
    if command not in known_commands:
        command = UNKNOWN_COMMAND
    metrics = [Metric(name, 1)]
    duration = getattr(event, "duration_seconds", None)
    if isinstance(event, CommandSucceeded | CommandFailed | CommandCancelled) and duration is not None:
        metrics.append(Metric(DURATION, float(duration), "Seconds"))
    if isinstance(event, CommandRefused):
        return Emission(
            tuple(metrics),
            ({}, {COMMAND: command}, {REASON: event.decision}, {COMMAND: command, REASON: event.decision}),
        )
    return Emission(tuple(metrics), ({}, {COMMAND: command}))


def unit_emission(unit: str, name: Literal["Errors", "Retries"]) -> Emission:
    """One unexpected failure (`Errors`) or one redelivered message (`Retries`) of a unit's queue consumer."""
    return Emission((Metric(name, 1),), ({}, {UNIT: unit}))


class EmfMetrics:
    """Prints each emission as one CloudWatch EMF line on stdout (Powertools' EMF provider); no API call.

    Namespace `slashops` (as the scheduled-backup and lost-notification metrics). Powertools' implicit `service`
    dimension is switched off: the dimensions are exactly the emission's, which the dashboard and alarms name.
    """

    def __init__(self, namespace: str = NAMESPACE) -> None:
        self._namespace = namespace

    def emit(self, emission: Emission) -> None:
        from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

        provider = AmazonCloudWatchEMFProvider(namespace=self._namespace, service="")
        for metric in emission.metrics:
            provider.add_metric(name=metric.name, unit=metric.unit, value=metric.value)
        primary, *others = emission.dimension_sets or ({},)
        for name, value in primary.items():
            provider.add_dimension(name=name, value=value)
        for dimensions in others:
            provider.add_dimensions(**dimensions)
        provider.flush_metrics()


def emit_quietly(metrics: MetricsPort, emission: Emission | None) -> None:
    """Counting never costs the command: a metric that cannot be written is dropped (and says so in the logs)."""
    if emission is None:
        return
    try:
        metrics.emit(emission)
    except Exception as error:  # a bad value or an EMF schema error: the event itself was handled
        logger.warning("metric not written: %s: %s", type(error).__name__, error)
