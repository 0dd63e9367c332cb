"""Everything the backup worker tells a user, in one place: who, what, and what to do next.

The texts are mrkdwn: names, ids and users are escaped where they are put in (`shared.slack.mrkdwn`), once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.backup.connections import Database
from services.backup.models import Manifest, Mismatch, RestoreRecord, ScratchState, Verification, VerificationMark
from services.backup.retention import Pruning, Reason
from shared.backups import backup_database, manifest_key
from shared.config.backup import RetentionPolicy
from shared.slack.messages import misconfigured
from shared.slack.mrkdwn import code, mention, text

STARTED = {
    "backup": "Backing up",
    "backups": "Listing the backups of",
    "restore": "Restoring",
    "verify": "Verifying a backup of",
}
"""How each command's start reads; a command added without its own wording says "Running `<command>` on"."""
INTERRUPTED = "Interrupted: the worker is stopping; it will run again."


def activity(command: str, database: str, arguments: Mapping[str, object]) -> str:
    """What an announced command does, as its channel message reads after the caller's mention and "is" / "was"
    (restores are announced in the channel, start and end); "" for the commands that are not announced."""
    if command == "restore":
        backup_id = str(arguments.get("from") or "")
        source = backup_database(backup_id) or database
        return f"restoring {code(database)} from {_backup_of(database, source, backup_id)}"
    return ""


def _backup_of(target: str, source: str, backup_id: str) -> str:
    """ "backup `id`" of the database itself; "`orders`'s backup `id`" of another one."""
    return f"backup {code(backup_id)}" if source == target else f"{code(source)}'s backup {code(backup_id)}"


def _from(target: str, source: str, backup_id: str) -> str:
    """As "restored from …" reads: the id alone of the database's own backup, whose else it is otherwise."""
    return code(backup_id) if source == target else _backup_of(target, source, backup_id)


def backup_of(target: str, manifest: Manifest) -> str:
    return _backup_of(target, manifest.database, manifest.backup_id)


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


def listing(database: str, lines: list[str], older: int, policy: RetentionPolicy | None = None) -> str:
    more = f"\n…and {older} older." if older else ""
    kept = f" (retention: {text(policy.describe())})" if policy is not None else ""
    return f"{len(lines) + older} backup(s) of {code(database)}, newest first{kept}:\n" + "\n".join(lines) + more


def listed(manifest: Manifest, present: bool = True, marks: str = "") -> str:
    """`marks`: mrkdwn the caller built (verification, retention) shown after the backup."""
    missing = "" if present else " — *data missing from the bucket, cannot be restored*"
    return (
        f"• {code(manifest.backup_id)} — {size(manifest.size_bytes)}, {manifest.finished_at:%Y-%m-%d %H:%M} UTC, "
        f"by {mention(manifest.created_by)}{missing}{marks}"
    )


def not_listed(database: str, problem: str) -> str:
    return (
        f"The backups of {code(database)} could not be listed: {text(problem)}. Nothing was changed; try again "
        "(details in the backup worker's logs)."
    )


def listing_incomplete(problem: str, *, retention: bool) -> str:
    marks = "; retention marks are left out (they need the whole list)" if retention else ""
    return f"*This list is incomplete*: {text(problem)}. Some backups may be missing from it{marks}."


def kept(reasons: tuple[Reason, ...], until: datetime | None = None, readers: list[str] | None = None) -> str:
    """Why the retention policy keeps a backup (`reasons`; none: it does not), and until when at least (a date only
    a closed calendar bucket can promise: `keep_last` depends on how many backups follow); or that the next backup
    prunes it (unless `readers`, the commands reading it, are still at it)."""
    if not reasons and readers:
        by = ", ".join(code(reader) for reader in readers)
        return (
            f" — *not kept by the retention policy*; command {by} is reading it, so the first backup after that "
            "prunes it"
        )
    if not reasons:
        return " — *not kept by the retention policy: the next backup prunes it*"
    rules = ", ".join(text(reason.rule) + (f" ({text(reason.detail)})" if reason.detail else "") for reason in reasons)
    return f" — kept: {rules}" + (f", until at least {until:%Y-%m-%d %H:%M} UTC" if until else "")


MAX_NAMED = 10
"""The most backup ids one pruning message names."""


def pruning(database: str, done: Pruning) -> str:
    """What pruning after a backup deleted, spared (being read) or could not do; follows the backup's summary."""
    rules = f"retention for {code(database)}: {text(done.policy.describe())}"
    said = []
    if done.pruned:
        named = ", ".join(code(backup_id) for backup_id in done.pruned[:MAX_NAMED])
        more = f" and {len(done.pruned) - MAX_NAMED} more" if len(done.pruned) > MAX_NAMED else ""
        said.append(f"Pruned {len(done.pruned)} older backup(s) ({rules}): {named}{more}.")
    elif done.problem is None:
        said.append(f"Nothing was pruned ({rules})." if done.spared else f"Nothing to prune ({rules}).")
    for backup_id, readers in done.spared.items():
        by = ", ".join(code(reader) for reader in readers)
        said.append(
            f"Kept {code(backup_id)}, which the policy lets go: command {by} is reading it; a later backup prunes it."
        )
    if done.problem is not None:
        what, rest = (
            ("Pruning stopped", "The rest stay")
            if done.pruned
            else (f"Nothing was pruned ({rules})", "Every backup stays")
        )
        said.append(
            f"{what}: {text(done.problem)}. {rest}; the next backup tries again (details in the backup worker's logs)."
        )
    return " ".join(said)


