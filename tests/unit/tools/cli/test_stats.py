"""`slashops stats`: the dashboard's figures from the ledger — the same counts the notifier emits as metrics."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest

from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.events.models import AnyEvent
from tests.support.clock import Clock
from tests.support.events import (
    accepted,
    approval_decided,
    approval_requested,
    approved_by,
    at,
    cancelled,
    failed,
    refused,
    rejected,
    succeeded,
)
from tests.support.events import command_requested as requested
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.metrics import RecordingMetrics
from tests.support.fakes.slack import RecordingSlack
from tools.cli import stats
from tools.cli.stats import COLUMNS, percentile, render, tally

METRIC_OF = {
    "requested": "Requested",
    "refused": "Refused",
    "held": "HeldForApproval",
    "started": "Started",
    "succeeded": "Succeeded",
    "failed": "Failed",
    "cancelled": "Cancelled",
    "rejected": "Rejected",
}


def _backup(*events: AnyEvent) -> list[AnyEvent]:
    return [event.model_copy(update={"command": "backup"}) for event in events]


DAY: list[AnyEvent] = [
    requested("d1"), accepted("d1"), succeeded("d1"),  # a deploy that ran 300.5 s
    requested("d2"), accepted("d2"), failed("d2"),
    requested("d3"), accepted("d3"), cancelled("d3", duration=95.0),
    requested("d4"), rejected("d4"),
    approval_requested("h1"), approval_decided("h1", "approved"), requested("h1", approval=approved_by()),
    accepted("h1", minute=6), succeeded("h1", minute=9),
    approval_requested("h2"), approval_decided("h2", "denied"),
    requested("b1", command="backup", arguments={"db": "orders"}), *_backup(accepted("b1"), succeeded("b1")),
    refused("r1", decision="not allowed"),
    refused("r2", command="deploi", decision="unknown command"),
    refused("r3", command="backup", decision="invalid arguments"),
]  # fmt: skip


@pytest.fixture
def recorded() -> tuple[InMemoryLedger, RecordingMetrics]:
    """A day of commands through the notifier: the ledger it keeps, and the metrics it emitted."""
    ledger, metrics = InMemoryLedger(), RecordingMetrics()
    deps = NotifierDeps(ledger=ledger, slack=RecordingSlack(), now=Clock(at(10)), metrics=metrics)
    for event in DAY:
        handle_event(event, deps)
    return ledger, metrics


def test_the_figures_from_the_ledger_are_the_metrics_the_notifier_emitted(
    recorded: tuple[InMemoryLedger, RecordingMetrics],
) -> None:
    ledger, metrics = recorded
    figures = tally(ledger, since=at(-60))
    for command, one in figures.items():
        for column in COLUMNS:
            assert one.counts[column] == metrics.total(METRIC_OF[column], Command=command), (command, column)
    assert sorted(figures) == ["backup", "deploy", "unknown"]
    deploy = figures["deploy"]
    assert [deploy.counts[c] for c in COLUMNS] == [5, 1, 2, 4, 2, 1, 1, 1]
    assert sorted(deploy.durations) == [95.0, 300.5, 300.5]
    assert figures["unknown"].refused_by_reason == {"unknown command": 1}


def test_the_window_leaves_older_commands_out(recorded: tuple[InMemoryLedger, RecordingMetrics]) -> None:
    ledger, _ = recorded
    assert tally(ledger, since=at(1)) == {}


def test_the_table_has_a_row_per_command_a_total_and_the_refusals_by_reason(
    recorded: tuple[InMemoryLedger, RecordingMetrics],
) -> None:
    ledger, _ = recorded
    lines = render(tally(ledger, since=at(-60)), since=at(-60), now=at(10))
    assert lines[1].split() == ["command", *COLUMNS, "p50", "s", "p90", "s"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:-1]}
    assert rows["deploy"] == ["5", "1", "2", "4", "2", "1", "1", "1", "300", "300"]
    assert rows["backup"] == ["1", "1", "0", "1", "1", "0", "0", "0", "300", "300"]
    assert rows["total"][:2] == ["6", "3"]
    assert lines[-1] == "refused by reason: invalid arguments 1, not allowed 1, unknown command 1"


def test_an_empty_window_says_so() -> None:
    assert render({}, since=at(0), now=at(60))[1] == "nothing was requested in this window"


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 11)]
    assert (percentile(values, 0.5), percentile(values, 0.9), percentile([], 0.5)) == (5.0, 9.0, None)


def test_main_reads_the_ledger_it_is_pointed_at(
    recorded: tuple[InMemoryLedger, RecordingMetrics], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, _ = recorded
    monkeypatch.setattr(stats, "_ledger", lambda target: ledger)
    out = io.StringIO()
    assert stats.main(["--since", "2h"], out=out, now=at(10) + timedelta(minutes=30)) == 0
    assert "deploy" in out.getvalue() and "refused by reason:" in out.getvalue()


def test_a_bad_window_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert stats.main(["--since", "yesterday"], out=io.StringIO()) == 1
    assert capsys.readouterr().err.startswith("slashops stats: 'yesterday': not a time")
