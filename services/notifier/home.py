"""The Home tab refreshed when something on it changes for a user, by the notifier (the one that learns of it):

- `ApprovalRequested`: the Home of each approver the rule names by user ID (not the requester), so the request and
  its Approve/Deny buttons are there without reopening the tab;
- `ApprovalDecided`: the requester's and those approvers' (the request leaves the approvers' Homes);
- a final result (succeeded, failed, cancelled, rejected): the requester's, so the command moves from "running now"
  to their last ten.

The notifier reads the ledger only, so the Home it publishes shows what the ledger knows: the requests waiting for
the user (the ledger's recent held commands naming them by ID; an approver named through a Slack user group or a
user name sees a request when they next open the tab), their running commands and their last ten. Locks, freezes
and backups are left to the ingress' Home, published when the user opens the tab: the refreshed Home says so. A
button on it is decided by the ingress exactly as on the full Home (`chalicelib.approval_clicks` re-checks who
clicked), so a request shown here by mistake cannot be decided by the wrong person.

A refresh is best effort and never fails the event's own delivery (logged at WARNING): the next visit to the tab
publishes the full Home anyway. A finished command refreshes its requester's Home at most once per
`FINISHED_EVERY` per notifier process: each refresh reads the ledger (the user's recent commands and everyone's held
ones), and a burst of one user's commands would otherwise read it once per command (measured: a 1,000-deploy burst
under make run lost three quarters of its final messages to the emulator's load). Approval events always refresh.
"""

from __future__ import annotations

import itertools
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared.deadline import Deadline
from shared.events.models import (
    AnyEvent,
    ApprovalDecided,
    ApprovalRequested,
    CommandCancelled,
    CommandFailed,
    CommandRejected,
    CommandSucceeded,
)
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import LedgerEntry
from shared.slack.approvals import HeldCommand, split_approvers
from shared.slack.home import HomePart, command_parts, home_view
from shared.slack.views import ViewsUnavailableError

if TYPE_CHECKING:
    from services.notifier.deps import NotifierDeps

logger = logging.getLogger(__name__)
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")
FINAL = CommandSucceeded | CommandFailed | CommandCancelled | CommandRejected
RECENT_READ = 60
"""The user's own ledger entries read for their running and last ten commands."""
HELD_SCANNED = 200
"""Recent commands (everyone's) scanned for requests waiting for the user."""
PUBLISH_SECONDS = 3.0
FINISHED_EVERY = timedelta(seconds=30)
"""The least time between two refreshes of one user's Home for finished commands (approval events: every time)."""
ELSEWHERE = HomePart(
    "Locks, freezes and backups",
    (),
    "Shown when you open this tab: this Home was refreshed because one of your commands or approvals changed.",
)


def refresh_after(event: AnyEvent, deps: NotifierDeps) -> None:
    """Republish the Home of every user `event` changes it for (nothing without a Home publisher)."""
    if deps.home is None:
        return
    try:
        users = concerned(event, deps)
        if isinstance(event, FINAL):
            users = [user for user in users if _due(user, deps)]
        for user in users:
            publish(user, deps)
    except (ViewsUnavailableError, LedgerUnavailableError) as error:
        logger.warning("Home not refreshed", extra={"command_id": event.command_id, "problem": str(error)})


def _due(user: str, deps: NotifierDeps) -> bool:
    """Whether `user`'s Home may be refreshed for a finished command now (and if so, noted as refreshed)."""
    now, last = deps.now(), deps.home_refreshed.get(user)
    if last is not None and now - last < FINISHED_EVERY:
        return False
    deps.home_refreshed[user] = now
    return True


def concerned(event: AnyEvent, deps: NotifierDeps) -> list[str]:
    """Whose Home `event` changes (user IDs, each once)."""
    if isinstance(event, ApprovalRequested):
        return _approvers(event.approvers, event.actor.user_id)
    if isinstance(event, ApprovalDecided | FINAL):
        entry = deps.ledger.get(event.command_id)
        stated = event.requester if isinstance(event, ApprovalDecided) else ""
        requester = stated or (entry.user_id if entry else "")
        approvers = _approvers(entry.approvers, requester) if isinstance(event, ApprovalDecided) and entry else []
        return [user for user in dict.fromkeys([requester, *approvers]) if _USER_ID.fullmatch(user)]
    return []


def publish(user_id: str, deps: NotifierDeps) -> None:
    """The Home from what the ledger knows (see the module), published for `user_id`."""
    assert deps.home is not None
    now = deps.now().astimezone(UTC).replace(microsecond=0)
    own = list(itertools.islice(deps.ledger.iter_recent(user=user_id), RECENT_READ))
    recent = itertools.islice(deps.ledger.iter_recent(), HELD_SCANNED)
    waiting = [_held(entry) for entry in recent if _waits_for(entry, user_id, now)]
    view = home_view(
        approvals=waiting,
        approvals_note="A request whose approvers are named by group or name appears when you reopen this tab.",
        parts=[*command_parts(own, now), ELSEWHERE],
        updated=f"{now:%Y-%m-%d %H:%M} UTC",
    )
    deps.home.publish(user_id, view, deadline=Deadline.after(PUBLISH_SECONDS))
    logger.info("Home refreshed", extra={"user_id": user_id})


def _approvers(approvers: tuple[str, ...], requester: str) -> list[str]:
    users, _ = split_approvers(approvers)
    return [user for user in dict.fromkeys(users) if _USER_ID.fullmatch(user) and user != requester]


def _waits_for(entry: LedgerEntry, user_id: str, now: datetime) -> bool:
    return (
        entry.state == "awaiting approval"
        and not entry.approval
        and not entry.approval_lapsed(now)
        and entry.approval_expires_at is not None
        and entry.user_id != user_id
        and user_id in entry.approvers
    )


def _held(entry: LedgerEntry) -> HeldCommand:
    users, groups = split_approvers(entry.approvers)
    expires = entry.approval_expires_at or entry.updated_at
    return HeldCommand(
        approval_id=entry.command_id,
        text=entry.text,
        requester=entry.user_id,
        channel_id=entry.channel_id,
        rule=entry.approval_rule or 0,
        approver_users=users,
        approver_groups=groups,
        requested_at=int((entry.requested_at or entry.created_at).timestamp()),
        expires_at=int(expires.timestamp()),
    )
