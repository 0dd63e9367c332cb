"""A user's Home tab: read what concerns them, lay it out (`shared.slack.home`), publish it (`views.publish`).

Published when they open it (`chalicelib.events`, `app_home_opened`) and after a click on it (`clicks`). What it
shows, each part read at once (in worker threads) within the request's budget, so a slow part costs its own slice
and never the others' — a part not read in time says so instead of showing nothing:
- approvals waiting for them: pending requests (`ApprovalStore.pending`) whose stored approvers admit them by ID
  (`approver_admitted`, groups and names through Slack), never their own; with Approve/Deny as in the channel;
- their commands running now and their last ten (the ledger, their own only: what `status` shows them);
- active deploy locks (for a user the rules admit to `locks` somewhere) and active and upcoming freezes (for a user
  admitted to `deploy` somewhere, as `/ops freezes` asks); a lock starts when it is taken, so none is "upcoming";
- the newest finished backup of each configured database the rules admit them to `backup` somewhere.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from chalicelib.approving import policy_of
from chalicelib.deps import IngressDeps
from shared.approvals import ApprovalStoreUnavailableError, PendingApproval
from shared.backups import BackupCatalogUnavailableError, backup_started
from shared.config.access import (
    AccessRule,
    Caller,
    approver_admitted,
    may_run_somewhere,
    may_see_commands_of,
    named_groups,
    named_names,
)
from shared.deadline import Deadline, DeadlineExceededError, Pending, start_within
from shared.errors import UnavailableError
from shared.freezes.models import Freeze, active, is_freeze, upcoming
from shared.ledger.models import LedgerEntry
from shared.ledger.shown import age
from shared.locks.models import Lock
from shared.slack.approvals import HeldCommand
from shared.slack.blocks import Block
from shared.slack.groups import caller_groups
from shared.slack.home import HomePart, command_parts, home_view, unread_command_parts
from shared.slack.mrkdwn import code, mention, text
from shared.slack.names import resolve_names
from shared.slack.views import ViewsUnavailableError

logger = logging.getLogger(__name__)
PUBLISH_SECONDS = 0.8
"""Kept for `views.publish` after the reads."""
SLACK_SECONDS = 0.5
"""At most this much to ask Slack for the user's groups and the names the rules use (cached after the first)."""
APPROVALS_READ = 50
RECENT_READ = 60
"""Ledger entries read (the user's, newest first) to find the running ones and the last ten."""
DATABASES_SHOWN = 12
NOT_READ = ":warning: Not read in time ({what} did not answer): reopen the Home in a minute."


def publish_home(user_id: str, deps: IngressDeps, deadline: Deadline, *, notice: Sequence[Block] = ()) -> bool:
    """Build and publish `user_id`'s Home; False (logged) when Slack did not take it or nothing can publish."""
    if deps.home is None:
        logger.warning("no Home published: the ingress has no views.publish adapter", extra={"user_id": user_id})
        return False
    view = home_of(user_id, deps, deadline.short_of(PUBLISH_SECONDS), notice=notice)
    try:
        deps.home.publish(user_id, view, deadline=deadline)
    except ViewsUnavailableError as error:
        logger.warning("Home not published", extra={"user_id": user_id, "problem": str(error)})
        return False
    logger.info("Home published", extra={"user_id": user_id})
    return True


def home_of(user_id: str, deps: IngressDeps, deadline: Deadline, *, notice: Sequence[Block] = ()) -> dict[str, Any]:
    """The Home's view for `user_id`, every part read by `deadline`."""
    now = deps.now().astimezone(UTC).replace(microsecond=0)
    config = deps.config.get()
    caller = _caller(user_id, config.access, deps, deadline.within(SLACK_SECONDS))
    approvals = start_within(deadline, lambda: _approvals(user_id, deps, deadline, now))
    commands = start_within(deadline, lambda: _commands(user_id, deps))
    locks = start_within(deadline, lambda: _locks(deps, deadline, now))
    databases = [db for db in config.backup.databases if _may(config.access, "backup", caller, {"db": db})]
    backups = [
        (db, start_within(deadline, partial(_latest, db, deps, deadline, now))) for db in databases[:DATABASES_SHOWN]
    ]
    held, approvals_note = _approval_part(approvals)
    parts = [
        *_command_parts(commands, now),
        *_lock_parts(locks, config.deploy.freezes, caller, config.access, now),
        _backup_part(config.backup.databases, databases, backups, now, deps),
    ]
    return home_view(
        approvals=held, approvals_note=approvals_note, parts=parts, updated=f"{now:%Y-%m-%d %H:%M} UTC", notice=notice
    )


def _caller(user_id: str, rules: Sequence[AccessRule], deps: IngressDeps, deadline: Deadline) -> Caller:
    """The user with the groups and names the rules use (no channel: the Home is in none); Slack unasked → those
    rules fail closed."""
    groups = caller_groups(user_id, named_groups(rules), deps.groups, deadline=deadline)
    names = resolve_names(named_names(rules), deps.names, deadline=deadline)
    return Caller(user_id=user_id, user_name="", channel_id="", channel_name="", groups=groups, names=names)


def _may(rules: Sequence[AccessRule], command: str, caller: Caller, arguments: dict[str, Any] | None = None) -> bool:
    if arguments is None:
        return may_see_commands_of(rules, command=command, caller=caller)
    return may_run_somewhere(rules, command=command, caller=caller, arguments=arguments)


def _approvals(user_id: str, deps: IngressDeps, deadline: Deadline, now: datetime) -> list[HeldCommand] | None:
    """Pending requests the user may decide (None: no approval table configured)."""
    if deps.approvals is None:
        return None
    pending = deps.approvals.pending(int(now.timestamp()), limit=APPROVALS_READ, deadline=deadline)
    return [HeldCommand.of(approval) for approval in pending if _decides(approval, user_id, deps, deadline)]


