"""`freeze`, `unfreeze` and `freezes`, answered here, and what a `deploy` (or a rollback's) into a frozen environment
meets: refused at once, or held for the approval of the freeze's `override` approvers.

A freeze is scheduled (`deploy.freezes` in the configuration: a cron window in a time zone) or ad-hoc (`/ops freeze
--env production --for 2h --reason "incident 42"`, kept in the lock table: `shared.freezes.models`). Unlike a lock,
a freeze binds everyone, whoever froze it; only a scheduled window with an `override` lets a deploy through, once one
of its approvers approves it (the approval flow of `chalicelib.approving`, the message saying it is a freeze
override, not an access rule).

`hold_if_frozen` is `deploy`'s `holds` step (`CommandSpec.holds`), on the configuration alone: scheduled windows
refuse, or hold for their override. `refuse_if_frozen_or_locked` is its `before_publishing` check, the one read
alongside the replay guard: an ad-hoc freeze refuses (it has no override), then a lock. The override is asked
first; when an access rule also holds the deploy, its approved run is then held for the rule's approvers, and that
approval carries the override (`overrode`): two approvals, never one standing for the other
(`approving.publish_or_ask`), and the published deploy carries the rule's approval, which the consumer checks
again. The approved override runs without being held again, but through the access rules like any run. If the
configuration or the lock table cannot be read, the deploy is refused (fail closed). The deploy service looks again
when the deploy arrives (`services.deploy.starting`): a deploy published just before a freeze landed.

`freeze` and `unfreeze` are recorded in the ledger like `lock` and `unlock` (`history` shows them) and pass the
replay guard (`changes_state`). `unfreeze` ends an ad-hoc freeze only: a scheduled window ends when the
configuration changes. `freezes` is shown to whoever the access rules admit to `deploy`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from chalicelib.access import may_run_here
from chalicelib.deps import IngressDeps
from chalicelib.errors import AccessRefusedError, FreezeHeldError, FrozenError, LocksUnreadableError, NotFrozenError
from chalicelib.locking import refuse_if_locked
from chalicelib.models import Command
from chalicelib.publishing import MIN_SECONDS_TO_QUEUE, build_event, record_history
from shared.aws.tables import LOCKS
from shared.config.access import ApprovalNeed
from shared.config.deploy import FreezeWindow
from shared.deadline import Deadline
from shared.errors import AccessDeniedError, ConfigurationError, UsageError
from shared.freezes.messages import FREEZES, override_reason, refusal
from shared.freezes.models import (
    EVERY_CLIENT,
    UPCOMING,
    Freeze,
    active,
    as_lock,
    from_lock,
    scheduled_at,
    upcoming,
    verdict,
)
from shared.locks.models import DurationError, describe_duration, parse_duration
from shared.locks.port import LockStore, LockStoreUnavailableError
from shared.slack.blocks import SlackMessage, context, section
from shared.slack.mrkdwn import code, mention, text

STORE_SECONDS = 1.0
"""At most this much of the answer's budget for one call to the lock table (as `locking.LOCK_SECONDS`)."""
RECORD_SECONDS = 0.5
"""At most this much for publishing a freeze or unfreeze for the ledger."""
MAX_FREEZE_SECONDS = 14 * 86400
"""The longest `--for`: a longer freeze is a scheduled window's job (`deploy.freezes`)."""


