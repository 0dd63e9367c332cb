"""Every command slashops knows, declared once.

Adding a command is adding a `CommandSpec` here: the ingress builds its parser, help and routing from this list.
For `handled_by="event"`, its `consumer` is the only statement of where it goes (`shared/commands/routing.py`):
`make routes` writes it into the consumer's rule in `infra/bus.yaml`, and a test fails until that rule exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from shared.commands.spec import ArgumentSpec, CommandSpec

DEPLOY_ENVIRONMENTS = ("staging", "production")


class Catalog:
    """Commands by name, in declaration order."""

    def __init__(self, commands: Iterable[CommandSpec]) -> None:
        self._commands: dict[str, CommandSpec] = {}
        for command in commands:
            if command.name in self._commands:
                raise ValueError(f"command {command.name!r} declared twice")
            self._commands[command.name] = command

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._commands.values())

    def __contains__(self, name: object) -> bool:
        return name in self._commands

    def get(self, name: str) -> CommandSpec | None:
        return self._commands.get(name)

    def names(self) -> list[str]:
        return list(self._commands)

    def closest(self, name: str) -> str | None:
        import difflib  # only a mistyped command asks: not at every cold start

        matches = difflib.get_close_matches(name.lower(), self.names(), n=1, cutoff=0.6)
        return matches[0] if matches else None


HELP = CommandSpec(
    name="help",
    runs="chalicelib.help:show_help",
    summary="List the commands, or show one command's usage, options and examples",
    arguments=(
        ArgumentSpec(
            name="command",
            positional=True,
            metavar="command",
            help="the command to explain",
            validator="command_name",
        ),
    ),
    examples=("/ops help", "/ops help deploy"),
    handled_by="ingress",
    open_to_all=True,
)

DEPLOY = CommandSpec(
    name="deploy",
    runs="services.deploy.starting:start",
    holds="chalicelib.freezing:hold_if_frozen",
    before_publishing="chalicelib.freezing:refuse_if_frozen_or_locked",
    when_refused="services.deploy.starting:carry_on_if_claimed",
    summary="Deploy a client's branch with Jenkins and report the build's result",
    description=(
        "Starts exactly one Jenkins build and follows it until it finishes. Into a frozen environment it is refused, "
        "or held for approval when the freeze has an override (`/ops freezes`)."
    ),
    arguments=(
        ArgumentSpec(name="client", required=True, help="the client to deploy", validator="identifier"),
        ArgumentSpec(name="branch", required=True, help="the git branch or tag to deploy", validator="git_ref"),
        ArgumentSpec(
            name="env",
            choices=DEPLOY_ENVIRONMENTS,
            default="staging",
            help="the environment to deploy to",
        ),
    ),
    examples=(
        "/ops deploy --client acme --branch main",
        "/ops deploy --client acme --branch release/2.4 --env production",
    ),
    long_running=True,
    visibility="in_channel",
    consumer="deploy",
)

CANCEL = CommandSpec(
    name="cancel",
    runs="services.deploy.cancelling:cancel",
    summary="Stop a queued or running deploy",
    arguments=(
        ArgumentSpec(
            name="id", positional=True, required=True, metavar="id", help="the command id", validator="command_id"
        ),
    ),
    examples=("/ops cancel 3f9c2a7d41b0",),
    consumer="deploy",
    # Only the deploy service knows who started a deploy: it admits that user and users the access rules
    # admit for `cancel` (services/deploy/cancelling.py), so the ingress lets every request through.
    open_to_all=True,
)

BACKUP = CommandSpec(
    name="backup",
    runs="services.backup.backing_up:back_up",
    exclusive=True,
    summary="Back up a database to S3",
    description="Streams a dump of the database to S3 and records a manifest once the upload is complete.",
    arguments=(ArgumentSpec(name="db", required=True, help="the database to back up", validator="identifier"),),
    examples=("/ops backup --db orders",),
    long_running=True,
    consumer="backup",
)

BACKUPS = CommandSpec(
    name="backups",
    runs="services.backup.listing:list_backups",
    summary="List a database's completed backups, newest first",
    arguments=(ArgumentSpec(name="db", required=True, help="the database", validator="identifier"),),
    examples=("/ops backups --db orders",),
    consumer="backup",
)

RESTORE = CommandSpec(
    name="restore",
    runs="services.backup.restoring:restore",
    precheck="services.backup.restoring:check_restore",
    exclusive=True,
    confirm="chalicelib.confirming:confirm_first",
    summary="Restore a database from a backup, its own or another's (destructive: asks for confirmation)",
    description=(
        "Replaces the database's contents with the backup's. The backup id names the database it was taken of: "
        "another database's backup (same engine) may be restored where the configuration allows it "
        "(`backup.restore_into`). Without `--confirm <db>` naming the database restored, nothing is restored and "
        "you are asked to confirm. A backup whose data is truncated or changed is never restored."
    ),
    arguments=(
        ArgumentSpec(name="db", required=True, help="the database to restore (replace)", validator="identifier"),
        ArgumentSpec(name="from", required=True, metavar="BACKUP_ID", help="the backup id (see `/ops backups`)"),
        ArgumentSpec(name="confirm", metavar="DB", help="repeat the database name to confirm the restore"),
    ),
    examples=(
        "/ops restore --db orders --from orders-20261128T101500Z-3f9c2a",
        "/ops restore --db orders --from orders-20261128T101500Z-3f9c2a --confirm orders",
        "/ops restore --db orders_staging --from orders-20261128T101500Z-3f9c2a --confirm orders_staging",
    ),
    long_running=True,
    visibility="in_channel",  # announced in the channel: who restores which database from which backup
    consumer="backup",
)

VERIFY = CommandSpec(
    name="verify",
    runs="services.backup.verifying:verify",
    precheck="services.backup.verifying:check_verify",
    exclusive=True,
    summary="Test a backup: restore it into a scratch database and compare its row counts",
    description=(
        "Restores the backup (default: the newest) into a scratch database created on the same server, compares "
        "each table's row count with the counts recorded at backup time, and drops the scratch database whatever "
        "happens. The database itself is never touched. `/ops backups` shows the result beside the backup."
    ),
    arguments=(
        ArgumentSpec(name="db", required=True, help="the database whose backup to verify", validator="identifier"),
        ArgumentSpec(name="from", metavar="BACKUP_ID", help="the backup id (default: the newest backup)"),
    ),
    examples=("/ops verify --db orders", "/ops verify --db orders --from orders-20261128T101500Z-3f9c2a"),
    long_running=True,
    consumer="backup",
)

STATUS = CommandSpec(
    name="status",
    runs="chalicelib.status:show_status",
    summary="Show a command's state, age, last message and links",
    description="You can look up your own commands, and others' for commands the access rules let you run.",
    arguments=(
        ArgumentSpec(
            name="id", positional=True, required=True, metavar="id", help="the command id", validator="command_id"
        ),
    ),
    examples=("/ops status 3f9c2a7d41b0",),
    handled_by="ingress",
    open_to_all=True,
)

HISTORY = CommandSpec(
    name="history",
    runs="chalicelib.history:show_history",
    summary="List the latest commands",
    description="Newest first: your own commands, and others' for commands the access rules let you run.",
    arguments=(
        ArgumentSpec(name="mine", type="flag", help="only the commands you ran"),
        ArgumentSpec(name="command", help="only this command", validator="command_name"),
        ArgumentSpec(name="user", help="only this user's commands (ID or name)", validator="slack_user"),
        ArgumentSpec(name="limit", type="integer", default=10, help="how many to show (1-50)"),
        ArgumentSpec(name="refused", type="flag", help="only the commands slashops refused, with the reason"),
    ),
    examples=(
        "/ops history",
        "/ops history --mine",
        "/ops history --command deploy --limit 20",
        "/ops history --refused",
    ),
    handled_by="ingress",
    open_to_all=True,
)

WHOAMI = CommandSpec(
    name="whoami",
    runs="chalicelib.whoami:show_whoami",
    summary="Show who you are to slashops: your IDs, user groups, this channel, and what you may run here",
    description=(
        "Per command: allowed, allowed with limits, or denied, and the number of the access rule that decides; and "
        "the freezes, open or opening within a day, of the environments you may deploy to."
    ),
    examples=("/ops whoami",),
    handled_by="ingress",
    open_to_all=True,
)

_TARGET = (
    ArgumentSpec(name="client", required=True, help="the client", validator="identifier"),
    ArgumentSpec(name="env", required=True, choices=DEPLOY_ENVIRONMENTS, help="the environment"),
)

ROLLBACK = CommandSpec(
    name="rollback",
    summary="Deploy again what ran before the current deploy of a client's environment",
    description=(
        "Goes back to the newest successful deploy before the current one (never to one a rollback already undid); "
        "it is then a deploy like any other: the same access rules on its branch, approvals, locks and freezes."
    ),
    arguments=(
        ArgumentSpec(name="client", required=True, help="the client to roll back", validator="identifier"),
        ArgumentSpec(name="env", choices=DEPLOY_ENVIRONMENTS, default="staging", help="the environment"),
    ),
    examples=("/ops rollback --client acme --env production",),
    handled_by="ingress",
    runs="chalicelib.rolling_back:roll_back",
    visibility="in_channel",
    # The deploy it becomes decides who may run it (rules on `deploy` and its arguments); the door lets every
    # request through, and only deploys the caller may see are considered.
    open_to_all=True,
)

LOCK = CommandSpec(
    name="lock",
    runs="chalicelib.locking:lock_target",
    summary="Lock a client's environment: deploys into it are refused (except yours) until it expires or is unlocked",
    description="Without `--for`, the lock lasts the configured default (`deploy.locks.default`, 2h unless set).",
    arguments=(
        *_TARGET,
        ArgumentSpec(name="reason", required=True, help="why: shown to whoever tries to deploy"),
        ArgumentSpec(name="for", metavar="DURATION", help="how long: 30m, 2h, 1d (at most `deploy.locks.max`)"),
    ),
    examples=('/ops lock --client acme --env production --reason "release freeze" --for 2h',),
    visibility="in_channel",
    handled_by="ingress",
    changes_state=True,
)

UNLOCK = CommandSpec(
    name="unlock",
    runs="chalicelib.locking:unlock_target",
    summary="End a deploy lock: yours, or anyone's if the access rules admit you to `unlock`",
    arguments=_TARGET,
    examples=("/ops unlock --client acme --env production",),
    visibility="in_channel",
    handled_by="ingress",
    changes_state=True,
    # The holder may always end their own lock; anyone else needs a rule admitting them to `unlock`
    # (ingress/chalicelib/locking.py), so the door lets every request through.
    open_to_all=True,
)

LOCKS = CommandSpec(
    name="locks",
    runs="chalicelib.locking:show_locks",
    summary="List the locked deploy targets: who, why, until when",
    examples=("/ops locks",),
    handled_by="ingress",
)

FREEZE = CommandSpec(
    name="freeze",
    runs="chalicelib.freezing:freeze_env",
    summary="Freeze an environment: every deploy and rollback into it is refused until it expires or is unfrozen",
    description=(
        "Binds everyone, you included (unlike `lock`). Recurring freezes (weekends, holidays) are scheduled in the "
        "configuration (`deploy.freezes`); `/ops freezes` lists both."
    ),
    arguments=(
        ArgumentSpec(name="env", required=True, choices=DEPLOY_ENVIRONMENTS, help="the environment"),
        ArgumentSpec(name="for", required=True, metavar="DURATION", help="how long: 30m, 2h, 1d (at most 14d)"),
        ArgumentSpec(name="reason", required=True, help="why: shown to whoever tries to deploy"),
    ),
    examples=('/ops freeze --env production --for 2h --reason "incident 42"',),
    visibility="in_channel",
    handled_by="ingress",
    changes_state=True,
)

UNFREEZE = CommandSpec(
    name="unfreeze",
    runs="chalicelib.freezing:unfreeze_env",
    summary="End an environment's freeze made with `freeze` (a scheduled window ends when the configuration changes)",
    arguments=(ArgumentSpec(name="env", required=True, choices=DEPLOY_ENVIRONMENTS, help="the environment"),),
    examples=("/ops unfreeze --env production",),
    visibility="in_channel",
    handled_by="ingress",
    changes_state=True,
)

FREEZES = CommandSpec(
    name="freezes",
    runs="chalicelib.freezing:show_freezes",
    summary="List the frozen environments and the freeze windows opening in the next 7 days: why, until when",
    description="Shown to whoever the access rules admit to `deploy` in the channel.",
    examples=("/ops freezes",),
    handled_by="ingress",
    # Whoever may deploy may see what would stop their deploy: decided on `deploy`'s rules by the use case.
    open_to_all=True,
)

CATALOG = Catalog(
    [
        HELP,
        DEPLOY,
        CANCEL,
        ROLLBACK,
        BACKUP,
        BACKUPS,
        RESTORE,
        VERIFY,
        STATUS,
        HISTORY,
        WHOAMI,
        LOCK,
        UNLOCK,
        LOCKS,
        FREEZE,
        UNFREEZE,
        FREEZES,
    ]
)
