"""Per-command metrics: each event the ledger records adds its count once, under bounded dimensions."""

from __future__ import annotations

import json

import pytest

from services.notifier.announcing import PARENT_LEASE
from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from services.notifier.errors import SlackUnavailableError
from shared.metrics import EmfMetrics
from tests.support.clock import Clock
from tests.support.events import (
    accepted,
    approval_requested,
    cancelled,
    failed,
    progress,
    refused,
    rejected,
    reply_to,
    succeeded,
)
from tests.support.events import command_requested as requested
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.fakes.metrics import RecordingMetrics
from tests.support.fakes.slack import RecordingSlack


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture
def deps(ledger: InMemoryLedger, slack: RecordingSlack, clock: Clock, metrics: RecordingMetrics) -> NotifierDeps:
    return NotifierDeps(ledger=ledger, slack=slack, now=clock, metrics=metrics)


def test_a_deploy_that_succeeds_counts_requested_started_succeeded_and_its_duration(
    deps: NotifierDeps, metrics: RecordingMetrics
) -> None:
    for event in (requested(), accepted(), progress("Building"), succeeded()):
        handle_event(event, deps)
    assert metrics.counts() == {
        ("Requested", ()): 1,
        ("Requested", (("Command", "deploy"),)): 1,
        ("Started", ()): 1,
        ("Started", (("Command", "deploy"),)): 1,
        ("Succeeded", ()): 1,
        ("Succeeded", (("Command", "deploy"),)): 1,
        ("Duration", ()): 300.5,
        ("Duration", (("Command", "deploy"),)): 300.5,
    }
    [duration] = [m for e in metrics.emissions for m in e.metrics if m.name == "Duration"]
    assert duration.unit == "Seconds"


def test_failed_cancelled_and_rejected_count_apart(deps: NotifierDeps, metrics: RecordingMetrics) -> None:
    handle_event(failed("c1"), deps)
    handle_event(cancelled("c2", duration=95.0), deps)
    handle_event(rejected("c3"), deps)
    assert metrics.total("Failed", Command="deploy") == 1
    assert metrics.total("Cancelled", Command="deploy") == 1
    assert metrics.total("Rejected", Command="deploy") == 1
    assert metrics.total("Duration", Command="deploy") == 95.0  # the failure carried no duration
    assert metrics.total("Succeeded") == 0


def test_a_redelivered_or_late_result_is_not_counted_again(deps: NotifierDeps, metrics: RecordingMetrics) -> None:
    handle_event(succeeded(), deps)
    handle_event(succeeded(), deps)  # the same event delivered twice
    handle_event(failed(minute=6), deps)  # too late: the first terminal event won
    assert metrics.total("Succeeded") == 1 and metrics.total("Failed") == 0


def test_a_refusal_counts_under_its_decision_and_never_under_what_was_typed(
    deps: NotifierDeps, metrics: RecordingMetrics
) -> None:
    handle_event(refused("r1", decision="not allowed"), deps)
    handle_event(refused("r1", decision="not allowed"), deps)  # a replay: recorded once, counted once
    handle_event(refused("r2", command="drop-all-tables-now", decision="unknown command"), deps)
    assert metrics.total("Refused") == 2
    assert metrics.total("Refused", Command="deploy", Reason="not allowed") == 1
    assert metrics.total("Refused", Reason="unknown command") == 1
    assert metrics.total("Refused", Command="unknown", Reason="unknown command") == 1
    dimension_values = {v for e in metrics.emissions for d in e.dimension_sets for v in d.values()}
    assert "drop-all-tables-now" not in dimension_values


def test_a_held_command_counts_once_even_when_its_approval_message_is_retried(
    deps: NotifierDeps, metrics: RecordingMetrics, slack: RecordingSlack, clock: Clock
) -> None:
    slack.post_errors["C0123"] = SlackUnavailableError("Slack answered 503")
    with pytest.raises(SlackUnavailableError):
        handle_event(approval_requested(reply_to=reply_to()), deps)
    del slack.post_errors["C0123"]
    clock.now += PARENT_LEASE * 2
    assert handle_event(approval_requested(reply_to=reply_to()), deps) == "channel"  # SQS delivers it again
    assert metrics.total("HeldForApproval", Command="deploy") == 1


def test_the_emf_line_names_the_namespace_the_dimensions_and_the_values(
    ledger: InMemoryLedger, slack: RecordingSlack, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    handle_event(failed(), NotifierDeps(ledger=ledger, slack=slack, now=clock, metrics=EmfMetrics()))
    [line] = [json.loads(out) for out in capsys.readouterr().out.splitlines() if '"_aws"' in out]
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "slashops"
    assert directive["Dimensions"] == [[], ["Command"]]
    assert directive["Metrics"] == [{"Name": "Failed", "Unit": "Count"}]
    assert line["Command"] == "deploy" and line["Failed"] == [1.0]
    assert "service" not in line  # Powertools' implicit dimension would hide the series the dashboard names
