"""Commands declared as data: the parser, the help text and the routing are all built from these."""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ArgumentType = Literal["string", "integer", "flag"]
Visibility = Literal["ephemeral", "in_channel"]
HandledBy = Literal["ingress", "event"]
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
    """A command's whole declaration.

    `handled_by="event"` commands are published to the bus for a consumer service; `"ingress"` ones
    (help, status, history) are answered by the ingress itself. `open_to_all` commands skip access rules.
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
    open_to_all: bool = False
    changes_state: bool = False
    """For `handled_by="ingress"`: answering it writes somewhere (the lock table), so a replayed signed request
    must not take effect again: the ingress passes it through the replay guard before it acts
    (`chalicelib.replays.claim_before_acting`). A published command always passes that guard when it is published,
    so it does not say this."""

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
