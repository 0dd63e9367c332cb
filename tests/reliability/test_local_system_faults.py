"""Faults against the local system: Slack failing (rate limits, 5xx, down past the retries), a burst of
simultaneous requests at the ingress, and, under `make run`, units killed or stopped behind its back.

Each case asserts its outcome and reports it to the `tally`. The `make run` cases share one stack and take
over a minute (a killed consumer's in-flight message comes back after the 30 s visibility timeout): slow.
"""

from __future__ import annotations

import io
import os
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.reliability.tally import Tally
from tests.support.burst import burst, local_ingress, signed_help_requests
from tests.support.events import accepted, command_requested, succeeded
from tests.support.make_run import MakeRun, make_run
from tests.support.notifier_stack import NotifierStack, notifier_stack
from tools.cli.dlq import main as dlq_main
from tools.cli.dlq import redrive, waiting
from tools.cli.send import (
    ResponseUrlServer,
    SlashCommand,
    accepted_command_id,
    is_final,
    post,
    signed_headers,
    slack_form,
)
from tools.local.aws import Service
from tools.local.defaults import LOCAL_SIGNING_SECRET

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
COMMAND_ID = "abc123def456"
BURST = 200


@pytest.fixture
def stack(request: pytest.FixtureRequest) -> Iterator[NotifierStack]:
    """The integration suite's session LocalStack and moto server (imported above: no conftest of our own)."""
    aws: Service = request.getfixturevalue("localstack")
    dynamodb: Service = request.getfixturevalue("moto_server")
    with notifier_stack(aws.endpoint, dynamodb.endpoint, max_receive_count=3) as built:
        yield built


def _deliver_one_command(stack: NotifierStack) -> None:
    target = stack.reply_to()
    stack.publish(command_requested(reply=target), accepted(reply=target), succeeded(reply=target))
    stack.run_until(lambda: stack.shows(COMMAND_ID, "succeeded", reported=True) or waiting(stack.sqs, stack.pair.dlq))
    stack.run_for(1.5)  # a redelivery, if any, would post again within the 1 s visibility timeout


def _count(stack: NotifierStack, tally: Tally, fault: str) -> int:
    finals = len(stack.finals(COMMAND_ID))
    tally.fault(fault, survived=finals == 1)
    tally.commands(1, lost=int(finals == 0), duplicated=max(0, finals - 1))
    return finals


def test_slack_rate_limiting_with_retry_after_is_waited_out(stack: NotifierStack, tally: Tally) -> None:
    stack.slack.fail(429, target="response_url", retry_after=2, times=2)
    _deliver_one_command(stack)
    assert _count(stack, tally, "slack 429 with Retry-After") == 1
    assert stack.sleeps == [2.0, 2.0]  # as Slack asked, in the notifier, not by a redelivery


def test_slack_server_errors_are_retried_through_sqs(stack: NotifierStack, tally: Tally) -> None:
    stack.slack.fail(500, target="response_url", times=2)
    _deliver_one_command(stack)
    assert _count(stack, tally, "slack 500s (retried by SQS)") == 1
    assert waiting(stack.sqs, stack.pair.dlq) == 0


def test_slack_down_past_the_retries_then_redrive(stack: NotifierStack, tally: Tally) -> None:
    stack.slack.down()
    _deliver_one_command(stack)
    in_dlq = waiting(stack.sqs, stack.pair.dlq)
    unreported = stack.shows(COMMAND_ID, "succeeded", reported=False)
    stack.slack.up()
    moved = redrive(stack.sqs, stack.pair).moved
    stack.run_until(lambda: stack.shows(COMMAND_ID, "succeeded", reported=True))
    stack.run_for(1.5)
    finals = _count(stack, tally, "slack down past the retries, then redrive")
    assert (in_dlq, unreported, moved, finals) == (1, True, 1, 1)


def test_a_burst_of_simultaneous_signed_requests_is_all_answered(tally: Tally) -> None:
    with local_ingress() as port:
        answers = Counter(burst("127.0.0.1", port, signed_help_requests(BURST), timeout=15))
    answered = answers["HTTP/1.1 200 OK"]
    tally.fault(f"{BURST} simultaneous requests at the local ingress", survived=answered == BURST)
    tally.inputs(BURST, mishandled=BURST - answered)
    assert answers == Counter({"HTTP/1.1 200 OK": BURST})


# --- under `make run` --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def system() -> Iterator[MakeRun]:
    with make_run() as running:
        yield running


