"""A deploy across the units, as a channel sees it: the ingress (the Chalice app) accepts it and later takes the
clicks, the deploy service drives the fake Jenkins over HTTP, and the notifier posts through the real slack-sdk to
the local Slack server. One channel message with its thread; Cancel stops it (cancelled by whom, not failed);
Retry after a failure runs the same deploy again as a new command."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client

from app import create_app
from services.deploy.deps import DeployDeps
from services.deploy.following import follow
from services.deploy.models import Delivery
from services.notifier.adapters.slack import SlackSdkAdapter
from services.notifier.consumer import handle_event
from services.notifier.deps import NotifierDeps
from shared.events.models import CommandRequested, Event, ResultEvent
from shared.slack.actions import CANCEL, RETRY
from tests.support.deploy import CONFIG, STARTER, Clock, cancel_deploy, deliver_follows, start_deploy
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryScheduler
from tests.support.fakes.ingress import ingress_deps
from tests.support.fakes.ledger import InMemoryLedger
from tests.support.ingress import Ingress
from tests.support.slack import SIGNING_SECRET, click_body, click_payload, signed_headers
from tools.fakes.jenkins import FakeJenkins
from tools.fakes.slack import FakeSlack, Posted

CHANNEL = "C0123"


@dataclass
class Channel:
    """The three units wired by hand: what the bus would carry is handed on by `deliver()`."""

    ingress: Ingress
    deploy: DeployDeps
    scheduler: MemoryScheduler
    notifier: NotifierDeps
    slack: FakeSlack
    jenkins: FakeJenkins
    _seen: dict[int, int] = field(default_factory=dict)

    def deliver(self) -> list[CommandRequested]:
        """Everything published since the last call goes to the notifier (as the notifier rule would); returns the
        new requests, for the test to hand to the deploy service (as the deploy rule would)."""
        new: list[CommandRequested] = []
        for publisher in (self.ingress.publisher, self.deploy.publisher):
            assert isinstance(publisher, RecordingPublisher)
            start = self._seen.get(id(publisher), 0)
            events: list[Event] = publisher.events[start:]
            self._seen[id(publisher)] = len(publisher.events)
            for event in events:
                if isinstance(event, CommandRequested | ResultEvent):
                    handle_event(event, self.notifier)
                if isinstance(event, CommandRequested):
                    new.append(event)
        return new

    def message(self) -> Posted:
        [shown] = self.slack.in_channel(CHANNEL)
        return shown

    def press(self, action: str, value: str, *, user: str) -> None:
        payload = click_payload(action, value, user_id=user, user_name="someone", channel_id=CHANNEL)
        payload["container"].update(is_ephemeral=False, message_ts=self.message().ts)
        payload["response_url"] = self.slack.response_url()  # the click's own, never the channel message
        body = click_body(payload)
        status, _ = self.ingress.click(body, signed_headers(body))
        assert status == 200


@pytest.fixture
def channel(deps: DeployDeps, scheduler: MemoryScheduler, jenkins: FakeJenkins, clock: Clock) -> Iterator[Channel]:
    ids = itertools.count(1)
    ledger = InMemoryLedger()
    now = datetime.fromtimestamp(clock.now, UTC)
    ingress_side = ingress_deps(
        publisher=RecordingPublisher(),
        config=StaticConfig.from_text(CONFIG),
        ledger=ledger,
        new_id=lambda: f"{next(ids):012x}",
        now=lambda: now,
    )
    app = create_app(signing_secret=lambda: SIGNING_SECRET, deps=lambda: ingress_side)
    with FakeSlack() as slack, Client(app) as client:
        adapter = SlackSdkAdapter(lambda: slack.bot_token, api_url=slack.api_url, sleep=lambda _: None)
        notifier = NotifierDeps(ledger=ledger, slack=adapter, now=lambda: now)
        ingress = Ingress(client=client, publisher=ingress_side.publisher, deps=ingress_side)  # type: ignore[arg-type]
        yield Channel(ingress, deps, scheduler, notifier, slack, jenkins)


def blocks_text(posted: Posted) -> str:
    return "\n".join(b["text"]["text"] for b in posted.payload["blocks"] if isinstance(b.get("text"), dict))


def buttons(posted: Posted) -> list[Any]:
    return [e["action_id"] for b in posted.payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def typed(channel: Channel, text: str, *, user: str = STARTER) -> CommandRequested:
    status, _ = channel.ingress.send(text, user_id=user, response_url=channel.slack.response_url())
    assert status == 200
    [request] = channel.deliver()
    return request


def test_a_deploy_is_announced_threaded_and_cancelled_from_its_button(channel: Channel) -> None:
    channel.jenkins.polls_before_start, channel.jenkins.polls_before_finish = 0, 100
    deploy = typed(channel, "deploy --client acme --branch main")
    start_deploy(deploy, channel.deploy)
    follow(channel.scheduler.pop(), channel.deploy, Delivery(message_id="f-1"))  # build #1 starts
    channel.deliver()

    running = channel.message()
    assert blocks_text(running).startswith(f":arrows_counterclockwise: <@{STARTER}> is deploying `main` of *acme*")
    assert "|Build #1>" in blocks_text(running) and buttons(running) == [CANCEL]

    channel.press(CANCEL, deploy.command_id, user=STARTER)
    [cancel] = channel.deliver()
    assert cancel.command == "cancel" and cancel.arguments == {"id": deploy.command_id}
    cancel_deploy(cancel, channel.deploy)
    deliver_follows(channel.deploy, channel.scheduler)
    channel.deliver()

    stopped = channel.message()
    assert stopped.ts == running.ts  # the same message, updated
    assert f"— *cancelled* by <@{STARTER}>" in blocks_text(stopped)
    assert "failed" not in blocks_text(stopped) and buttons(stopped) == []
    thread = [posted.text for posted in channel.slack.thread(CHANNEL, running.ts)]
    assert "queued in Jenkins" in thread[0] and "Build #1" in thread[1]
    assert "*was cancelled*" in thread[-1] and f"by <@{STARTER}>" in thread[-1]
    asked = [m.text for m in channel.slack.messages if m.response_url and "Asked Jenkins to stop" in m.text]
    assert len(asked) == 1  # the cancel's own answer went to the clicker, through the click's response_url


def test_retry_after_a_failure_runs_the_same_deploy_again_as_a_new_command(channel: Channel) -> None:
    channel.jenkins.result = "FAILURE"
    deploy = typed(channel, "deploy --client acme --branch main")
    start_deploy(deploy, channel.deploy)
    deliver_follows(channel.deploy, channel.scheduler)
    channel.deliver()
    failed = channel.message()
    assert ":x:" in blocks_text(failed) and buttons(failed) == [RETRY]

    channel.jenkins.result = "SUCCESS"
    channel.press(RETRY, deploy.command_id, user="U0LEAD")  # not admitted for deploy: refused, nothing runs
    assert channel.deliver() == []
    channel.press(RETRY, deploy.command_id, user=STARTER)
    [again] = channel.deliver()
    assert again.command == "deploy" and again.command_id != deploy.command_id
    assert again.arguments == deploy.arguments and again.actor.user_id == STARTER
    start_deploy(again, channel.deploy)
    deliver_follows(channel.deploy, channel.scheduler)
    channel.deliver()

    first, second = channel.slack.in_channel(CHANNEL)
    assert first.ts == failed.ts and buttons(first) == [RETRY]
    assert f"<@{STARTER}> was deploying `main` of *acme* to *staging* — *succeeded*" in blocks_text(second)
