"""Once per signed request, for everything the ingress does that changes state.

A captured request stays correctly signed for Slack's 5-minute window (`shared.replay`). A published command
claims its first sighting when it is published (`publishing.claim_first_sighting`); this module puts the rest
through the same guard, keyed the same way (the request's timestamp and signature, or its `once_per`):

- `claim_before_acting`: a command the ingress answers itself and that writes (`CommandSpec.changes_state`:
  `lock`, `unlock`) is claimed before it acts. A replay is told when the first was received and that it is not
  applied again; a guard that cannot answer fails closed (nothing changed).
- `check_and_claim`: a published command with a check before it (a deploy's lock check, one read) runs the check
  and the claim (one conditional write) at the same time, each with the whole time left before publishing, when
  that keeps every answer true (`claims_alongside`); otherwise the check runs first, and the claim when published.

Read-only commands (`help`, `status`, `history`, `whoami`, `locks`) are answered again, as often as they are sent.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from chalicelib.deps import IngressDeps
from chalicelib.errors import NotAppliedError
from chalicelib.models import Command
from chalicelib.publishing import (
    MIN_SECONDS_TO_QUEUE,
    PUBLISH_SECONDS,
    REPLAY_CHECK_SECONDS,
    already_received,
    not_queued,
)
from shared.deadline import Deadline, DeadlineExceededError, start_within
from shared.errors import AlreadyReceivedError
from shared.replay import ReplayGuardUnavailableError, SignedRequest

logger = logging.getLogger(__name__)
ACT_SECONDS = 0.8
"""Kept after the guard for the command's own call: the lock table's (`locking.LOCK_SECONDS`), which leaves the
last `MIN_SECONDS_TO_QUEUE` for the ledger record, so it still gets 0.3 s."""
MIN_SECONDS_TO_ACT = 1.0
"""Less than this left, and the guard and the command's own call cannot both answer in time: nothing is done."""


class Check(Protocol):
    """A check a command must pass before it is published; it raises a `SlashopsError` to refuse.

    `deadline`: the check's own when it runs alongside the replay guard; None gives it its usual slice.
    """

    def __call__(self, command: Command, deps: IngressDeps, *, deadline: Deadline | None = None) -> None: ...


def claim_before_acting(command: Command, deps: IngressDeps) -> Command:
    """`command`, claimed under a new id its use case acts (and is recorded) under; a replay is refused.

    Claimed before anything is written, so a guard that cannot answer leaves everything as it was. The claim
    stands whatever the command then answers (locked by someone else, not locked): a replay of it is told it was
    already received, which is true, and is not applied. A retry is not a replay: typed again, Slack signs it anew.
    """
    name, deadline, signed = command.name, command.verified.deadline, command.verified.signed
    command_id = deps.new_id()
    if deadline.remaining() < MIN_SECONDS_TO_ACT:
        logger.error("%s not applied: out of time", name, extra={"command_id": command_id})
        raise _not_applied(name, "there was not enough time left to check that this request is new")
    try:
        earlier = deps.replays.first_sighting(
            signed, command_id, deadline=deadline.short_of(ACT_SECONDS).within(REPLAY_CHECK_SECONDS)
        )
    except ReplayGuardUnavailableError as error:
        logger.error("%s not applied: replay guard unavailable", name, extra={"command_id": command_id})
        why = "slashops could not check that this request is new (the request log did not answer)"
        raise _not_applied(name, why) from error
    if earlier is not None:
        logger.warning("replayed request refused", extra={"command_id": earlier, "command": name})
        raise AlreadyReceivedError(
            f"This request was already received{_received_at(signed)}; it is not applied again.",
            hint=f"Nothing was changed by this one. To `{name}` again, type the command again.",
        )
    return command._replace(claimed=command_id)


def claims_alongside(command: Command) -> bool:
    """Whether the check and the claim may overlap.

    The claim is made before the check has answered, so it stands when the check refuses. That is true and safe
    for a request keyed by its own signature: only a replay can repeat it (a user who tries again types it again,
    and Slack signs that anew), and a replay of the refused request cannot run it once the lock is gone (it is
    refused again while the lock holds, then told "already received as <id>", an id that never ran: as for a
    request recorded and then not queued).
    It would not be for a request keyed `once_per` a button (an approval, a Retry): a later genuine click is the
    same key, and after a refusal it must run, not be answered "already received"; nor for a request held for
    approval (claimed under its approval id once that is stored: `approving.ask`). Those check first.
    """
    verified = command.verified
    return not verified.signed.once_per and (command.approval is None or verified.approved is not None)


def check_and_claim(check: Check, command: Command, deps: IngressDeps) -> Command:
    """`check` passed, and for a request `claims_alongside` allows, `command` claimed under the id it is published as.

    The claim (a conditional write) starts in a worker thread and the check (a read) runs here meanwhile, both
    until `PUBLISH_SECONDS` before the deadline: under a burst neither is cut to a slice of the budget that the
    other may not need. The answer, in this order: the check's refusal as it is (without waiting for the guard:
    nothing will be published either way, and the refusal says why); not queued if the guard could not answer
    (fail closed); "already received" for a replay; else the command goes on to be published.
    """
    if not claims_alongside(command):
        check(command, deps)
        return command
    name, deadline, signed = command.name, command.verified.deadline, command.verified.signed
    command_id = deps.new_id()
    if deadline.remaining() < MIN_SECONDS_TO_QUEUE:
        logger.error("command not queued: out of time", extra={"command_id": command_id})
        raise not_queued(name)
    both = deadline.short_of(PUBLISH_SECONDS)
    sighting = start_within(both, lambda: deps.replays.first_sighting(signed, command_id, deadline=both))
    check(command, deps, deadline=both)
    try:
        earlier = sighting.result()
    except (ReplayGuardUnavailableError, DeadlineExceededError) as error:
        logger.error("command not queued: replay guard unavailable", extra={"command_id": command_id})
        raise not_queued(name) from error
    if earlier is not None:
        raise already_received(command, earlier, deps)
    return command._replace(claimed=command_id)


def _not_applied(name: str, why: str) -> NotAppliedError:
    return NotAppliedError(
        f"`{name}` was not applied: {why}, so nothing was changed.",
        hint="This is on our side, not yours: please try again in a minute.",
    )


def _received_at(signed: SignedRequest) -> str:
    """When the first was sent: its signed timestamp, which a replay repeats (not so for a button's `once_per`)."""
    if signed.once_per:
        return ""
    return f" at {datetime.fromtimestamp(signed.timestamp, UTC):%Y-%m-%d %H:%M:%S} UTC"
