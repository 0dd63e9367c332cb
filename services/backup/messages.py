"""Everything the backup worker tells a user, in one place: who, what, and what to do next.

The texts are mrkdwn: names, ids and users are escaped where they are put in (`shared.slack.mrkdwn`), once.
"""

from __future__ import annotations

from collections.abc import Mapping

from services.backup.connections import Database
from services.backup.models import Manifest, RestoreRecord
from shared.backups import manifest_key
from shared.slack.messages import misconfigured
from shared.slack.mrkdwn import code, mention, text

STARTED = {"backup": "Backing up", "backups": "Listing the backups of", "restore": "Restoring"}
"""How each command's start reads; a command added without its own wording says "Running `<command>` on"."""
INTERRUPTED = "Interrupted: the worker is stopping; it will run again."


def activity(command: str, database: str, arguments: Mapping[str, object]) -> str:
    """What an announced command does, as its channel message reads after the caller's mention and "is" / "was"
    (restores are announced in the channel, start and end); "" for the commands that are not announced."""
    if command == "restore":
        return f"restoring {code(database)} from backup {code(arguments.get('from') or '')}"
    return ""


def started(command: str, database: Database) -> str:
    doing = STARTED.get(command) or f"Running {code(command)} on"
    return f"{doing} {code(database.name)} ({text(database.engine)})…"


def unexpected(error: Exception) -> str:
    return f"Unexpected error ({type(error).__name__}: {text(str(error)[:200])})."


def database_misconfigured(name: str, incident: str) -> str:
    """Which variable is wrong, and how, is logged under `incident`: variable names are for the admins only."""
    return f"Database {code(name)} cannot be used, so nothing was run: {misconfigured(incident)}"


def unknown_database(name: str, known: list[str], *, restricted: bool = False) -> tuple[str, str]:
    """`restricted`: the configuration's `backup.databases` list decides (it wins over the connections set)."""
    listed = ", ".join(code(each) for each in sorted(known)) or "none yet"
    rule = " (the configuration's `backup.databases` list; an admin adds a name there)" if restricted else ""
    return f"{code(name)} is not a database slashops backs up.", f"Configured databases: {listed}{rule}."


def busy(database: str, holder: str) -> str:
    return f"{code(database)} is busy: {text(holder)} is running. Try again when it ends."


def backed_up(manifest: Manifest) -> tuple[str, str]:
    """The summary, and the output shown under it."""
    return (
        f"Backed up {code(manifest.database)} as {code(manifest.backup_id)} ({size(manifest.size_bytes)}).",
        f"sha256 {manifest.sha256}\nengine {manifest.engine} {manifest.server_version}",
    )


def no_backups(database: str) -> str:
    return f"{code(database)} has no completed backups yet."


def listing(database: str, lines: list[str], older: int) -> str:
    more = f"\n…and {older} older." if older else ""
    return f"{len(lines) + older} backup(s) of {code(database)}, newest first:\n" + "\n".join(lines) + more


def listed(manifest: Manifest, present: bool = True) -> str:
    missing = "" if present else " — *data missing from the bucket, cannot be restored*"
    return (
        f"• {code(manifest.backup_id)} — {size(manifest.size_bytes)}, {manifest.finished_at:%Y-%m-%d %H:%M} UTC, "
        f"by {mention(manifest.created_by)}{missing}"
    )


def no_such_backup(database: str, backup_id: str) -> tuple[str, str]:
    return (
        f"There is no backup {code(backup_id)} of {code(database)}.",
        f"{code(f'/ops backups --db {database}')} lists them.",
    )


def data_missing(name: str, manifest: Manifest) -> str:
    return (
        f"Backup {code(manifest.backup_id)} is listed but its data is missing from the bucket (deleted?); nothing "
        f"was restored — the database is unchanged. {code(f'/ops backups --db {name}')} lists the backups: choose "
        f"another. The stale entry stays listed until an admin deletes {code(manifest_key(name, manifest.backup_id))}."
    )


def confirm_restore(database: str, manifest: Manifest) -> tuple[str, str]:
    command = f"/ops restore --db {database} --from {manifest.backup_id} --confirm {database}"
    return (
        f"Restoring replaces everything in {code(database)} with backup {code(manifest.backup_id)} "
        f"({size(manifest.size_bytes)}, taken {manifest.finished_at:%Y-%m-%d %H:%M} UTC by "
        f"{mention(manifest.created_by)}). Nothing was changed.",
        f"To go ahead, type exactly: {code(command)}",
    )


VERIFYING = "Verifying the backup's checksum before touching the database…"


def already_restored(record: RestoreRecord) -> str:
    return (
        f"{code(record.database)} was already restored from {code(record.backup_id)} by this command at "
        f"{record.finished_at:%Y-%m-%d %H:%M} UTC; not restored again."
    )


def restored(database: str, manifest: Manifest, *, recorded: bool) -> str:
    note = (
        ""
        if recorded
        else " The restore could not be recorded (details in the backup worker's logs): if this command is "
        "delivered again, it will restore again."
    )
    return f"Restored {code(database)} from {code(manifest.backup_id)} ({size(manifest.size_bytes)})." + note


def so_far(size_bytes: int) -> str:
    return f"{size(size_bytes)} so far…"


def size(size_bytes: int) -> str:
    if size_bytes < 1024:
        return f"{size_bytes} B"
    value = size_bytes / 1024
    for unit in ("KiB", "MiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
