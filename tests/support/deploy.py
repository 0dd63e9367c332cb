"""Deploy-service test support: the configuration, a settable clock, requests, claims, and follow delivery."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from services.deploy.consumer import run_command
from services.deploy.deps import DeployDeps, DeploySettings
from services.deploy.following import follow
from services.deploy.models import FIRST_DELIVERY, ClaimRecord, Delivery
from shared.events.models import Actor, CommandRequested, Place, ReplyTarget
from tests.support.fakes import RecordingPublisher, StaticConfig
from tests.support.fakes.deploy import MemoryClaimStore, MemoryJenkins, MemoryScheduler
from tests.support.fakes.names import seeded_names

STARTER = "U0STARTER"
CONFIG = """
access:
  - {command: deploy, users: [U0STARTER]}
  - {command: cancel, users: [U0LEAD]}
deploy:
  clients:
    acme: {}
    globex:
      environments:
        production: {job: globex-prod, parameters: {TARGET: prod, GIT_REF: "{branch}"}}
    initech: {}
"""
_ids = itertools.count(1)


@dataclass
class Clock:
    now: float = 1_764_331_200.0

    def __call__(self) -> float:
        return self.now


def requested(
    command: str = "deploy",
    *,
    arguments: dict[str, Any] | None = None,
    command_id: str | None = None,
    user_id: str = STARTER,
    user_name: str = "starter",
) -> CommandRequested:
    if arguments is None:
        arguments = {"client": "acme", "branch": "main", "env": "staging"}
    return CommandRequested(
        command_id=command_id or f"cmd{next(_ids):06d}",
        command=command,
        arguments=arguments,
        actor=Actor(team_id="T1", user_id=user_id, user_name=user_name),
        place=Place(channel_id="C0123", channel_name="ops"),
        reply_to=ReplyTarget(response_url="https://hooks.slack.test/r/1", channel_id="C0123", user_id=user_id),
    )


def claim(command_id: str = "3f9c2a7d41b0", **changes: object) -> ClaimRecord:
    """A claim as `start_deploy` writes it for `requested()` (fields overridable)."""
    fields: dict[str, object] = {
        "command_id": command_id,
        "claim_token": "t1",
        "claimed_at": 100,
        "created_at": 100,
        "job": "deploy-acme",
        "parameters": {"BRANCH": "main", "ENV": "staging", "SLASHOPS_COMMAND_ID": command_id},
        "id_parameter": "SLASHOPS_COMMAND_ID",
        "client": "acme",
        "env": "staging",
        "branch": "main",
        "requested_by": STARTER,
        "reply_to": ReplyTarget(response_url="https://hooks.slack.test/r/1", channel_id="C0123", user_id=STARTER),
    }
    return ClaimRecord.model_validate({**fields, **changes})


def stale_claim(event: CommandRequested, clock: Clock, **changes: object) -> ClaimRecord:
    """What a Lambda that crashed right after claiming left behind."""
    then = int(clock.now) - 600
    crashed: dict[str, object] = {"claim_token": "crashed-attempt", "claimed_at": then, "created_at": then}
    return claim(event.command_id, **(crashed | changes))


def deliver_follows(deps: DeployDeps, scheduler: Any, *, limit: int = 20) -> int:
    """Deliver the scheduled follow messages (`scheduler.pop()`) like SQS would, until the chain ends."""
    steps = 0
    while scheduler.scheduled:
        assert steps < limit, "follow chain did not end"
        follow(scheduler.pop(), deps, Delivery(message_id=f"follow-{next(_ids)}"))
        steps += 1
    return steps


@dataclass
class MemoryDeploy:
    """A deploy service on the in-memory fakes: the deps, and each fake typed for the test to script and inspect."""

    jenkins: MemoryJenkins = field(default_factory=MemoryJenkins)
    store: MemoryClaimStore = field(default_factory=MemoryClaimStore)
    scheduler: MemoryScheduler = field(default_factory=MemoryScheduler)
    publisher: RecordingPublisher = field(default_factory=RecordingPublisher)
    clock: Clock = field(default_factory=Clock)
    settings: DeploySettings = field(default_factory=lambda: DeploySettings(max_trigger_attempts=3))
    config: str = CONFIG

    def __post_init__(self) -> None:
        self.jenkins.jobs |= {"deploy-globex", "globex-prod"}
        tokens = (f"token-{n}" for n in itertools.count(1))
        self.deps = DeployDeps(
            jenkins=self.jenkins,
            store=self.store,
            scheduler=self.scheduler,
            publisher=self.publisher,
            config=StaticConfig.from_text(self.config),
            settings=self.settings,
            clock=self.clock,
            new_token=lambda: next(tokens),
            names=seeded_names(),
        )

    def follow_all(self) -> int:
        return deliver_follows(self.deps, self.scheduler)


def deliver(event: CommandRequested, deps: DeployDeps, delivery: Delivery = FIRST_DELIVERY) -> None:
    """One delivery of a request to the deploy service, as its consumer makes it: through the one pipeline
    (configuration, the caller checked again) to the use case the catalog declares for the command."""
    run_command(event, deps, delivery)


start_deploy = cancel_deploy = deliver
"""Named for what the tests deliver; both go the consumer's one way (a use case is never called around it)."""
