"""`deploy` on the in-memory ports: one build per command id through duplicates, crashes and Jenkins outages."""

from __future__ import annotations

import pytest

from services.deploy.deps import DeploySettings
from services.deploy.errors import ClaimBusyError, JenkinsAuthError, JenkinsUnavailableError
from services.deploy.models import Delivery
from shared.events.models import CommandFailed, CommandProgress, CommandRejected, CommandSucceeded
from tests.support.deploy import MemoryDeploy, requested, stale_claim, start_deploy
from tests.support.incidents import incident_shown, logged_detail


def _kinds(deploy: MemoryDeploy) -> list[str]:
    return [type(event).__name__ for event in deploy.publisher.events]


def test_a_deploy_claims_triggers_once_reports_queued_and_is_followed_to_success() -> None:
    deploy, event = MemoryDeploy(), requested()

    start_deploy(event, deploy.deps)
    steps = deploy.follow_all()

    assert deploy.jenkins.triggered == [
        ("deploy-acme", {"BRANCH": "main", "ENV": "staging", "SLASHOPS_COMMAND_ID": event.command_id})
    ]
    assert _kinds(deploy) == ["CommandProgress", "CommandProgress", "CommandSucceeded"]
    assert steps == 4  # queue: waiting, started; build: running, finished
    claim = deploy.store.get(event.command_id)
    assert claim is not None and (claim.state, claim.result, claim.build_number) == ("finished", "SUCCESS", 1)


def test_a_duplicate_delivery_of_a_queued_deploy_only_re_arms_following() -> None:
    deploy, event = MemoryDeploy(), requested()
    start_deploy(event, deploy.deps)

    start_deploy(event, deploy.deps, Delivery(message_id="m-2", receive_count=2))

    assert len(deploy.jenkins.triggered) == 1 and len(deploy.scheduler.scheduled) == 2
    deploy.follow_all()
    assert _kinds(deploy).count("CommandSucceeded") == 1


def test_a_replay_of_a_finished_deploy_does_nothing() -> None:
    deploy, event = MemoryDeploy(), requested()
    start_deploy(event, deploy.deps)
    deploy.follow_all()
    published = len(deploy.publisher.events)

    start_deploy(event, deploy.deps)

    assert len(deploy.jenkins.triggered) == 1 and len(deploy.publisher.events) == published
    assert deploy.scheduler.scheduled == []


def test_a_fresh_claim_defers_the_duplicate_to_sqs() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.store.create(stale_claim(event, deploy.clock, claimed_at=int(deploy.clock.now) - 5))

    with pytest.raises(ClaimBusyError):
        start_deploy(event, deploy.deps, Delivery(receive_count=2))

    assert deploy.jenkins.calls == [] and deploy.publisher.events == []


def test_a_stale_claim_with_no_build_in_jenkins_is_taken_over_and_triggered_once() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.store.create(stale_claim(event, deploy.clock))

    start_deploy(event, deploy.deps, Delivery(receive_count=2))
    deploy.follow_all()

    assert deploy.jenkins.calls[:2] == ["find", "trigger"]
    assert len(deploy.jenkins.triggered) == 1 and _kinds(deploy)[-1] == "CommandSucceeded"
    claim = deploy.store.get(event.command_id)
    assert claim is not None and claim.claim_token == "token-2"  # token-1 was the unused new claim's


def test_a_stale_claim_whose_build_is_running_adopts_it_without_triggering() -> None:
    deploy, event = MemoryDeploy(), requested()
    crashed = stale_claim(event, deploy.clock)
    deploy.store.create(crashed)
    deploy.jenkins.polls_before_start = 0
    deploy.jenkins.trigger(crashed.job, crashed.parameters)  # the crashed attempt's build
    deploy.jenkins.calls.clear()

    start_deploy(event, deploy.deps, Delivery(receive_count=2))
    deploy.follow_all()

    assert "trigger" not in deploy.jenkins.calls and len(deploy.jenkins.triggered) == 1
    started = deploy.publisher.events[0]
    assert isinstance(started, CommandProgress) and "Build #1" in started.message and started.link is not None
    assert isinstance(deploy.publisher.events[-1], CommandSucceeded)


def test_a_stale_claim_whose_build_is_still_queued_adopts_the_queue_item() -> None:
    deploy, event = MemoryDeploy(), requested()
    crashed = stale_claim(event, deploy.clock)
    deploy.store.create(crashed)
    deploy.jenkins.polls_before_start = 3
    queue_id = deploy.jenkins.trigger(crashed.job, crashed.parameters)

    start_deploy(event, deploy.deps, Delivery(receive_count=2))

    claim = deploy.store.get(event.command_id)
    assert claim is not None and (claim.state, claim.queue_id) == ("queued", queue_id)
    deploy.follow_all()
    assert len(deploy.jenkins.triggered) == 1 and _kinds(deploy)[-1] == "CommandSucceeded"