def no_such_backup(database: str, backup_id: str) -> tuple[str, str]:
    return (
        f"There is no backup {code(backup_id)} of {code(database)}.",
        f"{code(f'/ops backups --db {database}')} lists them.",
    )


def data_missing(name: str, manifest: Manifest, *, verifying: bool = False) -> str:
    """`name`: the database the command names (restored, or verified)."""
    source = manifest.database
    done = (
        "nothing was restored or verified — no database was touched"
        if verifying
        else "nothing was restored — the database is unchanged"
    )
    return (
        f"Backup {code(manifest.backup_id)} is listed but its data is missing from the bucket (deleted?); {done}. "
        f"{code(f'/ops backups --db {source}')} lists the backups: choose another. The stale entry stays listed "
        f"until an admin deletes {code(manifest_key(source, manifest.backup_id))}."
    )


def wrong_size(manifest: Manifest, size_bytes: int) -> str:
    return (
        f"Backup {code(manifest.backup_id)} of {code(manifest.database)} is damaged: its data is {size_bytes:,} bytes "
        f"in the bucket, and the manifest recorded {manifest.size_bytes:,} (truncated or replaced), so it was not "
        f"restored — no database was touched. {code(f'/ops backups --db {manifest.database}')} lists the others."
    )


def wrong_size_found(manifest: Manifest, size_bytes: int) -> str:
    """A verification's finding: the object's size is not the manifest's (one HEAD; nothing was read)."""
    return (
        f"its data is {size_bytes:,} bytes in the bucket, and the manifest recorded {manifest.size_bytes:,} "
        "(truncated or replaced); `/ops restore` refuses it too."
    )


def restore_into_not_allowed(source: str, target: str) -> tuple[str, str]:
    return (
        f"Restoring {code(source)}'s backups into {code(target)} is not allowed: nothing was changed.",
        f"The configuration lists which databases each database's backups may be restored into; an admin adds "
        f"{code(f'backup.restore_into: {{{source}: [{target}]}}')}.",
    )


def engine_mismatch(target: Database, manifest: Manifest) -> tuple[str, str]:
    return (
        f"{code(target.name)} is a {text(target.engine)} database, and {backup_of(target.name, manifest)} is a "
        f"{text(manifest.engine)} backup of {code(manifest.database)}: a backup is restored only into a database "
        "of the same engine. Nothing was changed.",
        f"{code(f'/ops backups --db {target.name}')} lists {code(target.name)}'s own backups.",
    )


def confirm_restore(database: str, manifest: Manifest) -> tuple[str, str]:
    command = f"/ops restore --db {database} --from {manifest.backup_id} --confirm {database}"
    return (
        f"Restoring replaces everything in {code(database)} with {backup_of(database, manifest)} "
        f"({size(manifest.size_bytes)}, taken {manifest.finished_at:%Y-%m-%d %H:%M} UTC by "
        f"{mention(manifest.created_by)}). Nothing was changed.",
        f"To go ahead, type exactly: {code(command)}",
    )


VERIFYING = "Verifying the backup's checksum before touching the database…"


def already_restored(record: RestoreRecord) -> str:
    source = _from(record.database, record.source or record.database, record.backup_id)
    return (
        f"{code(record.database)} was already restored from {source} by this command at "
        f"{record.finished_at:%Y-%m-%d %H:%M} UTC; not restored again."
    )


def restored(database: str, manifest: Manifest, *, recorded: bool) -> str:
    note = (
        ""
        if recorded
        else " The restore could not be recorded (details in the backup worker's logs): if this command is "
        "delivered again, it will restore again."
    )
    source = _from(database, manifest.database, manifest.backup_id)
    return f"Restored {code(database)} from {source} ({size(manifest.size_bytes)})." + note


def not_a_backup_of(database: str, manifest: Manifest) -> tuple[str, str]:
    other = manifest.database
    return (
        f"{code(manifest.backup_id)} is a backup of {code(other)}, not of {code(database)}: nothing was verified.",
        f"To verify it: {code(f'/ops verify --db {other} --from {manifest.backup_id}')}",
    )


def nothing_to_verify(database: str) -> tuple[str, str]:
    return (
        f"{code(database)} has no completed backups yet, so there is nothing to verify.",
        f"{code(f'/ops backup --db {database}')} takes one.",
    )