def freeze_env(command: Command, deps: IngressDeps) -> SlackMessage:
    arguments, request = command.parsed.arguments, command.request
    env, reason = str(arguments["env"]), str(arguments["reason"])
    seconds = freeze_seconds(arguments.get("for"))
    now = _now(deps)
    freeze = Freeze(
        env=env,
        reason=reason,
        start=now,
        end=now + timedelta(seconds=seconds),
        by=request.user_id,
        command_id=command.claimed or deps.new_id(),
    )
    lock = as_lock(freeze, by_name=request.user_name)
    try:
        held = _within(command, lambda deadline: _store(deps).acquire(lock, now=lock.locked_at, deadline=deadline))
    except LocksUnreadableError as error:
        raise LocksUnreadableError(
            f"The lock table did not answer in time, so slashops cannot tell whether {code(env)} is now frozen.",
            hint=f"{FREEZES} Freezing again only renews your own freeze.",
        ) from error
    if held is not None:
        other = from_lock(held)
        raise FreezeHeldError(
            f"{code(env)} is already frozen by {mention(other.by)} until {other.until}: {text(other.reason)}",
            hint=f"It stays frozen until then. Ask {mention(other.by)} to unfreeze it and freeze it anew. {FREEZES}",
        )
    _record(command, freeze.command_id, deps, f"froze {code(env)} until {freeze.until}: {text(reason)}")
    return SlackMessage(
        text=f"{env} frozen until {freeze.until}",
        blocks=(
            section(
                f":snowflake: {mention(request.user_id)} froze {code(env)} until {freeze.until} "
                f"({describe_duration(seconds)}): {text(reason)}\n"
                f"Deploys and rollbacks into {code(env)} are refused, everyone's, until then. "
                f"`/ops unfreeze --env {env}` ends it sooner."
            ),
        ),
        response_type="in_channel",
    )


def unfreeze_env(command: Command, deps: IngressDeps) -> SlackMessage:
    request = command.request
    env = str(command.parsed.arguments["env"])
    now = _now(deps)
    lock = _within(command, lambda deadline: _store(deps).get(EVERY_CLIENT, env, deadline=deadline))
    windows = scheduled_at(_windows(deps), now, env)
    if lock is None or not lock.active(int(now.timestamp())):
        raise _not_frozen(env, windows)
    if not _within(command, lambda deadline: _store(deps).release(lock, deadline=deadline)):
        raise FreezeHeldError(
            f"The freeze of {code(env)} changed while you unfroze it; it was left as it is now.", hint=FREEZES
        )
    ended = from_lock(lock)
    what = f"{code(env)} (frozen by {mention(ended.by)} until {ended.until}: {text(ended.reason)})"
    _record(command, command.claimed or deps.new_id(), deps, f"unfroze {what}")
    still = ""
    if windows:
        last = max(windows, key=lambda freeze: freeze.end)
        still = f"\nIt stays frozen by the {last.source()} until {last.until}: {text(last.reason)}."
    return SlackMessage(
        text=f"{env} unfrozen",
        blocks=(section(f":sunny: {mention(request.user_id)} unfroze {what}.{still}"),),
        response_type="in_channel",
    )


def show_freezes(command: Command, deps: IngressDeps) -> SlackMessage:
    """Active and upcoming freezes, for whoever the access rules admit to `deploy` here."""
    _admit_viewer(command, deps)
    now = _now(deps)
    locks = _within(command, lambda deadline: _store(deps).active(now=int(now.timestamp()), deadline=deadline))
    windows = _windows(deps)
    open_now = active(windows, locks, now)
    soon = [freeze for freeze in upcoming(windows, now) if not freeze.active(now)]
    if not open_now and not soon:
        line = f"No environment is frozen, and no freeze window opens in the next {describe_duration(_days())}."
        return SlackMessage(text=line, blocks=(section(line),))
    parts = []
    if open_now:
        parts.append("*Frozen now*\n" + "\n".join(_active_line(freeze) for freeze in open_now))
    if soon:
        parts.append(
            f"*Opening in the next {describe_duration(_days())}*\n"
            + "\n".join(_upcoming_line(freeze) for freeze in soon)
        )
    note = "Scheduled windows come from `deploy.freezes` in the configuration; `/ops unfreeze` ends ad-hoc ones."
    return SlackMessage(
        text=f"{len(open_now)} active freeze(s), {len(soon)} upcoming",
        blocks=(*(section(part) for part in parts), context(note)),
    )


