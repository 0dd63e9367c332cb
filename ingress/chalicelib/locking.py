"""`lock`, `unlock` and `locks`, answered here, and the refusal of a `deploy` into a locked target.

Why the ingress: "a deploy into a locked target is refused at once" — one `GetItem` within the request's budget,
before anything is published — and two `lock`s at once must tell the loser who won, which the conditional write does
in the same call. The deploy service checks again before it claims (a deploy queued before the lock landed).

A lock or unlock that took effect is recorded in the ledger as the `CommandRequested` it was (the notifier records
it and posts nothing: the user was answered here); best effort within the budget, like a refusal: the lock table is
the truth, the ledger its history. A deploy refused for a lock is recorded as a refusal ("not allowed").

`unlock` is open to every caller at the door (like `cancel`): the holder may always end their own lock; anyone else
needs an access rule admitting them to `unlock`.

`lock` and `unlock` change state (`CommandSpec.changes_state`): each signed request has passed the replay guard
before it gets here (`chalicelib.replays.claim_before_acting`), so a captured `unlock` sent again cannot remove a
newer lock, nor a captured `lock` re-create one after its unlock. The id the guard recorded it under is the id it
has in the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from chalicelib.access import authorize, may_run_here
from chalicelib.deps import IngressDeps
from chalicelib.errors import AccessRefusedError, LockHeldError, LocksUnreadableError, NotLockedError, TargetLockedError
from chalicelib.models import Command
from chalicelib.publishing import MIN_SECONDS_TO_QUEUE, build_event, record_history
from shared.aws.tables import LOCKS
from shared.config.deploy import LocksConfig
from shared.deadline import Deadline
from shared.errors import AccessDeniedError, ConfigurationError, UsageError
from shared.freezes.models import is_freeze
from shared.locks.models import DurationError, Lock, describe_duration, parse_duration
from shared.locks.port import LockStore, LockStoreUnavailableError
from shared.slack.blocks import SlackMessage, section
from shared.slack.mrkdwn import code, mention, text

logger = logging.getLogger(__name__)
LOCK_SECONDS = 1.0
"""At most this much of the answer's budget for one call to the lock table, and never the last `MIN_SECONDS_TO_QUEUE`
of it (the ledger record after a lock, the publish after a deploy's check). A deploy's check that runs alongside
the replay guard is given its own deadline instead (`chalicelib.replays.check_and_claim`)."""
RECORD_SECONDS = 0.5
"""At most this much for publishing a lock or unlock for the ledger."""


def lock_target(command: Command, deps: IngressDeps) -> SlackMessage:
    arguments, request = command.parsed.arguments, command.request
    client, env = _target(command, deps)
    seconds = lock_seconds(arguments.get("for"), deps.config.get().deploy.locks)
    now = int(deps.now().timestamp())
    lock = Lock(
        client=client,
        env=env,
        holder=request.user_id,
        holder_name=request.user_name,
        reason=str(arguments["reason"]),
        locked_at=now,
        expires_at=now + seconds,
        command_id=command.claimed or deps.new_id(),
    )
    try:
        held = _within(command, lambda deadline: _store(deps).acquire(lock, now=now, deadline=deadline))
    except LocksUnreadableError as error:
        raise LocksUnreadableError(
            f"The lock table did not answer in time, so slashops cannot tell whether {_name(client, env)} is now "
            "locked.",
            hint="`/ops locks` shows it in a minute; locking again only renews your own lock.",
        ) from error
    if held is not None:
        raise LockHeldError(
            f"{_name(client, env)} is already locked by {mention(held.holder)} until {held.until}: {text(held.reason)}",
            hint=f"Ask {mention(held.holder)}, or wait until then. `/ops locks` lists every lock.",
        )
    _record(command, lock.command_id, deps, f"locked {_name(client, env)} until {lock.until}: {text(lock.reason)}")
    return SlackMessage(
        text=f"{client} {env} locked until {lock.until}",
        blocks=(
            section(
                f":lock: {mention(lock.holder)} locked {_name(client, env)} until {lock.until} "
                f"({describe_duration(seconds)}): {text(lock.reason)}\n"
                f"Deploys into it are refused, except {mention(lock.holder)}'s. "
                f"`/ops unlock --client {client} --env {env}` ends it sooner."
            ),
        ),
        response_type="in_channel",
    )


def unlock_target(command: Command, deps: IngressDeps) -> SlackMessage:
    request = command.request
    client, env = _target(command, deps)
    now = int(deps.now().timestamp())
    lock = _within(command, lambda deadline: _store(deps).get(client, env, deadline=deadline))
    if lock is None or not lock.active(now):
        raise NotLockedError(f"{_name(client, env)} is not locked.", hint="`/ops locks` lists every lock.")
    if not lock.held_by(request.user_id):
        _admit_unlock(command, lock, deps)
    if not _within(command, lambda deadline: _store(deps).release(lock, deadline=deadline)):
        raise LockHeldError(
            f"The lock on {_name(client, env)} changed while you unlocked it; it was left as it is now.",
            hint="`/ops locks` shows who holds it now.",
        )
    _record(command, command.claimed or deps.new_id(), deps, f"unlocked {_name(client, env)}")
    by_other = "" if lock.held_by(request.user_id) else f" (locked by {mention(lock.holder)}: {text(lock.reason)})"
    return SlackMessage(
        text=f"{client} {env} unlocked",
        blocks=(section(f":unlock: {mention(request.user_id)} unlocked {_name(client, env)}{by_other}."),),
        response_type="in_channel",
    )


def show_locks(command: Command, deps: IngressDeps) -> SlackMessage:
    now = int(deps.now().timestamp())
    stored = _within(command, lambda deadline: _store(deps).active(now=now, deadline=deadline))
    locks = [lock for lock in stored if not is_freeze(lock)]  # freezes share the table: `/ops freezes` lists them
    if not locks:
        return SlackMessage(text="No deploy target is locked.", blocks=(section("No deploy target is locked."),))
    lines = [
        f"• {_name(lock.client, lock.env)} — {mention(lock.holder)} until {lock.until}: {text(lock.reason)}"
        for lock in locks
    ]
    return SlackMessage(
        text=f"{len(locks)} locked target(s)", blocks=(section("*Locked deploy targets*\n" + "\n".join(lines)),)
    )


def refuse_if_locked(command: Command, deps: IngressDeps, *, deadline: Deadline | None = None) -> None:
    """A `deploy` into another user's active lock is refused here, before anything is published.

    If the lock table cannot be read in time, the deploy is refused too (fail closed): it is never published
    without the check. `deadline`: the read's own, when it runs alongside the replay guard (else a step's slice).
    """
    arguments, user = command.parsed.arguments, command.request.user_id
    client, env = str(arguments["client"]), str(arguments["env"])
    try:
        lock = _within(command, lambda within: _store(deps).get(client, env, deadline=within), deadline)
    except LocksUnreadableError as error:
        raise LocksUnreadableError(
            f"slashops could not check whether {_name(client, env)} is locked (the lock table did not answer), "
            "so the deploy was not started.",
            hint="Nothing was queued. Try again in a minute.",
        ) from error
    if lock is not None and lock.active(int(deps.now().timestamp())) and not lock.held_by(user):
        raise TargetLockedError(
            f"{_name(client, env)} is locked by {mention(lock.holder)} until {lock.until}: {text(lock.reason)}",
            hint=f"The deploy was not started. Ask {mention(lock.holder)}, or wait until then; "
            "`/ops locks` lists every lock.",
        )


def lock_seconds(value: object, limits: LocksConfig) -> int:
    """`--for` as seconds (the configured default when omitted); a usage error past the configured maximum."""
    if value is None:
        return limits.default
    try:
        seconds = parse_duration(str(value))
    except DurationError as error:
        raise UsageError(f"Invalid `--for`: {text(error)}.", hint="For example `--for 30m`, `--for 2h`.") from error
    if seconds > limits.max:
        raise UsageError(
            f"`--for {text(value)}` is longer than the longest lock allowed ({describe_duration(limits.max)}).",
            hint=f"Lock for at most {describe_duration(limits.max)}, and lock again before it expires.",
        )
    return seconds


def _target(command: Command, deps: IngressDeps) -> tuple[str, str]:
    arguments = command.parsed.arguments
    client, env = str(arguments["client"]), str(arguments["env"])
    config = deps.config.get().deploy
    if not config.knows(client):
        known = ", ".join(code(name) for name in config.client_names()) or "none"
        raise UsageError(f"Unknown client {code(client)}.", hint=f"Clients that can be deployed: {known}.")
    return client, env


def _admit_unlock(command: Command, lock: Lock, deps: IngressDeps) -> None:
    """Someone else's lock: only a user the access rules admit to `unlock` (with these arguments) may end it."""
    spec, request, deadline = command.parsed.spec, command.request, command.verified.deadline
    try:
        caller = may_run_here(spec, request, deps, deadline=deadline)
        authorize(spec, command.parsed.arguments, caller, deps)
    except AccessRefusedError as error:
        raise AccessDeniedError(
            f"{_name(lock.client, lock.env)} is locked by {mention(lock.holder)} until {lock.until}: "
            f"{text(lock.reason)}. Only they, or someone the access rules admit to `unlock`, can unlock it.",
            hint=f"Ask {mention(lock.holder)}; it also expires by itself at {lock.until}.",
            rule=error.rule,
        ) from error


def _within[T](command: Command, call: Callable[[Deadline], T], deadline: Deadline | None = None) -> T:
    step = deadline or command.verified.deadline.short_of(MIN_SECONDS_TO_QUEUE).within(LOCK_SECONDS)
    try:
        return call(step)
    except LockStoreUnavailableError as error:
        raise LocksUnreadableError(
            "The lock table did not answer in time.", hint="Nothing was changed that slashops knows of; try again."
        ) from error


def _store(deps: IngressDeps) -> LockStore:
    if deps.locks is None:
        raise ConfigurationError(f"no lock table configured ({LOCKS.variable})")
    return deps.locks


def _record(command: Command, command_id: str, deps: IngressDeps, answered: str) -> None:
    """The lock or unlock for the ledger, as done (`answered`: what it did, mrkdwn), best effort: it took effect
    whatever the bus says."""
    event = build_event(command, command_id=command_id, now=deps.now()).model_copy(update={"answered": answered})
    deadline = command.verified.deadline.within(RECORD_SECONDS)
    record_history(event, deps, deadline, what=command.name, user_id=command.request.user_id, text=command.text)


def _name(client: str, env: str) -> str:
    return f"{code(client)} {code(env)}"