def test_a_recoverer_that_loses_the_take_over_race_defers_without_triggering() -> None:
    deploy, event = MemoryDeploy(), requested()
    crashed = stale_claim(event, deploy.clock)
    deploy.store.create(crashed)
    real_find = deploy.jenkins.find

    def find_while_another_recovers(job: str, parameter: str, value: str) -> object:
        deploy.store.records[event.command_id] = crashed.model_copy(update={"claim_token": "the-other-recoverer"})
        return real_find(job, parameter, value)

    deploy.jenkins.find = find_while_another_recovers  # type: ignore[method-assign,assignment]

    with pytest.raises(ClaimBusyError):
        start_deploy(event, deploy.deps, Delivery(receive_count=2))
    assert deploy.jenkins.triggered == []


def test_jenkins_unavailable_then_recovered_builds_once() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.jenkins.fail("trigger", lambda: JenkinsUnavailableError("Jenkins answered HTTP 503"))

    with pytest.raises(JenkinsUnavailableError):
        start_deploy(event, deploy.deps, Delivery(receive_count=1))
    stale = deploy.store.get(event.command_id)
    start_deploy(event, deploy.deps, Delivery(receive_count=2))  # no lease wait: the claim was marked stale
    deploy.follow_all()

    assert stale is not None and stale.claimed_at == 0
    assert len(deploy.jenkins.triggered) == 1 and _kinds(deploy)[-1] == "CommandSucceeded"


def test_jenkins_unavailable_on_every_attempt_is_reported_once_after_the_last() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.jenkins.fail("", lambda: JenkinsUnavailableError("Jenkins answered HTTP 503"), times=None)

    for count in (1, 2):
        with pytest.raises(JenkinsUnavailableError):
            start_deploy(event, deploy.deps, Delivery(receive_count=count))
    start_deploy(event, deploy.deps, Delivery(receive_count=3))  # max_trigger_attempts

    [failed] = deploy.publisher.events
    assert isinstance(failed, CommandFailed) and failed.retryable and "gave up after retrying" in failed.reason
    claim = deploy.store.get(event.command_id)
    assert claim is not None and (claim.state, claim.result) == ("finished", "JenkinsUnavailableError")


def test_the_queues_last_delivery_reports_even_with_trigger_attempts_left() -> None:
    """maxReceiveCount below the trigger attempts: the last delivery must report, not vanish into the DLQ."""
    deploy = MemoryDeploy(settings=DeploySettings(max_trigger_attempts=5, max_receive_count=2))
    event = requested()
    deploy.jenkins.fail("", lambda: JenkinsUnavailableError("Jenkins answered HTTP 503"), times=None)

    start_deploy(event, deploy.deps, Delivery(receive_count=2, last_attempt=True))

    [failed] = deploy.publisher.events
    assert isinstance(failed, CommandFailed) and failed.retryable


def test_refused_credentials_fail_at_once_saying_what_to_fix(caplog: pytest.LogCaptureFixture) -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.jenkins.fail("trigger", lambda: JenkinsAuthError("Jenkins refused the request (HTTP 401)"))

    start_deploy(event, deploy.deps)

    [failed] = deploy.publisher.events
    assert isinstance(failed, CommandFailed) and not failed.retryable
    incident = incident_shown(failed.reason, "JENKINS_USER", "JENKINS_SECRET_ID")  # the channel sees no names
    record = logged_detail(caplog, incident, "API token", "JENKINS_USER/JENKINS_API_TOKEN")
    assert getattr(record, "command_id", None) == event.command_id


def test_a_request_too_old_to_run_is_reported_not_run() -> None:
    deploy, event = MemoryDeploy(), requested()
    deploy.clock.now = event.requested_at.timestamp() + deploy.settings.max_request_age_seconds + 60

    start_deploy(event, deploy.deps)

    [failed] = deploy.publisher.events
    assert isinstance(failed, CommandFailed) and "too old" in failed.reason and deploy.jenkins.calls == []


def test_an_unknown_client_is_rejected_before_any_claim() -> None:
    deploy = MemoryDeploy()
    start_deploy(requested(arguments={"client": "umbrella", "branch": "main"}), deploy.deps)
    [rejected] = deploy.publisher.events
    assert isinstance(rejected, CommandRejected) and "acme, globex, initech" in rejected.hint
    assert deploy.store.records == {} and deploy.jenkins.calls == []
