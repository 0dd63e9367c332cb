"""`restore` is confirmed at the ingress, at once: no round trip through the backup worker to be asked.

Without `--confirm`, the answer names what would be replaced (the database and the backup id: the backup's date and
size are the worker's to check) with a **Confirm restore** button. A `--confirm` naming another database is refused
here. A database the configuration does not list (`backup.databases`, when it lists any) is refused here too, and
so is a backup id the bucket does not hold (when the stack names the bucket: `BackupCatalog`), and a restore into
another database than the backup's (the id names it: `orders-20261128T…` is `orders`') the configuration does not
allow (`backup.restore_into`), before anyone is asked to confirm or approve; the worker checks them again before
anything is touched, and refuses a backup of another engine than the target's (only it knows the target's engine).
The button carries only the arguments (`RestoreButton`), which a click re-validates like typed text.
"""

from __future__ import annotations

import json
import logging
import shlex

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.approving import publish_or_ask
from chalicelib.deps import IngressDeps
from chalicelib.errors import ConfirmMismatchError, NoSuchBackupError, RestoreNotAllowedError
from chalicelib.models import Command
from shared.backups import BackupCatalogUnavailableError, backup_database
from shared.errors import UsageError
from shared.slack.blocks import Block, SlackMessage, button, context, section
from shared.slack.mrkdwn import code, text

logger = logging.getLogger(__name__)
CHECK_SECONDS = 1.0
"""At most this much of the answer budget to ask the bucket whether the backup exists."""
CONFIRM_RESTORE = "restore.confirm"
"""The action id of the **Confirm restore** button (`chalicelib.clicks.ACTIONS`)."""
MAX_BUTTON_VALUE = 2000
"""Slack's limit on a button's `value`."""


class RestoreButton(BaseModel):
    """What a **Confirm restore** button carries: the arguments only, never who may press it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, defer_build=True)

    db: str = Field(min_length=1)
    backup: str = Field(alias="from", min_length=1)

    def value(self) -> str:
        return json.dumps({"db": self.db, "from": self.backup}, separators=(",", ":"))

    def confirmed_text(self) -> str:
        """The command a click stands for, as tokens a shell would split back exactly (`split_words`)."""
        return shlex.join(["restore", "--db", self.db, "--from", self.backup, "--confirm", self.db])


def confirm_first(command: Command, deps: IngressDeps) -> SlackMessage:
    """Publish a confirmed restore; otherwise answer now: a prompt with the button, or why it is refused."""
    arguments = command.parsed.arguments
    database, backup, confirm = str(arguments["db"]), str(arguments["from"]), arguments.get("confirm")
    source = backup_database(backup) or database
    _refuse_unlisted(database, deps)
    _refuse_unallowed_source(source, database, deps)
    _refuse_unknown_backup(source, backup, command, deps)
    if confirm is None:
        return prompt(RestoreButton(db=database, backup=backup))
    if confirm != database:
        raise ConfirmMismatchError(
            f"{code(f'--confirm {confirm}')} does not match {code(f'--db {database}')}: nothing was restored.",
            hint=f"To restore {code(database)} from {code(backup)}, type exactly: {code(_typed(database, backup))}",
        )
    return publish_or_ask(command, deps)  # confirmed: then held for approval if a rule asks for one


def _refuse_unlisted(database: str, deps: IngressDeps) -> None:
    listed = deps.config.get().backup.databases
    if listed and database not in listed:
        raise UsageError(
            f"{code(database)} is not a database slashops can restore: nothing was restored.",
            hint="The configuration lists " + ", ".join(code(name) for name in listed) + ".",
        )


def _refuse_unallowed_source(source: str, target: str, deps: IngressDeps) -> None:
    """Another database's backup only where the configuration allows it: it copies that database's data here."""
    if not deps.config.get().backup.may_restore_into(source, target):
        raise RestoreNotAllowedError(
            f"Restoring {code(source)}'s backups into {code(target)} is not allowed: nothing was restored.",
            hint=f"An admin allows it in the configuration: {code(f'backup.restore_into: {{{source}: [{target}]}}')}.",
        )


def _refuse_unknown_backup(database: str, backup: str, command: Command, deps: IngressDeps) -> None:
    """A backup that is not there is refused before anyone confirms or approves it (issue 21.8). If the bucket
    cannot be asked in time, the restore goes on: this is a courtesy, the worker checks again before touching
    anything."""
    if deps.backups is None:
        return
    try:
        exists = deps.backups.has_backup(database, backup, deadline=command.verified.deadline.within(CHECK_SECONDS))
    except BackupCatalogUnavailableError as error:
        logger.warning("backup not checked before the restore's prompt (%s)", error)
        return
    if not exists:
        raise NoSuchBackupError(
            f"{code(database)} has no backup {code(backup)}: nothing was restored, and no one was asked to approve.",
            hint=f"`/ops backups --db {database}` lists its backups, newest first.",
        )


def _typed(database: str, backup: str) -> str:
    return f"/ops {shlex.join(['restore', '--db', database, '--from', backup, '--confirm', database])}"


def backup_of(database: str, backup: str) -> str:
    """ "backup `id`" of the database itself; "`orders`'s backup `id`" of another one (the id names it)."""
    source = backup_database(backup) or database
    return f"backup {code(backup)}" if source == database else f"{code(source)}'s backup {code(backup)}"


def prompt(button: RestoreButton) -> SlackMessage:
    """What would be replaced, and the button; past Slack's value limit, only the command to type."""
    database, backup = button.db, button.backup
    lines = [
        f":warning: Restoring replaces everything in {code(database)} with {backup_of(database, backup)}. "
        "Nothing has been changed yet.",
    ]
    source = backup_database(backup) or database
    notes = (
        "The backup worker checks that the backup exists and is intact before touching anything, seconds after you "
        f"confirm; {code(f'/ops backups --db {source}')} shows its date and size. "
        f"Or type: {code(_typed(database, backup))}"
    )
    blocks: list[Block] = [section("\n".join(lines)), context(notes)]
    value = button.value()
    if len(value) <= MAX_BUTTON_VALUE:
        blocks.append(confirm_button(database, backup, value))
    return SlackMessage(text=f"Confirm restore of {text(database)} from {text(backup)}", blocks=tuple(blocks))


def confirm_button(database: str, backup: str, value: str) -> Block:
    """A danger button behind Slack's own "are you sure" dialog (the `confirm` object)."""
    dialog = f"This replaces everything in {code(database)} with {backup_of(database, backup)}. It cannot be undone."
    return {
        "type": "actions",
        "block_id": CONFIRM_RESTORE,
        "elements": [
            button(
                CONFIRM_RESTORE,
                "Confirm restore",
                value,
                style="danger",
                confirm=("Restore the database?", dialog, "Restore", "Cancel"),
            )
        ],
    }