def _payloads_until_final(server: ResponseUrlServer, *, timeout: float, on_first: Any = None) -> list[dict[str, Any]]:
    """Every follow-up until the final one, then a few seconds more to catch a duplicate."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while not any(is_final(payload) for payload in received) and time.monotonic() < deadline:
        payload = server.next(deadline - time.monotonic())
        if payload is not None:
            received.append(payload)
            if len(received) == 1 and on_first is not None:
                on_first()
    quiet_until = time.monotonic() + 5
    while (payload := server.next(quiet_until - time.monotonic())) is not None:
        received.append(payload)
    return received


def _send(system: MakeRun, server: ResponseUrlServer, text: str) -> str | None:
    body = urlencode(slack_form(SlashCommand(text=text), server.url)).encode()
    status, answer = post(
        f"http://127.0.0.1:{system.port}/slack/commands", body, signed_headers(body, LOCAL_SIGNING_SECRET)
    )
    assert status == 200, answer
    return accepted_command_id(answer)


@pytest.mark.slow
def test_a_consumer_killed_with_sigkill_is_restarted_and_the_command_still_ends_once(
    system: MakeRun, tally: Tally
) -> None:
    """A deploy is announced in the channel: its progress and result are replies in that message's thread, which
    the fake Slack prints to make run's log (`  ↳ [thread of <ts> in <channel>] <text>`)."""
    victim = system.pid_of("deploy")
    with ResponseUrlServer() as server:
        command_id = _send(system, server, "deploy --client acme --branch main")
    assert command_id is not None
    in_thread = rf"↳ \[thread of [^\]]+\] `deploy` `{command_id}`"
    system.wait_for(in_thread, 60)  # the first progress (queued in Jenkins): the deploy is under way
    os.kill(victim, signal.SIGKILL)
    system.saw(rf"{in_thread} \*succeeded\*", 120)
    time.sleep(5)  # a duplicate, if any, would show by now
    finals = len(re.findall(rf"{in_thread} \*(?:succeeded|failed)\*", system.text()))
    restarted = system.saw(rf"deploy \(pid {victim}\) exited with -9 \(SIGKILL\)", 10) and system.saw(
        r"restarted deploy \(pid \d+, restart 1\)", 10
    )
    tally.fault("deploy consumer killed -9 under make run", survived=finals == 1 and restarted)
    tally.commands(1, lost=int(not finals), duplicated=max(0, finals - 1))
    assert restarted, system.text()[-4000:]
    assert finals == 1 and re.search(rf"{in_thread} \*succeeded\*", system.text()), system.text()[-4000:]


@pytest.mark.slow
def test_the_backup_worker_stopped_behind_make_runs_back_is_started_again(system: MakeRun, tally: Tally) -> None:
    victim = system.pid_of("backup")
    os.kill(victim, signal.SIGTERM)  # its clean exit used to take the whole of make run down
    restarted = system.saw(rf"backup \(pid {victim}\) exited with", 30) and system.saw(r"restarted backup", 30)
    with ResponseUrlServer() as server:
        command_id = _send(system, server, "backups --db orders")
        received = _payloads_until_final(server, timeout=60) if command_id else []
    finals = [payload for payload in received if is_final(payload)]
    tally.fault("backup worker SIGTERM under make run", survived=restarted and len(finals) == 1)
    tally.commands(1, lost=int(not finals), duplicated=max(0, len(finals) - 1))
    assert restarted and system.process.poll() is None and len(finals) == 1, received


@pytest.mark.slow
def test_a_burst_at_make_runs_ingress_is_all_answered(system: MakeRun, tally: Tally) -> None:
    requests = signed_help_requests(BURST, secret=LOCAL_SIGNING_SECRET)
    answers = Counter(burst("127.0.0.1", system.port, requests, timeout=15))
    answered = answers["HTTP/1.1 200 OK"]
    tally.fault(f"{BURST} simultaneous requests at make run's ingress", survived=answered == BURST)
    tally.inputs(BURST, mishandled=BURST - answered)
    assert answers == Counter({"HTTP/1.1 200 OK": BURST})


@pytest.mark.slow
def test_the_operator_finds_make_runs_dead_letter_queues(system: MakeRun) -> None:
    """`bin/slashops dlq ... --local` from another terminal: the endpoints come from make run's state file."""
    out = io.StringIO()
    assert dlq_main(["redrive", "notifier", "--local"], out) == 0, out.getvalue()
    assert dlq_main(["list", "notifier", "--local"], out) == 0, out.getvalue()
    assert "slashops-notifier-dlq: about 0 message(s) waiting" in out.getvalue()
