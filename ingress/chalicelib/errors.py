"""The ingress' own errors: each is answered to the user as `shared.slack.messages.error_message` draws it.

Every one derives from `shared.errors.SlashopsError` (its `title`, `hint` and `retryable`), like every unit's.
The errors the ingress shares with the consumers (`UsageError`, `AccessDeniedError`, the stores' unavailable errors)
live in `shared/`; these are the ingress' answers only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.errors import AccessDeniedError, SlashopsError, UsageError

if TYPE_CHECKING:
    from shared.config.access import AccessDecision


# --- the request itself -----------------------------------------------------------------------------------------


class MalformedRequestError(SlashopsError):
    """Slack's payload (a command's form, a click's JSON) is not what Slack sends."""

    title = "Malformed request"


class OtherWorkspaceError(AccessDeniedError):
    """From a workspace the configuration does not serve."""

    title = "Not this workspace"


class AccessRefusedError(AccessDeniedError):
    """The rules refused the request; `decision` says which rule (its number) and why (for the audit)."""

    def __init__(self, decision: AccessDecision, *, hint: str) -> None:
        super().__init__(decision.reason, hint=hint, rule=decision.rule)
        self.decision = decision


class NotAppliedError(SlashopsError):
    """The replay guard could not say whether the request is new: a command that writes is not applied."""

    title = "Not applied"
    retryable = True


class NoSuchBackupError(UsageError):
    """A restore names a backup the bucket does not hold: refused before anyone confirms or approves it."""

    title = "No such backup"


class RestoreNotAllowedError(AccessDeniedError):
    """A restore into another database than the backup's that the configuration does not allow
    (`backup.restore_into`): refused before anyone confirms or approves it."""

    title = "Restore not allowed"


class ConfirmMismatchError(UsageError):
    """A restore's `--confirm` does not repeat its `--db`: nothing is restored."""

    title = "Not confirmed"


# --- locks ------------------------------------------------------------------------------------------------------


class TargetLockedError(AccessDeniedError):
    """A deploy into another user's active lock: refused at the door, recorded as "not allowed"."""

    title = "Target locked"


class LockHeldError(SlashopsError):
    """Another user's lock holds the target (or it changed under an `unlock`): left as it is."""

    title = "Already locked"


class NotLockedError(SlashopsError):
    """`unlock` of a target no active lock holds."""

    title = "Not locked"


class LocksUnreadableError(SlashopsError):
    """The lock table did not answer in time: for a deploy, nothing is published (fail closed)."""

    title = "Lock table unavailable"
    retryable = True


# --- freezes ----------------------------------------------------------------------------------------------------


class FrozenError(AccessDeniedError):
    """A deploy into a frozen environment, with no override to ask for: refused at the door, recorded as "not
    allowed"."""

    title = "Environment frozen"


class FreezeHeldError(SlashopsError):
    """Another user's ad-hoc freeze holds the environment (or it changed under an `unfreeze`): left as it is."""

    title = "Already frozen"


class NotFrozenError(SlashopsError):
    """`unfreeze` of an environment no ad-hoc freeze holds (a scheduled window is ended in the configuration)."""

    title = "Not frozen"


# --- approvals --------------------------------------------------------------------------------------------------


class ApprovalsUnavailableError(SlashopsError):
    """The approval request could not be stored: nothing was started and no one was asked."""

    title = "Approval not recorded"
    retryable = True


class ApprovalUnknownError(SlashopsError):
    """A button names an approval the table no longer holds, or none slashops can read."""

    title = "Unknown approval"


class ApprovalUnreadableError(SlashopsError):
    """The approval table did not answer a click in time: nothing was decided."""

    title = "Approval table unavailable"
    retryable = True


# --- the ledger's views -----------------------------------------------------------------------------------------


class CommandNotFoundError(SlashopsError):
    """No command the caller may see has this id (`chalicelib.ledger_view.not_found`)."""

    title = "No such command"


class NothingToRollBackError(SlashopsError):
    """`rollback` finds no earlier successful deploy of the target to go back to: nothing is started."""

    title = "Nothing to roll back to"
