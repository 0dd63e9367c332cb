"""Redeliveries, replays and crashes never start a second build, and never lose the first."""

from __future__ import annotations

import time

from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.deploy.deps import DeployDeps
from services.deploy.handler import handle_batch
from services.deploy.models import Delivery
from shared.events.models import CommandFailed, CommandProgress, CommandSucceeded
from tests.support.deploy import Clock, deliver_follows, requested, stale_claim, start_deploy
from tests.support.events import eventbridge_body, sqs_batch
from tests.support.fakes import RecordingPublisher
from tests.support.fakes.deploy import MemoryScheduler
from tools.fakes.jenkins import FakeJenkins


def test_same_sqs_message_twice_starts_one_build(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    event = requested()
    batch = sqs_batch(("m-1", eventbridge_body(event)))

    assert handle_batch(batch, None, deps) == {"batchItemFailures": []}
    assert handle_batch(batch, None, deps) == {"batchItemFailures": []}
    deliver_follows(deps, scheduler)

    assert len(jenkins.triggered_for("SLASHOPS_COMMAND_ID", event.command_id)) == 1
    assert len(jenkins.triggered) == 1
    assert sum(isinstance(e, CommandSucceeded) for e in publisher.events) == 1


def test_same_event_in_one_batch_twice_starts_one_build(deps: DeployDeps, jenkins: FakeJenkins) -> None:
    body = eventbridge_body(requested())

    response = handle_batch(sqs_batch(("m-1", body), ("m-2", body)), None, deps)

    assert response == {"batchItemFailures": []}
    assert len(jenkins.triggered) == 1


def test_replay_after_the_build_finished_starts_nothing(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    event = requested()
    start_deploy(event, deps)
    deliver_follows(deps, scheduler)
    events_before = len(publisher.events)

    start_deploy(event, deps)

    assert len(jenkins.triggered) == 1
    assert len(publisher.events) == events_before
    assert scheduler.scheduled == []


def test_crash_after_claiming_is_recovered_with_exactly_one_build(
    deps: DeployDeps,
    store: DynamoClaimStore,
    jenkins: FakeJenkins,
    scheduler: MemoryScheduler,
    publisher: RecordingPublisher,
    clock: Clock,
) -> None:
    event = requested()
    assert store.create(stale_claim(event, clock)) is None

    start_deploy(event, deps, Delivery(receive_count=2))
    deliver_follows(deps, scheduler)

    assert len(jenkins.triggered_for("SLASHOPS_COMMAND_ID", event.command_id)) == 1
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_crash_after_triggering_adopts_the_build_instead_of_starting_another(
    deps: DeployDeps,
    store: DynamoClaimStore,
    jenkins: FakeJenkins,
    scheduler: MemoryScheduler,
    publisher: RecordingPublisher,
    clock: Clock,
) -> None:
    event = requested()
    claim = stale_claim(event, clock)
    assert store.create(claim) is None
    jenkins.polls_before_start = 0  # the crashed attempt's build is already running
    deps.jenkins.trigger(claim.job, claim.parameters)

    start_deploy(event, deps, Delivery(receive_count=2))
    deliver_follows(deps, scheduler)

    assert len(jenkins.triggered) == 1
    started = [e for e in publisher.events if isinstance(e, CommandProgress)]
    assert started and "#1" in started[0].message
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_crash_after_triggering_while_still_queued_adopts_the_queue_item(
    deps: DeployDeps,
    store: DynamoClaimStore,
    jenkins: FakeJenkins,
    scheduler: MemoryScheduler,
    publisher: RecordingPublisher,
    clock: Clock,
) -> None:
    event = requested()
    claim = stale_claim(event, clock)
    assert store.create(claim) is None
    jenkins.polls_before_start = 3
    deps.jenkins.trigger(claim.job, claim.parameters)

    start_deploy(event, deps, Delivery(receive_count=2))
    deliver_follows(deps, scheduler)

    assert len(jenkins.triggered) == 1
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_a_fresh_claim_defers_the_duplicate_to_sqs_without_triggering(
    deps: DeployDeps, store: DynamoClaimStore, jenkins: FakeJenkins, clock: Clock
) -> None:
    event = requested()
    assert store.create(stale_claim(event, clock, claimed_at=int(clock.now) - 5)) is None

    response = handle_batch(sqs_batch(("m-9", eventbridge_body(event)), receive_count=2), None, deps)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-9"}]}
    assert jenkins.requests == []


def test_trigger_timeout_that_still_queued_the_build_is_adopted_on_redelivery(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    event = requested()
    batch = sqs_batch(("m-1", eventbridge_body(event)))
    jenkins.slow(1.0, path="buildWithParameters")  # longer than the adapter's 0.5 s timeout

    assert handle_batch(batch, None, deps) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    deadline = time.monotonic() + 5
    while not jenkins.triggered and time.monotonic() < deadline:  # the slow request completes server-side
        time.sleep(0.05)
    assert (
        handle_batch(sqs_batch(("m-1", eventbridge_body(event)), receive_count=2), None, deps)["batchItemFailures"]
        == []
    )
    deliver_follows(deps, scheduler)

    assert len(jenkins.triggered) == 1
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_duplicate_follow_message_does_not_fork_the_chain(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_finish = 2
    start_deploy(requested(), deps)
    first = scheduler.scheduled[0][0]
    scheduler.scheduled.append((first, 5))  # SQS delivered the follow message twice

    deliver_follows(deps, scheduler)

    assert sum(isinstance(e, CommandSucceeded) for e in publisher.events) == 1
    assert sum(isinstance(e, CommandProgress) and "started" in e.message for e in publisher.events) == 1


def test_an_old_request_that_never_ran_is_reported_not_run(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher, clock: Clock
) -> None:
    event = requested()
    clock.now = event.requested_at.timestamp() + deps.settings.max_request_age_seconds + 60

    start_deploy(event, deps)

    [failed] = publisher.events
    assert isinstance(failed, CommandFailed) and "too old" in failed.reason
    assert jenkins.requests == []


def test_an_old_replay_of_a_deploy_that_ran_starts_nothing(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher, clock: Clock
) -> None:
    event = requested()
    clock.now = event.requested_at.timestamp()
    start_deploy(event, deps)
    deliver_follows(deps, scheduler)
    events_before = len(publisher.events)
    clock.now += deps.settings.max_request_age_seconds * 5

    start_deploy(event, deps)

    assert len(jenkins.triggered) == 1 and len(publisher.events) == events_before
