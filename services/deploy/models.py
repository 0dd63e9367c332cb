"""Typed messages and records of the deploy service, validated at the edge."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.commands.catalog import DEPLOY_ENVIRONMENTS
from shared.commands.characters import describe, unsafe_character
from shared.commands.validators import VALIDATORS, git_rules_problem
from shared.events.models import ReplyTarget

ClaimState = Literal["claimed", "queued", "running", "finished"]
FOLLOW_KIND: Literal["slashops.deploy.follow"] = "slashops.deploy.follow"


def _check(validator: str, value: str) -> str:
    problem = VALIDATORS[validator](value)
    if problem:
        raise ValueError(problem)
    return value


class DeployRequest(BaseModel):
    """`deploy` arguments, checked again here with the ingress' own validators (defence in depth).

    The branch's alphabet depends on the client's configuration, so it is checked again by
    `DeployConfig.branch_problem` (and `plan`) before any job name or parameter is built from it.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    client: str
    branch: str
    env: str = "staging"

    @field_validator("client")
    @classmethod
    def _client(cls, value: str) -> str:
        return _check("identifier", value)

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        character = unsafe_character(value)
        if character is not None:
            raise ValueError(f"contains an invisible or control character ({describe(character)})")
        problem = git_rules_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: str) -> str:
        if value not in DEPLOY_ENVIRONMENTS:
            raise ValueError(f"must be one of {', '.join(DEPLOY_ENVIRONMENTS)}")
        return value


class CancelRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check("command_id", value)


class FollowMessage(BaseModel):
    """What the service sends itself (SQS, with a delay) to look at a build again; not an EventBridge event.

    `seq` orders the follow chain: a step only runs if it is the record's next one, so a duplicated
    message can never fork the chain into two.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["slashops.deploy.follow"] = FOLLOW_KIND
    command_id: str
    seq: int = Field(ge=0)
    failures: int = Field(default=0, ge=0)


@dataclass(frozen=True)
class Delivery:
    """How a message reached the service: SQS' message id and receive count, and whether it is the last delivery.

    `last_attempt`: if handling this delivery fails, SQS moves the message to the DLQ, so it must be reported now.
    """

    message_id: str = ""
    receive_count: int = 1
    last_attempt: bool = False


FIRST_DELIVERY = Delivery()
"""What a use case assumes when called directly (tests, tools): the first of several possible deliveries."""


class ClaimRecord(BaseModel):
    """One deploy's claim and progress; the source of truth for exactly-once, following and cancel."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    command_id: str
    state: ClaimState = "claimed"
    claim_token: str
    claimed_at: int
    created_at: int = 0
    job: str
    parameters: dict[str, str]
    id_parameter: str
    client: str
    env: str
    branch: str
    requested_by: str
    reply_to: ReplyTarget
    queue_id: int | None = None
    build_number: int | None = None
    build_url: str | None = None
    follow_seq: int = 0
    follow_owner: str = ""
    result: str | None = None
    cancelled_by: str | None = None
    expires_at: int = 0


class QueueState(BaseModel):
    """A queue item: still waiting, cancelled, or become build `number`."""

    model_config = ConfigDict(frozen=True)

    cancelled: bool = False
    build_number: int | None = None
    build_url: str | None = None
    why: str | None = None


class BuildState(BaseModel):
    model_config = ConfigDict(frozen=True)

    number: int
    url: str
    building: bool
    result: str | None = None
    duration_seconds: float | None = None


class FoundBuild(BaseModel):
    """A queue item or a build found by the command id it carries as a parameter (crash recovery)."""

    model_config = ConfigDict(frozen=True)

    queue_id: int | None = None
    build_number: int | None = None
    build_url: str | None = None


class TargetHold(BaseModel):
    """Which deploy holds one client's environment (one deploy per target): its command id, who, since when.

    `since` is the claim's `created_at`, so every redelivery of the same deploy writes the same hold.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    client: str
    env: str
    command_id: str
    requested_by: str
    since: int
