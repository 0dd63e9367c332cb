"""Commands declared as data: the parser, the help text and the routing are all built from these."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ArgumentType = Literal["string", "integer", "flag"]
Visibility = Literal["ephemeral", "in_channel"]
HandledBy = Literal["ingress", "event"]
INGRESS_PACKAGE = "chalicelib."
"""The ingress' code; a consumer `<name>`'s is `services.<name>.`: a command's references point into its unit's."""
_REFERENCE = r"^[a-z_][a-z0-9_.]*:[a-z_][a-z0-9_]*$"
ValidatorName = Literal["git_ref", "identifier", "command_id", "slack_user", "command_name"]

ArgumentValue = str | int | bool | None


class ArgumentSpec(BaseModel):
    """One argument: `--name value`, a `--name` flag, or a positional `name`."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    help: str
    type: ArgumentType = "string"
    positional: bool = False
    required: bool = False
    choices: tuple[str, ...] | None = None
    default: ArgumentValue = None
    metavar: str | None = None
    validator: ValidatorName | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ArgumentSpec:
        if self.type == "flag" and (self.positional or self.required or self.choices):
            raise ValueError(f"flag {self.name!r} cannot be positional, required or have choices")
        if self.required and self.default is not None:
            raise ValueError(f"argument {self.name!r} is required and has a default")
        if self.choices and self.default is not None and self.default not in self.choices:
            raise ValueError(f"default of {self.name!r} is not one of its choices")
        return self

    @cached_property
    def dest(self) -> str:
        """The key this argument has in parsed arguments and in events (asked many times a request: cached)."""
        return self.name.replace("-", "_")

    @property
    def option(self) -> str:
        return self.name if self.positional else f"--{self.name}"

    @property
    def display_metavar(self) -> str:
        if self.metavar:
            return self.metavar
        if self.choices:
            return "{" + ",".join(self.choices) + "}"
        return self.dest.upper()


class CommandSpec(BaseModel):
    """A command's whole declaration: what it takes, which unit runs it and how — nothing about a command is
    stated anywhere else (routes, help, the manifest, the docs' command reference and every registry derive from
    it).

    `handled_by="event"` commands are published to the bus for their `consumer`; `"ingress"` ones (help, status,
    history) are answered by the ingress itself. `open_to_all` commands skip access rules (at the ingress and in
    the consumer: the use case decides, as `cancel` does). `runs` names the use case as `module:function` in its
    unit's package, imported on first use (`shared.commands.references.resolve`); every command of the catalog has
    one (`tests/unit/shared/commands/test_catalog_references.py`).
    `changes_state` marks a command the ingress answers that writes (a lock): each signed request for it takes
    effect at most once (the replay guard).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    summary: str
    description: str = ""
    arguments: tuple[ArgumentSpec, ...] = ()
    examples: tuple[str, ...] = ()
    long_running: bool = False
    visibility: Visibility = "ephemeral"
    handled_by: HandledBy = "event"
    consumer: str | None = None
    runs: str | None = Field(default=None, pattern=_REFERENCE)
    """The use case. Ingress: `(Command, IngressDeps) -> SlackMessage`. Deploy: `(Authorized, DeployDeps, Delivery)
    -> None`. Backup: `(Job) -> Outcome`, or `(Job, found) -> Outcome` with a `precheck`."""
    before_publishing: str | None = Field(default=None, pattern=_REFERENCE)
    """Ingress, published commands: a check that raises to refuse before the command is published (the deploy's
    lock check), `(Command, IngressDeps, *, deadline) -> None`; it runs alongside the replay guard."""
    holds: str | None = Field(default=None, pattern=_REFERENCE)
    """Ingress, published commands: a step before `before_publishing` that may refuse the command, or hold it for
    approval for a reason of its own (a freeze with an `override`), `(Command, IngressDeps) -> Command` (with
    `approval` set to hold it); an access rule's hold, if any, is asked first (`chalicelib.freezing`)."""
    confirm: str | None = Field(default=None, pattern=_REFERENCE)
    """Ingress, published commands: asks the user to confirm first (a button) instead of publishing at once,
    `(Command, IngressDeps) -> SlackMessage` (restore)."""
    precheck: str | None = Field(default=None, pattern=_REFERENCE)
    """Backup: `(Job) -> found`, may refuse the job before the user is told it started; `found` goes to `runs`."""
    exclusive: bool = False
    """Backup: holds its database's lock while it runs (backups and restores of one database never overlap)."""
    when_refused: str | None = Field(default=None, pattern=_REFERENCE)
    """Deploy: what happens instead of a rejection when the current rules refuse the caller,
    `(CommandRequested, DeployDeps, Delivery, reason, hint) -> None` (a deploy already claimed carries on)."""
    open_to_all: bool = False
    changes_state: bool = False
    """For `handled_by="ingress"`: answering it writes somewhere (the lock table), so a replayed signed request
    must not take effect again: the ingress passes it through the replay guard before it acts
    (`chalicelib.replays.claim_before_acting`). A published command always passes that guard when it is published,
    so it does not say this."""

    @model_validator(mode="after")
    def _references_in_their_unit(self) -> CommandSpec:
        package = INGRESS_PACKAGE if self.handled_by == "ingress" else f"services.{self.consumer}."
        for field_name in ("runs", "precheck", "when_refused"):
            reference = getattr(self, field_name)
            if reference is not None and not reference.startswith(package):
                raise ValueError(f"command {self.name!r}: {field_name} {reference!r} is not in {package}")
        for field_name in ("before_publishing", "holds", "confirm"):
            reference = getattr(self, field_name)
            if reference is not None and (self.handled_by == "ingress" or not reference.startswith(INGRESS_PACKAGE)):
                raise ValueError(f"command {self.name!r}: {field_name} is the ingress' step before publishing")
        if (self.precheck or self.exclusive) and self.consumer != "backup":
            raise ValueError(f"command {self.name!r}: precheck and exclusive are the backup worker's")
        if self.when_refused and self.consumer != "deploy":
            raise ValueError(f"command {self.name!r}: when_refused is the deploy service's")
        return self

    @model_validator(mode="after")
    def _unique_arguments(self) -> CommandSpec:
        names = [argument.dest for argument in self.arguments]
        if len(names) != len(set(names)):
            raise ValueError(f"command {self.name!r} declares an argument twice")
        if self.handled_by == "event" and not self.consumer:
            raise ValueError(f"command {self.name!r} is published but names no consumer")
        if self.handled_by == "event" and self.changes_state:
            raise ValueError(
                f"command {self.name!r} is published, and every published command passes the replay guard: "
                "`changes_state` is for commands the ingress answers"
            )
        return self

    def usage(self, prog: str = "/ops") -> str:
        parts = [f"{prog} {self.name}"]
        for argument in self.arguments:
            parts.append(_usage_part(argument))
        return " ".join(parts)


def _usage_part(argument: ArgumentSpec) -> str:
    if argument.positional:
        text = argument.display_metavar.lower() if not argument.metavar else argument.metavar
        text = f"<{text}>"
    elif argument.type == "flag":
        text = argument.option
    else:
        text = f"{argument.option} {argument.display_metavar}"
    return text if argument.required else f"[{text}]"