def hold_if_frozen(command: Command, deps: IngressDeps) -> Command:
    """`deploy`'s `holds` step, on the configuration alone (no call: the answer's budget is the guard's and the
    checks'): refused if a scheduled window without an override is open, held for approval if the open windows
    name an override (unless this request's override of that very freeze was approved)."""
    env = str(command.parsed.arguments["env"])
    found = verdict(scheduled_at(_readable_windows(env, deps), _now(deps), env))
    if found is None:
        return command
    if found.override is None:
        message, hint = refusal(env, found)
        raise FrozenError(message, hint=hint)
    need = ApprovalNeed(rule=0, policy=found.override, held_because=override_reason(found.freeze))
    if overridden(command, need.held_because):
        return command  # this override was approved: it runs (the access rules were applied again)
    return command._replace(approval=need)  # asked first; an access rule's approval, if any, is asked after it


def refuse_if_frozen_or_locked(command: Command, deps: IngressDeps, *, deadline: Deadline | None = None) -> None:
    """`deploy`'s check before publishing, alongside the replay guard (`chalicelib.replays.check_and_claim`): an
    ad-hoc freeze of its environment (never overridden), then a lock of its target (`locking.refuse_if_locked`).
    A lock table that does not answer refuses the deploy (fail closed)."""
    env = str(command.parsed.arguments["env"])
    try:
        lock = _within(command, lambda within: _store(deps).get(EVERY_CLIENT, env, deadline=within), deadline)
    except LocksUnreadableError as error:
        raise LocksUnreadableError(
            f"slashops could not check whether {code(env)} is frozen{_or_locked(command, env)} (the lock table did "
            "not answer), so the deploy was not started.",
            hint="Nothing was queued. Try again in a minute.",
        ) from error
    found = verdict(active((), [lock], _now(deps), env))
    if found is not None:
        message, hint = refusal(env, found)
        raise FrozenError(message, hint=hint)
    refuse_if_locked(command, deps, deadline=deadline)


def overridden(command: Command, reason: str) -> bool:
    """Whether an approver approved overriding this very freeze for this request: the approval being run, or the
    override an access rule's approval was asked after (`overrode`)."""
    granted = command.verified.approved
    return granted is not None and reason in (granted.approval.held_because, granted.approval.overrode)


def _readable_windows(env: str, deps: IngressDeps) -> tuple[FreezeWindow, ...]:
    try:
        return _windows(deps)
    except ConfigurationError as error:  # read already for the access rules: only a change in between gets here
        raise ConfigurationError(
            f"the freeze windows (`deploy.freezes`) cannot be read, so a deploy into {env} was refused: {error}"
        ) from error


def _or_locked(command: Command, env: str) -> str:
    client = command.parsed.arguments.get("client")
    return f" or {code(str(client))} {code(env)} is locked" if client else ""


def freeze_seconds(value: object) -> int:
    """`--for` as seconds, at most `MAX_FREEZE_SECONDS`; a usage error otherwise."""
    try:
        seconds = parse_duration(str(value))
    except DurationError as error:
        raise UsageError(f"Invalid `--for`: {text(error)}.", hint="For example `--for 30m`, `--for 2h`.") from error
    if seconds > MAX_FREEZE_SECONDS:
        longest = describe_duration(MAX_FREEZE_SECONDS)
        raise UsageError(
            f"`--for {text(value)}` is longer than the longest freeze allowed ({longest}).",
            hint=f"Freeze for at most {longest}; a recurring freeze belongs in `deploy.freezes` of the configuration.",
        )
    return seconds


