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
    before_publishing="chalicelib.locking:refuse_if_locked",
    when_refused="services.deploy.starting:carry_on_if_claimed",
    summary="Deploy a client's branch with Jenkins and report the build's result",
    description="Starts exactly one Jenkins build and follows it until it finishes.",
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
    summary="Restore a database from a backup (destructive: asks for confirmation)",
    description=(
        "Replaces the database's contents with the backup's. Without `--confirm <db>` naming the same "
        "database, nothing is restored and you are asked to confirm."
    ),
    arguments=(
        ArgumentSpec(name="db", required=True, help="the database to restore", validator="identifier"),
        ArgumentSpec(name="from", required=True, metavar="BACKUP_ID", help="the backup id (see `/ops backups`)"),
        ArgumentSpec(name="confirm", metavar="DB", help="repeat the database name to confirm the restore"),
    ),
    examples=(
        "/ops restore --db orders --from orders-20261128T101500Z-3f9c",
        "/ops restore --db orders --from orders-20261128T101500Z-3f9c --confirm orders",
    ),
    long_running=True,
    visibility="in_channel",  # announced in the channel: who restores which database from which backup
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
    description="Per command: allowed, allowed with limits, or denied, and the number of the access rule that decides.",
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
        "it is then a deploy like any other: the same access rules on its branch, approvals, locks."
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

CATALOG = Catalog(
    [
        HELP,
        DEPLOY,
        CANCEL,
        ROLLBACK,
        BACKUP,
        BACKUPS,
        RESTORE,
        STATUS,
        HISTORY,
        WHOAMI,
        LOCK,
        UNLOCK,
        LOCKS,
    ]
)
