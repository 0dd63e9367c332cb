"""What can go wrong in a backup job; the worker turns each into one result event."""

from __future__ import annotations

from shared.errors import SlashopsError


class BackupError(SlashopsError):
    """A job failed; `message` is for the user, `output` is the tool's stderr tail (may be empty)."""

    title = "Backup failed"

    def __init__(self, message: str, *, output: str = "", retryable: bool | None = None) -> None:
        super().__init__(message, retryable=retryable)
        self.output = output


class JobRejected(SlashopsError):
    """The job was refused before anything happened (unknown database, missing confirmation, busy)."""

    title = "Backup refused"

    @property
    def reason(self) -> str:
        return self.message


class Interrupted(BackupError):
    """The worker was asked to stop (ECS sends SIGTERM): the job is abandoned cleanly and will run again."""

    retryable = True

    def __init__(self) -> None:
        super().__init__("The backup worker was stopped while this ran; it will run again.")


class ChecksumMismatch(BackupError):
    """The backup's bytes do not hash to the manifest's SHA-256 (changed or damaged in the bucket)."""

    def __init__(self, actual: str, expected: str) -> None:
        super().__init__(
            f"The backup's checksum does not match its manifest (sha256 {actual[:12]}… ≠ {expected[:12]}…): "
            "it is corrupted, so nothing was restored."
        )
        self.actual, self.expected = actual, expected


class ObjectExists(BackupError):
    """S3 refused to replace an existing object (`If-None-Match: *`): a finished backup is never overwritten."""

    retryable = True

    def __init__(self, key: str) -> None:
        super().__init__(
            f"`{key}` already exists in the backup bucket and backups are never overwritten; nothing was replaced."
        )


class BackupDataMissing(SlashopsError):
    """A backup's manifest is there but its data object is not (deleted by hand, or by the bucket's lifecycle)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class DuplicateDelivery(SlashopsError):
    """Another delivery of this very command holds the database's lock: it is running, or died running.

    Reporting "busy" would record a failure as the final state of a command that is running (the ledger keeps the
    first final state), so nothing is published: the message comes back after its visibility timeout, when the
    running job has finished (a backup is then reported again, a restore answered "already restored").
    """

    retryable = True

    def __init__(self, command_id: str) -> None:
        super().__init__(f"another delivery of {command_id} holds the lock")
