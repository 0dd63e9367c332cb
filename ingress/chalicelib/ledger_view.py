"""What `status` and `history` share: who may see which command, and how a state and an age are shown.

Refused commands (`history --refused`, `status <id>`) follow the same rule. Who may see what: your own commands,
always; someone else's command only if the access rules admit you
(by user ID or name) for that command in *some* channel — whoever may run `deploy` may see every deploy.
A command you may not see is reported exactly like one that does not exist, so ids cannot be probed.
The ledger lists commands once the notifier has recorded them (a second or so after they are accepted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from chalicelib.deps import IngressDeps
from chalicelib.models import Command
from shared.config.access import AccessRule
from shared.ledger.errors import LedgerUnavailableError
from shared.ledger.models import CommandState, LedgerEntry
from shared.ledger.port import LedgerReader

STATE_ICONS: dict[CommandState, str] = {
    "requested": ":inbox_tray:",
    "accepted": ":hourglass_flowing_sand:",
    "running": ":arrows_counterclockwise:",
    "succeeded": ":white_check_mark:",
    "failed": ":x:",
    "rejected": ":no_entry:",
    "refused": ":no_entry_sign:",
}


class Viewer:
    """The caller, and the rules that decide which other people's commands they may see."""

    def __init__(self, user_id: str, user_name: str, rules: Callable[[], tuple[AccessRule, ...]]) -> None:
        self.user_id = user_id
        self.user_name = user_name
        self._rules = rules
        self._cached: tuple[AccessRule, ...] | None = None

    @classmethod
    def of(cls, command: Command, deps: IngressDeps) -> Viewer:
        return cls(command.request.user_id, command.request.user_name, lambda: deps.config.get().access)

    def may_see(self, entry: LedgerEntry) -> bool:
        if entry.user_id == self.user_id:
            return True
        if self._cached is None:
            self._cached = self._rules()  # read the config only when someone else's command comes up
        return any(r.covers(entry.command) and r.admits_user(self.user_id, self.user_name) for r in self._cached)


def require_ledger(ledger: LedgerReader | None) -> LedgerReader:
    if ledger is None:
        raise LedgerUnavailableError("The command ledger is not configured.", hint="Set SLASHOPS_LEDGER_TABLE.")
    return ledger


def age(then: datetime, now: datetime) -> str:
    seconds = max(int((now - then).total_seconds()), 0)
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
