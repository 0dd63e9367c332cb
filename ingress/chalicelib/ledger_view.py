"""What `status` and `history` share: who may see which command, and how a state and an age are shown.

Who may see what: your own commands, always; someone else's command only if an allow rule admits you (by user
ID, name or user group) for that command in *some* channel with *some* arguments, and no deny rule forbids it to
you everywhere — whoever may run `deploy` may see every deploy. Refused commands (`history --refused`,
`status <id>`) follow the same rule.
A command you may not see is reported exactly like one that does not exist, so ids cannot be probed
(`visible_entry`: `status <id>` and every button that names a command answer with the same words).
The ledger lists commands once the notifier has recorded them (a second or so after they are accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from chalicelib import access
from chalicelib.deps import IngressDeps
from chalicelib.errors import CommandNotFoundError
from chalicelib.models import Command, VerifiedRequest
from shared.aws.tables import LEDGER
from shared.config.access import AccessRule, Caller, describe_approvers, may_see_commands_of
from shared.errors import ConfigurationError
from shared.incidents import open_incident
from shared.ledger.models import LedgerEntry
from shared.ledger.port import LedgerReader
from shared.ledger.shown import STATE_ICONS as STATE_ICONS  # re-exported: shown the same by the Home
from shared.ledger.shown import age as age
from shared.ledger.shown import shown_state as shown_state
from shared.slack.messages import misconfiguration
from shared.slack.mrkdwn import code, mention


class Viewer:
    """The caller, and the rules that decide which other people's commands they may see.

    `caller` turns the rules into the caller with their user groups (asking Slack only if a rule names a group);
    both are looked up only when someone else's command comes up.
    """

    def __init__(
        self,
        user_id: str,
        user_name: str,
        rules: Callable[[], tuple[AccessRule, ...]],
        caller: Callable[[tuple[AccessRule, ...]], Caller] | None = None,
    ) -> None:
        self.user_id = user_id
        self.user_name = user_name
        self._rules = rules
        self._caller = caller or (lambda _: Caller(user_id, user_name, "", ""))
        self._cached: tuple[tuple[AccessRule, ...], Caller] | None = None
        self._seen: dict[str, bool] = {}

    @classmethod
    def of(cls, command: Command, deps: IngressDeps) -> Viewer:
        return cls.of_request(command.verified, deps)

    @classmethod
    def of_request(cls, verified: VerifiedRequest, deps: IngressDeps) -> Viewer:
        """The caller of a typed command or the clicker of a button (`BlockActions.as_request`)."""
        request, deadline = verified.request, verified.deadline
        return cls(
            request.user_id,
            request.user_name,
            lambda: deps.config.get().access,
            lambda rules: access.caller(request, rules, deps, deadline=deadline),
        )

    def may_see(self, entry: LedgerEntry) -> bool:
        return self.may_see_command_of(entry.user_id, entry.command)

    def may_see_command_of(self, user_id: str, command: str) -> bool:
        """Whether the caller may see `user_id`'s `command` (a ledger entry, or a request held for approval)."""
        if user_id == self.user_id:
            return True
        if self._cached is None:
            rules = self._rules()
            self._cached = (rules, self._caller(rules))
        rules, caller = self._cached
        if command not in self._seen:
            self._seen[command] = may_see_commands_of(rules, command=command, caller=caller)
        return self._seen[command]


def not_found(command_id: str) -> CommandNotFoundError:
    """The one answer for a command id the caller may not see, and for one that does not exist (`status <id>`, and
    every button that names a command): the same words, so ids cannot be probed."""
    return CommandNotFoundError(
        f"There is no command {code(command_id)} that you can see.",
        hint="`/ops history --mine` lists your latest commands. A command just accepted may take a second.",
    )


def visible_entry(command_id: str, ledger: LedgerReader, viewer: Viewer) -> LedgerEntry:
    """The ledger's entry for `command_id` if `viewer` may see it; otherwise `not_found`, whether it exists or not."""
    entry = ledger.get(command_id)
    if entry is None or not viewer.may_see(entry):
        raise not_found(command_id)
    return entry


def require_ledger(ledger: LedgerReader | None) -> LedgerReader:
    if ledger is None:
        detail = ConfigurationError(f"the ingress has no command ledger: set {LEDGER.variable}")
        raise misconfiguration(open_incident(detail, where="ingress"))
    return ledger


def approval_line(entry: LedgerEntry, now: datetime) -> str | None:
    """For a command held for approval: who may approve and until when, or who decided what and when."""
    if not entry.approvers and not entry.approval:
        return None
    users = [who for who in entry.approvers if not who.startswith("group:")]
    groups = [who.removeprefix("group:") for who in entry.approvers if who.startswith("group:")]
    rule = f" (access rule #{entry.approval_rule})" if entry.approval_rule is not None else ""
    expires = when(entry.approval_expires_at)
    if entry.approval == "approved":
        return f"*Approval:* approved by {mention(entry.decided_by)} at {when(entry.decided_at)}{rule}."
    if entry.approval == "denied":
        return f"*Approval:* denied by {mention(entry.decided_by)} at {when(entry.decided_at)}{rule}: nothing ran."
    if entry.approval == "expired":
        return f"*Approval:* expired at {expires} without a decision{rule}: nothing ran."
    if entry.approval_lapsed(now):
        return f"*Approval:* expired at {expires}: no one decided in time{rule}, so nothing ran."
    return f"*Approval:* waiting for approval by {describe_approvers(users, groups)}{rule}, expires {expires}."


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "(unknown)"
