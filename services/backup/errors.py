"""What can go wrong in a backup job; the worker turns each into one result event."""

from __future__ import annotations


class BackupError(Exception):
    """A job failed; `message` is for the user, `output` is the tool's stderr tail (may be empty)."""

    def __init__(self, message: str, *, output: str = "", retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.output = output
        self.retryable = retryable


class JobRejected(Exception):
    """The job was refused before anything happened (unknown database, missing confirmation, busy)."""

    def __init__(self, reason: str, *, hint: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


class Interrupted(BackupError):
    """The worker was asked to stop (ECS sends SIGTERM): the job is abandoned cleanly and will run again."""

    def __init__(self) -> None:
        super().__init__("The backup worker was stopped while this ran; it will run again.", retryable=True)


class ChecksumMismatch(BackupError):
    pass


class ObjectExists(BackupError):
    """S3 refused to replace an existing object (`If-None-Match: *`): a finished backup is never overwritten."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"`{key}` already exists in the backup bucket and backups are never overwritten; nothing was replaced.",
            retryable=True,
        )


class BackupDataMissing(Exception):
    """A backup's manifest is there but its data object is not (deleted by hand, or by the bucket's lifecycle)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