def affecting(who: Sequence[str], deps: IngressDeps, command: Command) -> list[str]:
    """mrkdwn lines for `whoami`: each freeze of an environment in `who` (those the caller may deploy to) that is
    open now or opens within a day. Unreadable freezes say so instead of nothing (a deploy would be refused)."""
    now = _now(deps)
    try:
        windows = _windows(deps)
        locks = _within(command, lambda deadline: _store(deps).active(now=int(now.timestamp()), deadline=deadline))
    except (ConfigurationError, LocksUnreadableError):
        return [":warning: slashops could not read the freezes just now: a deploy checks them again."]
    lines = [f":snowflake: {_active_line(freeze)}" for freeze in active(windows, locks, now) if freeze.env in who]
    day = timedelta(days=1)
    lines += [
        f":calendar: {_upcoming_line(freeze)}"
        for freeze in upcoming(windows, now, day)
        if freeze.env in who and not freeze.active(now)
    ]
    return lines


def _active_line(freeze: Freeze) -> str:
    return (
        f"{code(freeze.env)} frozen until {freeze.until} — {text(freeze.reason)} ({freeze.source()}){_override(freeze)}"
    )


def _upcoming_line(freeze: Freeze) -> str:
    return (
        f"{code(freeze.env)} freezes from {freeze.since} until {freeze.until} — {text(freeze.reason)} "
        f"({freeze.source()}){_override(freeze)}"
    )


def _override(freeze: Freeze) -> str:
    if freeze.override is None:
        return "; deploys are refused"
    return f"; deploys need an override approved by {freeze.override.describe()}"


def _not_frozen(env: str, windows: list[Freeze]) -> NotFrozenError:
    if not windows:
        return NotFrozenError(f"{code(env)} is not frozen by `/ops freeze`.", hint=FREEZES)
    last = max(windows, key=lambda freeze: freeze.end)
    return NotFrozenError(
        f"{code(env)} has no freeze made with `/ops freeze` to end: it is frozen by the {last.source()} "
        f"until {last.until}: {text(last.reason)}.",
        hint="`unfreeze` ends only `/ops freeze` freezes; a scheduled window ends when `deploy.freezes` in the "
        "slashops configuration is changed (ask whoever maintains it).",
    )


def _admit_viewer(command: Command, deps: IngressDeps) -> None:
    """`freezes` is for whoever may deploy: the access rules on `deploy`, in this channel, whatever the arguments."""
    deploy = deps.catalog.get("deploy")
    if deploy is None:
        return
    try:
        may_run_here(deploy, command.request, deps, deadline=command.verified.deadline)
    except AccessRefusedError as error:
        raise AccessDeniedError(
            "Only users the access rules admit to `deploy` in this channel see the freezes.",
            hint="`/ops whoami` shows what you may run here.",
            rule=error.rule,
        ) from error


def _windows(deps: IngressDeps) -> tuple[FreezeWindow, ...]:
    return deps.config.get().deploy.freezes


def _now(deps: IngressDeps) -> datetime:
    return deps.now().astimezone(UTC).replace(microsecond=0)


def _days() -> int:
    return int(UPCOMING.total_seconds())


def _within[T](command: Command, call: Callable[[Deadline], T], deadline: Deadline | None = None) -> T:
    """`deadline`: the check's own when it runs alongside the replay guard; else a slice of the answer's budget."""
    step = deadline or command.verified.deadline.short_of(MIN_SECONDS_TO_QUEUE).within(STORE_SECONDS)
    try:
        return call(step)
    except LockStoreUnavailableError as error:
        raise LocksUnreadableError(
            "The lock table, which keeps freezes, did not answer in time.",
            hint="Nothing was changed that slashops knows of; try again.",
        ) from error


def _store(deps: IngressDeps) -> LockStore:
    if deps.locks is None:
        raise ConfigurationError(f"no lock table configured ({LOCKS.variable}): it keeps the freezes")
    return deps.locks


def _record(command: Command, command_id: str, deps: IngressDeps, answered: str) -> None:
    """The freeze or unfreeze for the ledger, as done (`answered`, mrkdwn), best effort: it took effect whatever the
    bus says."""
    event = build_event(command, command_id=command_id, now=deps.now()).model_copy(update={"answered": answered})
    deadline = command.verified.deadline.within(RECORD_SECONDS)
    record_history(event, deps, deadline, what=command.name, user_id=command.request.user_id, text=command.text)
