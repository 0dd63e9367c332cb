"""One contract per deploy port, run against the in-memory fake and the real adapter, so the fakes cannot drift.

Real adapters: `DynamoClaimStore` on moto (in process), `PythonJenkinsAdapter` over HTTP against
`tools/fakes/jenkins.py`, `SqsFollowScheduler` on moto. The fakes: `tests/support/fakes/deploy.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from services.deploy import transitions
from services.deploy.adapters.dynamodb_claims import DynamoClaimStore
from services.deploy.adapters.python_jenkins import PythonJenkinsAdapter
from services.deploy.adapters.sqs_scheduler import SqsFollowScheduler
from services.deploy.errors import JenkinsNotFoundError
from services.deploy.models import FollowMessage, FoundBuild, TargetHold
from services.deploy.ports import MAX_DELAY_SECONDS, ClaimChange, ClaimStore, FollowScheduler, JenkinsPort
from shared.aws.tables import DEPLOYS, create_table
from tests.support.deploy import claim
from tests.support.fakes.deploy import MemoryClaimStore, MemoryJenkins, MemoryScheduler
from tools.fakes.jenkins import FakeJenkins

ID = "3f9c2a7d41b0"

# --- ClaimStore ------------------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[ClaimStore]:
    if request.param == "memory":
        yield MemoryClaimStore()
        return
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, DEPLOYS, "claims")
        yield DynamoClaimStore("claims", client=client)


def test_create_is_conditional_and_a_refusal_returns_the_existing_claim(store: ClaimStore) -> None:
    assert store.create(claim(ID)) is None
    assert store.create(claim(ID, claim_token="t2")) == claim(ID)
    assert store.get(ID) == claim(ID)
    assert store.get("000000000000") is None


def test_a_claim_round_trips_with_every_field(store: ClaimStore) -> None:
    full = claim(ID, state="running", queue_id=7, build_number=3, build_url="http://j/3/", follow_seq=2)
    store.create(full.model_copy(update={"follow_owner": "m-1", "result": "x", "cancelled_by": "U1", "expires_at": 9}))
    assert store.get(ID) == full.model_copy(
        update={"follow_owner": "m-1", "result": "x", "cancelled_by": "U1", "expires_at": 9}
    )


def test_apply_writes_only_when_expectations_hold_and_a_refusal_returns_the_current_claim(store: ClaimStore) -> None:
    store.create(claim(ID))

    refused = store.apply(ID, ClaimChange({"state": "queued"}, {"claim_token": "other"}))
    applied = store.apply(ID, ClaimChange({"state": "queued", "queue_id": 7}, {"claim_token": "t1"}))

    assert not refused.applied and refused.current == claim(ID)
    assert applied.applied
    current = store.get(ID)
    assert current is not None and (current.state, current.queue_id) == ("queued", 7)


def test_expecting_none_means_absent_and_changing_to_none_removes(store: ClaimStore) -> None:
    store.create(claim(ID))

    assert store.apply(ID, ClaimChange({"build_number": 3}, {"build_number": None})).applied
    assert not store.apply(ID, ClaimChange({"build_number": 4}, {"build_number": None})).applied
    assert store.apply(ID, ClaimChange({"build_number": None}, {})).applied
    current = store.get(ID)
    assert current is not None and current.build_number is None


def test_a_write_to_a_missing_claim_is_refused_with_no_current_claim(store: ClaimStore) -> None:
    write = store.apply("000000000000", ClaimChange({"state": "finished"}, {}))
    assert not write.applied and write.current is None


def test_only_the_holder_of_the_claim_marks_it_queued(store: ClaimStore) -> None:
    store.create(claim(ID))
    assert not transitions.mark_queued(store, claim(ID, claim_token="stolen"), 7)
    assert transitions.mark_queued(store, claim(ID), 7)
    assert not transitions.mark_queued(store, claim(ID), 8)  # no longer `claimed`


def test_of_two_recoverers_only_one_takes_the_stale_claim_over(store: ClaimStore) -> None:
    stale = claim(ID, claimed_at=0)
    store.create(stale)

    first = transitions.take_over(store, stale, "token-a", now=500)
    second = transitions.take_over(store, stale, "token-b", now=501)

    assert first == stale.model_copy(update={"claim_token": "token-a", "claimed_at": 500}) and second is None
    assert store.get(ID) == first


def test_adopting_a_running_build_records_it_as_running(store: ClaimStore) -> None:
    store.create(claim(ID))
    assert transitions.adopt(store, claim(ID), FoundBuild(build_number=4, build_url="http://j/4/"))
    current = store.get(ID)
    assert current is not None and (current.state, current.build_number, current.build_url) == (
        "running",
        4,
        "http://j/4/",
    )


def test_a_follow_step_is_taken_once_but_its_own_redelivery_may_retake_it(store: ClaimStore) -> None:
    store.create(claim(ID, state="queued"))
    record = claim(ID, state="queued")

    taken = record.model_copy(update={"follow_seq": 1, "follow_owner": "m-1"})

    assert transitions.take_step(store, ID, 0, "m-1") == (True, taken)  # the claim comes back with the write
    assert transitions.take_step(store, ID, 0, "m-1") == (True, taken)  # the same SQS message again, after a crash
    assert transitions.take_step(store, ID, 0, "m-2") == (False, taken)  # a duplicate of it: the chain must not fork
    assert transitions.take_step(store, "000000000000", 0, "m-1") == (False, None)


def test_mark_stale_then_give_up_then_finish(store: ClaimStore) -> None:
    store.create(claim(ID))
    assert transitions.mark_stale(store, claim(ID))
    assert transitions.give_up(store, claim(ID), "JenkinsAuthError")
    assert not transitions.give_up(store, claim(ID), "again")  # only from `claimed`
    assert transitions.record_cancel(store, claim(ID), "U0LEAD")
    current = store.get(ID)
    assert current is not None
    assert (current.claimed_at, current.state, current.result, current.cancelled_by) == (
        0,
        "finished",
        "JenkinsAuthError",
        "U0LEAD",
    )


def test_mark_running_needs_a_queued_claim(store: ClaimStore) -> None:
    store.create(claim(ID))
    assert not transitions.mark_running(store, claim(ID), 1, None)
    transitions.mark_queued(store, claim(ID), 7)
    assert transitions.mark_running(store, claim(ID), 1, "http://j/1/")
    assert transitions.finish(store, claim(ID), "SUCCESS")
    current = store.get(ID)
    assert current is not None and (current.state, current.build_number, current.result) == ("finished", 1, "SUCCESS")


def _hold(command_id: str, *, since: int = 100, by: str = "U0ALICE") -> TargetHold:
    return TargetHold(client="acme", env="production", command_id=command_id, requested_by=by, since=since)


def test_a_target_is_held_by_one_deploy_and_a_refusal_names_the_holder(store: ClaimStore) -> None:
    assert store.take_target(_hold("aaaaaaaaaaaa"), stale_before=0) is None
    assert store.take_target(_hold("bbbbbbbbbbbb", since=150, by="U0BOB"), stale_before=0) == _hold("aaaaaaaaaaaa")
    assert store.take_target(_hold("aaaaaaaaaaaa"), stale_before=0) is None  # the holder again: a redelivery
    other_env = TargetHold(client="acme", env="staging", command_id="bbbbbbbbbbbb", requested_by="U0BOB", since=150)
    assert store.take_target(other_env, stale_before=0) is None
    assert store.get("aaaaaaaaaaaa") is None  # holds are not claims


def test_only_the_holder_releases_a_target(store: ClaimStore) -> None:
    store.take_target(_hold("aaaaaaaaaaaa"), stale_before=0)

    assert not store.release_target("acme", "production", "bbbbbbbbbbbb")
    assert store.take_target(_hold("bbbbbbbbbbbb"), stale_before=0) == _hold("aaaaaaaaaaaa")
    assert store.release_target("acme", "production", "aaaaaaaaaaaa")
    assert not store.release_target("acme", "production", "aaaaaaaaaaaa")  # already free
    assert store.take_target(_hold("bbbbbbbbbbbb"), stale_before=0) is None


def test_a_stale_hold_is_taken_over_and_a_fresh_one_is_not(store: ClaimStore) -> None:
    store.take_target(_hold("aaaaaaaaaaaa", since=100), stale_before=0)

    assert store.take_target(_hold("bbbbbbbbbbbb", since=500), stale_before=100) == _hold("aaaaaaaaaaaa", since=100)
    assert store.take_target(_hold("bbbbbbbbbbbb", since=500), stale_before=101) is None
    assert store.take_target(_hold("cccccccccccc", since=600), stale_before=101) == _hold("bbbbbbbbbbbb", since=500)


# --- JenkinsPort -----------------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "python-jenkins"])
def jenkins(request: pytest.FixtureRequest) -> Iterator[tuple[JenkinsPort, Any]]:
    """The port, and the server behind it to script (`polls_before_start`, `polls_before_finish`, `console`)."""
    if request.param == "memory":
        memory = MemoryJenkins(jobs={"deploy-acme"})
        yield memory, memory
        return
    with FakeJenkins(jobs=["deploy-acme"]) as server:
        yield PythonJenkinsAdapter(server.url, lambda: (server.user, server.token), timeout=2), server


PARAMETERS = {"BRANCH": "main", "SLASHOPS_COMMAND_ID": ID}


def test_a_queued_build_starts_runs_and_finishes(jenkins: tuple[JenkinsPort, Any]) -> None:
    port, server = jenkins
    server.polls_before_start, server.polls_before_finish = 1, 1

    queue_id = port.trigger("deploy-acme", PARAMETERS)
    waiting, started = port.queue_item(queue_id), port.queue_item(queue_id)
    running, done = port.build("deploy-acme", 1), port.build("deploy-acme", 1)

    assert waiting.build_number is None and not waiting.cancelled
    assert started.build_number == 1 and (started.build_url or "").endswith("/job/deploy-acme/1/")
    assert running.building and running.result is None
    assert not done.building and done.result == "SUCCESS" and (done.duration_seconds or 0) > 0
    assert done.url.endswith("/job/deploy-acme/1/")


def test_the_console_tail_is_the_last_lines(jenkins: tuple[JenkinsPort, Any]) -> None:
    port, server = jenkins
    server.polls_before_start, server.console = 0, "\n".join(f"line {n}" for n in range(1, 11)) + "\n"
    port.trigger("deploy-acme", PARAMETERS)
    assert port.console_tail("deploy-acme", 1, 3) == "line 8\nline 9\nline 10"


def test_find_by_parameter_sees_the_queue_item_then_the_build(jenkins: tuple[JenkinsPort, Any]) -> None:
    port, server = jenkins
    server.polls_before_start = 1
    queue_id = port.trigger("deploy-acme", PARAMETERS)

    queued = port.find("deploy-acme", "SLASHOPS_COMMAND_ID", ID)
    port.queue_item(queue_id), port.queue_item(queue_id)  # noqa: B018 (reads that start the build)
    started = port.find("deploy-acme", "SLASHOPS_COMMAND_ID", ID)

    assert queued == FoundBuild(queue_id=queue_id)
    assert started is not None and started.build_number == 1 and (started.build_url or "").endswith("/1/")
    assert port.find("deploy-acme", "SLASHOPS_COMMAND_ID", "000000000000") is None


def test_cancel_a_queued_item_and_stop_a_running_build(jenkins: tuple[JenkinsPort, Any]) -> None:
    port, server = jenkins
    server.polls_before_start, server.polls_before_finish = 5, 5
    queued = port.trigger("deploy-acme", PARAMETERS)
    server.polls_before_start = 0
    running = port.trigger("deploy-acme", PARAMETERS)

    port.cancel_queued(queued)
    port.stop("deploy-acme", 1)

    assert port.queue_item(queued).cancelled
    stopped = port.build("deploy-acme", 1)
    assert not stopped.building and stopped.result == "ABORTED"
    port.cancel_queued(running)  # it left the queue: a no-op (python-jenkins ignores Jenkins' 404 here)
    assert port.queue_item(running).build_number == 1 and not port.queue_item(running).cancelled


@pytest.mark.parametrize(
    "call",
    [
        lambda port: port.trigger("deploy-nope", PARAMETERS),
        lambda port: port.queue_item(999),
        lambda port: port.build("deploy-acme", 99),
        lambda port: port.find("deploy-nope", "SLASHOPS_COMMAND_ID", ID),
    ],
)
def test_what_jenkins_does_not_have_is_not_found(
    jenkins: tuple[JenkinsPort, Any], call: Callable[[JenkinsPort], object]
) -> None:
    with pytest.raises(JenkinsNotFoundError):
        call(jenkins[0])


# --- FollowScheduler -------------------------------------------------------------------------------------------


class SqsReader:
    def __init__(self, client: Any, url: str) -> None:
        self.client, self.url = client, url

    def deliverable(self) -> list[FollowMessage]:
        received = self.client.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
        return [FollowMessage.model_validate(json.loads(message["Body"])) for message in received]


class MemoryReader:
    def __init__(self, scheduler: MemoryScheduler) -> None:
        self.scheduler = scheduler

    def deliverable(self) -> list[FollowMessage]:
        return [message for message, delay in self.scheduler.scheduled if delay == 0]


@pytest.fixture(params=["memory", "sqs"])
def scheduler(request: pytest.FixtureRequest) -> Iterator[tuple[FollowScheduler, Any]]:
    """The port, and a reader of what the queue would deliver now."""
    if request.param == "memory":
        memory = MemoryScheduler()
        yield memory, MemoryReader(memory)
        return
    with mock_aws():
        client = boto3.client("sqs", region_name="us-east-1")
        url = client.create_queue(QueueName="slashops-deploy")["QueueUrl"]
        yield SqsFollowScheduler(url, client=client), SqsReader(client, url)


def test_a_follow_message_comes_back_unchanged(scheduler: tuple[FollowScheduler, Any]) -> None:
    port, reader = scheduler
    message = FollowMessage(command_id=ID, seq=3, failures=1)
    port.schedule(message, 0)
    assert reader.deliverable() == [message]


def test_a_delayed_follow_message_is_not_delivered_at_once(scheduler: tuple[FollowScheduler, Any]) -> None:
    port, reader = scheduler
    port.schedule(FollowMessage(command_id=ID, seq=0), MAX_DELAY_SECONDS)
    assert reader.deliverable() == []


def test_a_delay_beyond_the_limit_is_refused(scheduler: tuple[FollowScheduler, Any]) -> None:
    with pytest.raises((ValueError, ClientError)):
        scheduler[0].schedule(FollowMessage(command_id=ID, seq=0), MAX_DELAY_SECONDS + 1)