def _decides(approval: PendingApproval, user_id: str, deps: IngressDeps, deadline: Deadline) -> bool:
    """By ID only, never the requester (exactly what `approval_clicks` lets decide)."""
    if approval.requester == user_id:
        return False
    return approver_admitted(policy_of(approval), user_id, deps.groups, deps.names, deadline=deadline) is True


def _approval_part(pending: Pending[list[HeldCommand] | None]) -> tuple[list[HeldCommand], str]:
    try:
        held = pending.result()
    except (ApprovalStoreUnavailableError, DeadlineExceededError) as error:
        logger.warning("Home: approvals not read", extra={"problem": str(error)})
        return [], NOT_READ.format(what="the approval table")
    if held is None:
        return [], "Approvals are not set up in this slashops (no approval table)."
    return held, ""


def _commands(user_id: str, deps: IngressDeps) -> list[LedgerEntry] | None:
    if deps.ledger is None:
        return None
    return list(itertools.islice(deps.ledger.iter_recent(user=user_id), RECENT_READ))


def _command_parts(pending: Pending[list[LedgerEntry] | None], now: datetime) -> list[HomePart]:
    try:
        entries = pending.result()
    except (UnavailableError, DeadlineExceededError) as error:
        logger.warning("Home: ledger not read", extra={"problem": str(error)})
        return unread_command_parts(NOT_READ.format(what="the command ledger"))
    if entries is None:
        return unread_command_parts("The command ledger is not set up in this slashops.")
    return command_parts(entries, now)


def _locks(deps: IngressDeps, deadline: Deadline, now: datetime) -> list[Lock] | None:
    if deps.locks is None:
        return None
    return deps.locks.active(now=int(now.timestamp()), deadline=deadline)


def _lock_parts(
    pending: Pending[list[Lock] | None],
    windows: Sequence[Any],
    caller: Caller,
    rules: Sequence[AccessRule],
    now: datetime,
) -> list[HomePart]:
    sees_locks, sees_freezes = _may(rules, "locks", caller), _may(rules, "deploy", caller)
    if not sees_locks and not sees_freezes:
        return []
    try:
        stored = pending.result()
    except (UnavailableError, DeadlineExceededError) as error:
        logger.warning("Home: locks not read", extra={"problem": str(error)})
        stored = None
        missing = NOT_READ.format(what="the lock table")
    else:
        missing = "The lock table is not set up in this slashops." if stored is None else ""
    parts = []
    if sees_locks:
        lines = tuple(_lock_line(lock) for lock in stored or () if not is_freeze(lock))
        parts.append(HomePart("Deploy locks", lines, missing or "No deploy target is locked."))
    if sees_freezes:
        frozen = active(windows, stored or (), now)
        soon = [freeze for freeze in upcoming(windows, now) if not freeze.active(now)]
        lines = (*(_frozen_line(freeze) for freeze in frozen), *(_upcoming_line(freeze) for freeze in soon))
        empty = missing or "No environment is frozen, and no freeze window opens in the next 7 days."
        parts.append(HomePart("Freezes", lines, empty))
    return parts


def _lock_line(lock: Lock) -> str:
    target = f"{code(lock.client)} {code(lock.env)}"
    return f":lock: {target} — {mention(lock.holder)} until {lock.until}: {text(lock.reason)}"


def _frozen_line(freeze: Freeze) -> str:
    return f":snowflake: {code(freeze.env)} frozen until {freeze.until} — {text(freeze.reason)} ({freeze.source()})"


def _upcoming_line(freeze: Freeze) -> str:
    return (
        f":calendar: {code(freeze.env)} freezes from {freeze.since} until {freeze.until} — {text(freeze.reason)} "
        f"({freeze.source()})"
    )


def _latest(database: str, deps: IngressDeps, deadline: Deadline, now: datetime) -> str | None:
    if deps.backups is None:
        return None
    return deps.backups.latest(database, now=int(now.timestamp()), deadline=deadline)


def _backup_part(
    listed: Sequence[str],
    databases: list[str],
    pending: list[tuple[str, Pending[str | None]]],
    now: datetime,
    deps: IngressDeps,
) -> HomePart:
    title = "Latest backups of the databases you may back up"
    if not listed:
        why = "The configuration does not list the databases (`backup.databases`), so the Home cannot show them"
        return HomePart(title, (), f"{why}: {code('/ops backups --db <name>')} lists a database's backups.")
    if not databases:
        return HomePart(title, (), "The access rules let you back up none of the configured databases.")
    if deps.backups is None:
        return HomePart(title, (), "The backup bucket is not set up for the ingress (`BackupBucketName`).")
    lines = [_backup_line(database, read, now) for database, read in pending[:DATABASES_SHOWN]]
    hidden = len(databases) - DATABASES_SHOWN
    note = f"{hidden} more database(s) not shown: {code('/ops backups --db <name>')} lists any." if hidden > 0 else ""
    return HomePart(title, tuple(lines), "", note=note)


def _backup_line(database: str, read: Pending[str | None], now: datetime) -> str:
    try:
        backup_id = read.result()
    except (BackupCatalogUnavailableError, DeadlineExceededError) as error:
        logger.warning("Home: backups not read", extra={"database": database, "problem": str(error)})
        return f":warning: {code(database)} — not read in time (the backup bucket did not answer)"
    if backup_id is None:
        return f":grey_question: {code(database)} — no finished backup yet ({code(f'/ops backup --db {database}')})"
    started = backup_started(backup_id)
    when = f", started {started:%Y-%m-%d %H:%M} UTC ({age(started, now)} ago)" if started else ""
    return f":floppy_disk: {code(database)} — {code(backup_id)}{when}"
