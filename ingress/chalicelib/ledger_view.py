"""What `status` and `history` share: who may see which command, and how a state and an age are shown.

Who may see what: your own commands, always; someone else's command only if an allow rule admits you (by user
ID, name or user group) for that command in *some* channel with *some* arguments, and no deny rule forbids it to
you everywhere — whoever may run `deploy` may see every deploy. Refused commands (`history --refused`,
`status <id>`) follow the same rule.
A command you may not see is reported exactly like one that does not exist, so ids cannot be probed.
The ledger lists commands once the notifier has recorded them (a second or so after they are accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib import access
from chalicelib.deps import IngressDeps
from chalicelib.models import Command
from shared.config.access import AccessRule, Caller, may_see_commands_of
from shared.errors import ConfigurationError
from shared.incidents import open_incident
from shared.ledger.models import CommandState, LedgerEntry
from shared.ledger.port import LedgerReader
from shared.slack.messages import misconfiguration

STATE_ICONS: dict[CommandState, str] = {
    "requested": ":inbox_tray:",
    "accepted": ":hourglass_flowing_sand:",
    "running": ":arrows_counterclockwise:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "cancelled": ":octagonal_sign:",
    "rejected": ":no_entry:",
    "refused": ":no_entry_sign:",
}


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
        request, deadline = command.request, command.verified.deadline
        return cls(
            request.user_id,
            request.user_name,
            lambda: deps.config.get().access,
            lambda rules: access.caller(request, rules, deps, deadline=deadline),
        )

    def may_see(self, entry: LedgerEntry) -> bool:
        if entry.user_id == self.user_id:
            return True
        if self._cached is None:
            rules = self._rules()
            self._cached = (rules, self._caller(rules))
        rules, caller = self._cached
        if entry.command not in self._seen:
            self._seen[entry.command] = may_see_commands_of(rules, command=entry.command, caller=caller)
        return self._seen[entry.command]


def require_ledger(ledger: LedgerReader | None) -> LedgerReader:
    if ledger is None:
        detail = ConfigurationError("the ingress has no command ledger: set SLASHOPS_LEDGER_TABLE")
        raise misconfiguration(open_incident(detail, where="ingress"))
    return ledger


def age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
