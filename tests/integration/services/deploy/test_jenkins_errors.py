"""Jenkins failures are classified: fix-it failures at once, transient ones retried with backoff, then reported."""

from __future__ import annotations

import pytest

from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
from services.deploy.deps import DeployDeps
from services.deploy.following import follow
from services.deploy.handler import handle_batch
from services.deploy.models import Delivery
from shared.errors import ConfigurationError
from shared.events.models import CommandFailed, CommandSucceeded
from tests.support.deploy import Clock, deliver_follows, requested, start_deploy
from tests.support.events import eventbridge_body, sqs_batch
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryScheduler
from tests.support.incidents import incident_shown, logged_detail
from tools.fakes.jenkins import FakeJenkins
from tools.local.aws import free_port


def _only_failure(publisher: RecordingPublisher) -> CommandFailed:
    [failed] = publisher.events
    assert isinstance(failed, CommandFailed)
    return failed


def test_wrong_api_token_fails_at_once_saying_what_to_fix(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    deps.jenkins = PythonJenkinsAdapter(jenkins.url, lambda: (jenkins.user, "wrong-token"), timeout=0.5)

    response = handle_batch(sqs_batch(("m-1", eventbridge_body(requested()))), None, deps)

    assert response == {"batchItemFailures": []}
    failed = _only_failure(publisher)
    assert "401" in failed.reason and not failed.retryable
    incident = incident_shown(failed.reason, "JENKINS_USER", "JENKINS_SECRET_ID")
    logged_detail(caplog, incident, "401", "API token", "JENKINS_USER/JENKINS_API_TOKEN")
    assert jenkins.triggered == []


def test_user_without_permission_fails_at_once(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    jenkins.forbidden_users.add(jenkins.user)

    start_deploy(requested(), deps)

    failed = _only_failure(publisher)
    assert "403" in failed.reason and not failed.retryable
    incident = incident_shown(failed.reason, "JENKINS_USER")  # the channel sees the id, the admins the fix
    logged_detail(caplog, incident, "403", "Build and Cancel permissions")
    assert jenkins.triggered == []


def test_unknown_job_fails_at_once_naming_the_job_and_the_setting(
    deps: DeployDeps, jenkins: FakeJenkins, store: DynamoClaimStore, publisher: RecordingPublisher
) -> None:
    event = requested(arguments={"client": "initech", "branch": "main"})  # configured, but no such job

    start_deploy(event, deps)

    failed = _only_failure(publisher)
    assert "deploy-initech" in failed.reason and "deploy.clients.initech.job" in failed.reason
    record = store.get(event.command_id)
    assert record is not None and record.state == "finished"


def test_500_on_trigger_is_retried_through_sqs_then_builds_once(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    body = eventbridge_body(requested())
    jenkins.fail(500, path="buildWithParameters")

    first = handle_batch(sqs_batch(("m-1", body)), None, deps)
    second = handle_batch(sqs_batch(("m-1", body), receive_count=2), None, deps)
    deliver_follows(deps, scheduler)

    assert first == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert second == {"batchItemFailures": []}
    assert len(jenkins.triggered) == 1
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_jenkins_down_fails_and_reports_after_the_last_attempt(
    deps: DeployDeps, jenkins: FakeJenkins, store: DynamoClaimStore, publisher: RecordingPublisher
) -> None:
    event = requested()
    body = eventbridge_body(event)
    jenkins.fail(503, times=None)

    outcomes = [handle_batch(sqs_batch(("m-1", body), receive_count=n), None, deps) for n in (1, 2, 3)]

    assert [len(o["batchItemFailures"]) for o in outcomes] == [1, 1, 0]
    failed = _only_failure(publisher)
    assert failed.retryable and "503" in failed.reason
    record = store.get(event.command_id)
    assert record is not None and record.state == "finished"


def test_connection_refused_is_transient(deps: DeployDeps, publisher: RecordingPublisher) -> None:
    deps.jenkins = PythonJenkinsAdapter(f"http://127.0.0.1:{free_port()}", lambda: ("u", "t"), timeout=0.5)

    response = handle_batch(sqs_batch(("m-1", eventbridge_body(requested()))), None, deps)

    assert response == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert publisher.events == []


def test_follow_backs_off_on_5xx_and_then_completes(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    start_deploy(requested(), deps)
    jenkins.fail(502, path="/queue/item/")

    deliver_one = scheduler.pop()
    follow(deliver_one, deps, Delivery(message_id="f-1"))

    [(retry, delay)] = scheduler.scheduled
    assert retry.failures == 1 and delay == deps.settings.follow_delay * 2
    deliver_follows(deps, scheduler)
    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_follow_gives_up_when_jenkins_stays_down(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    start_deploy(requested(), deps)
    jenkins.fail(500, path="/queue/item/", times=None)

    deliver_follows(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed) and final.retryable and "unavailable" in final.reason
    assert len(jenkins.triggered) == 1


def test_follow_timeout_on_build_json_is_retried(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    jenkins.polls_before_start = 0
    start_deploy(requested(), deps)
    jenkins.slow(1.0, path="/job/deploy-acme/1/api/json")

    deliver_follows(deps, scheduler)

    assert isinstance(publisher.events[-1], CommandSucceeded)


def test_credentials_revoked_mid_follow_fail_with_a_fix(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher
) -> None:
    start_deploy(requested(), deps)
    jenkins.forbidden_users.add(jenkins.user)

    deliver_follows(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed) and "credentials" in final.reason and not final.retryable


def test_a_build_running_too_long_stops_being_followed(
    deps: DeployDeps, jenkins: FakeJenkins, scheduler: MemoryScheduler, publisher: RecordingPublisher, clock: Clock
) -> None:
    jenkins.polls_before_start, jenkins.polls_before_finish = 0, 1000
    start_deploy(requested(), deps)
    deliver_follows_until = 3
    for n in range(deliver_follows_until):
        follow(scheduler.pop(), deps, Delivery(message_id=f"f-{n}"))
    clock.now += deps.settings.max_follow_seconds + 1
    deliver_follows(deps, scheduler)

    final = publisher.events[-1]
    assert isinstance(final, CommandFailed) and "Stopped following build #1" in final.reason
    assert final.links and final.links[0].url.endswith("/job/deploy-acme/1/")


def test_missing_jenkins_credentials_fail_the_deploy_with_an_incident_id(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    def no_credentials() -> tuple[str, str]:
        raise ConfigurationError("no Jenkins credentials (JENKINS_USER/JENKINS_API_TOKEN or JENKINS_SECRET_ID)")

    deps.jenkins = PythonJenkinsAdapter(jenkins.url, no_credentials)

    start_deploy(requested(), deps)

    failed = _only_failure(publisher)
    assert "cannot log in to Jenkins" in failed.reason
    incident = incident_shown(failed.reason, "JENKINS_")  # variable and secret names: the admins' logs only
    logged_detail(caplog, incident, "no Jenkins credentials (JENKINS_USER/JENKINS_API_TOKEN or JENKINS_SECRET_ID)")
    assert jenkins.requests == []


def test_unreadable_configuration_fails_the_deploy(
    deps: DeployDeps, jenkins: FakeJenkins, publisher: RecordingPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    deps.config = StaticConfig(ConfigurationError("ssm:/slashops/config: cannot read (ClientError)"))

    start_deploy(requested(), deps)

    incident = incident_shown(_only_failure(publisher).reason, "ssm:")  # parameter names: the admins' logs
    logged_detail(caplog, incident, "ssm:/slashops/config: cannot read (ClientError)")
    assert jenkins.requests == []