def verifying_into(scratch: str) -> str:
    return f"Restoring into the scratch database {code(scratch)} (dropped at the end)…"


def scratch_not_created(server: Database, scratch: str) -> str:
    return (
        f"Could not create the scratch database {code(scratch)} on {code(server.name)}'s server, so the backup was "
        f"not verified (nothing was restored; {code(server.name)} was not touched). The database user needs the "
        "right to create and drop databases (PostgreSQL `CREATEDB`; MySQL `CREATE` and `DROP` on `slashops_verify_…`); "
        "the tool's output is below."
    )


def leftovers_not_dropped(server: Database, prefix: str) -> str:
    return (
        f"Could not look for or drop the scratch databases ({code(prefix + '…')}) an earlier verify of "
        f"{code(server.name)} left, so this one did not start. {code(server.name)} was not touched. The tool's "
        "output is below; an admin may drop them by hand."
    )


def scratch_left(database: str, scratch: str) -> str:
    return (
        f":warning: The scratch database {code(scratch)} could not be dropped (details in the backup worker's logs). "
        f"The next `/ops verify --db {text(database)}` drops it, or an admin runs `DROP DATABASE {text(scratch)}`."
    )


def scratch_cleaned(scratch: str) -> str:
    return f"Dropped {code(scratch)} first, a scratch database an earlier verify left when it did not finish."


VERIFICATION_NOT_RECORDED = (
    "The result could not be kept with the backup (details in the backup worker's logs): `backups` does not show it."
)


def corrupted(actual: str, expected: str) -> str:
    return (
        f"its data does not match the checksum its manifest recorded (sha256 {text(actual[:12])}… ≠ "
        f"{text(expected[:12])}…): it was changed or damaged in the bucket, and the restore into the scratch "
        "database was stopped before it completed; `/ops restore` refuses it too."
    )


def scratch_restore_failed(problem: str, output: str) -> str:
    """`problem`: the tool's failure as the worker says it; `output`: its stderr (the last line is shown)."""
    tail = output.strip().splitlines()[-1] if output.strip() else ""
    said = f" ({text(tail[:300])})" if tail else ""
    return f"The backup did not restore: {text(problem)}{said}"


def rows_differ(mismatches: list[Mismatch], tables: int, shown: int) -> str:
    """The first `shown` tables whose row count differs from the backup's: at backup time, then restored."""

    def one(mismatch: Mismatch) -> str:
        before = "not in the backup" if mismatch.backed_up is None else f"{mismatch.backed_up:,} at backup time"
        after = "missing after the restore" if mismatch.restored is None else f"{mismatch.restored:,} restored"
        return f"{code(mismatch.table)} {before}, {after}"

    listed = "; ".join(one(mismatch) for mismatch in mismatches[:shown])
    more = f"; and {len(mismatches) - shown} more" if len(mismatches) > shown else ""
    return (
        f"the row counts of {len(mismatches)} table(s) differ from those recorded at backup time ({tables} tables): "
        f"{listed}{more}."
    )


SCRATCH: dict[ScratchState, str] = {
    "none": "No scratch database was needed",
    "dropped": "The scratch database was dropped",
    "left": "The scratch database could not be dropped (see above)",
}
"""What became of the scratch database: `none` (refused before one was made), `dropped`, `left`."""


def verified(verification: Verification, manifest: Manifest, rows: int, scratch: ScratchState, notes: list[str]) -> str:
    database = code(verification.database)
    took = f"{verification.duration_seconds:.1f} s"
    if manifest.tables is None:
        compared = (
            "its checksum matched and it restored cleanly; its manifest predates row counts, so rows were not compared"
        )
    else:
        compared = (
            f"it restored cleanly and all {verification.tables} table(s) have the row counts recorded at backup time "
            f"({rows:,} rows)"
        )
    return " ".join(
        [
            f"Verified backup {code(verification.backup_id)} of {database} in {took}: {compared}.",
            f"{SCRATCH[scratch]}; {database} itself was not touched.",
            *notes,
        ]
    )


def verify_failed(verification: Verification, database: str, scratch: ScratchState, lines: list[str]) -> str:
    """`lines`: mrkdwn the caller built: what failed (`verification.problem`), then any notes."""
    problem, *notes = lines or [""]
    return " ".join(
        [
            f"Backup {code(verification.backup_id)} of {code(database)} *failed verification* "
            f"(after {verification.duration_seconds:.1f} s): {problem}",
            f"Do not count on this backup: take a new one ({code(f'/ops backup --db {database}')}) and verify it.",
            f"{SCRATCH[scratch]}; {code(database)} itself was not touched.",
            *notes,
        ]
    )


def verification_mark(mark: VerificationMark | None) -> str:
    """How `backups` shows a backup's newest verification."""
    if mark is None:
        return ""
    when = f"{mark.at:%Y-%m-%d %H:%M} UTC"
    return f" — verified {when}" if mark.passed else f" — *verify failed {when}*"


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
