"""`slashops config`: check, publish, show and roll back the configuration the services read from SSM.

    slashops config validate config/prod.yaml     # the services' own parser: what passes here, they accept
    slashops config validate config/local.yaml --local   # also: what make run's Slack says each name stands for
    slashops config push config/prod.yaml         # validated first, then a new version of the parameter
    slashops config show                          # the value in force, its version, who changed it and when
    slashops config rollback                      # the version before the current one, validated again
    slashops config rollback --to 7               # a given version from the parameter's history

The parameter is `--parameter`, else `SLASHOPS_CONFIG_PARAMETER`, else `/slashops/config` (the stacks'
`ConfigParameterName` default). SSM keeps every version (`get-parameter-history`, the last 100): a push or a
rollback writes a new version, so the history always shows what was in force and who put it there. The
services read the parameter again within `SLASHOPS_CONFIG_TTL` seconds (60 by default): no redeploy.
`--local` aims at `make run`'s AWS: its units read the parameter it seeded from its configuration file (named in
`.local/make-run.json`, with their TTL, 5 s), so a push or rollback there changes what runs. `--endpoint-url` aims
at any emulator.

A rule may name users and channels by name (`example.user`, `#deploys`): the services resolve each name to its
Slack ID through Slack, and match only IDs. `validate` asks Slack what each name stands for (`make run`'s Slack with
`--local`, else the Slack of `SLACK_BOT_TOKEN` / `SLACK_BOT_TOKEN_SECRET_ID`) and says so, or warns that it could
not check.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from shared.commands.catalog import CATALOG
from shared.config.access import named_names
from shared.config.loader import parse_config
from shared.config.location import ConfigLocation
from shared.config.model import SlashopsConfig
from shared.config.source import FileConfigText
from shared.errors import ConfigurationError
from shared.slack.bot import SlackBot
from shared.slack.names import NameDirectory, NameReferences, Names, resolve_names
from tools.cli.aws_target import LOCAL_STATE, Target, TargetError, add_target_options

DEFAULT_PARAMETER = "/slashops/config"
STANDARD_LIMIT = 4096  # SSM Standard tier: 4 KB per value; Advanced: 8 KB (and a monthly charge)
ADVANCED_LIMIT = 8192


class SsmClient(Protocol):
    """The SSM calls `slashops config` makes (boto3's client)."""

    def get_parameter(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_parameter_history(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def put_parameter(self, **kwargs: Any) -> Mapping[str, Any]: ...


class ConfigCliError(Exception):
    """A refusal: the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Readers:
    """Who reads the parameter written, and how soon after a change: what push, rollback and show tell the operator."""

    parameter: str
    who: str = "the services"
    ttl: str = "60"
    source: str = " (SLASHOPS_CONFIG_TTL)"
    elsewhere: str = ""
    """Set when what runs reads something else: then a write changes nothing that runs, and this says so."""

    def within(self) -> str:
        return self.elsewhere or f"{self.who} read it within {self.ttl}s{self.source}"

    def every(self) -> str:
        return self.elsewhere or f"{self.who} read it again every {self.ttl}s{self.source}"


def who_reads(parameter: str | None, *, local: bool, state: Path = LOCAL_STATE) -> Readers:
    """The parameter to use (`--parameter`, else `make run`'s with `--local`, else the environment's, else the
    default) and who reads it: with `--local`, the units `make run` points at the parameter it seeded."""
    default = ConfigLocation.from_env(os.environ).parameter or DEFAULT_PARAMETER
    if not local:
        return Readers(parameter or default, ttl=_ttl())
    running = _running(state)
    seeded = str(running.get("config_parameter") or "")
    name = parameter or seeded or default
    if seeded and name == seeded:
        return Readers(name, who="the services under make run", ttl=str(running.get("config_ttl") or "?"), source="")
    if seeded:
        return Readers(name, elsewhere=f"make run's services read {seeded}, not {name}: nothing that runs changes")
    file = running.get("config_file") or "their configuration file (SLASHOPS_CONFIG)"
    elsewhere = f"make run's services read {file}, not SSM: nothing that runs changes (edit it, restart make run)"
    return Readers(name, elsewhere=elsewhere)


def _running(state: Path) -> Mapping[str, Any]:
    """What `make run` wrote about itself; empty when it is not running (the AWS target then says so)."""
    try:
        running = json.loads(state.read_text())
    except (OSError, ValueError):
        return {}
    return running if isinstance(running, dict) else {}


@dataclass(frozen=True)
class Version:
    number: int
    value: str
    kind: str  # String or SecureString
    modified_at: datetime | None = None
    modified_by: str = ""

    def line(self) -> str:
        when = self.modified_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip() if self.modified_at else "unknown time"
        return f"version {self.number}, {when}" + (f", by {self.modified_by}" if self.modified_by else "")


def plain(message: str) -> str:
    """The loader escapes for Slack; a terminal shows the characters as typed."""
    return message.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def validate(text: str, origin: str) -> SlashopsConfig:
    """The very parser every unit runs (`shared/config/loader.py`), against the commands slashops declares."""
    try:
        return parse_config(text, origin=origin, known_commands=CATALOG.names())
    except ConfigurationError as error:
        raise ConfigCliError(plain(error.message)) from error


def summary(config: SlashopsConfig) -> str:
    allows = sum(1 for rule in config.access if not rule.deny)
    denies = len(config.access) - allows
    every = "every database the backup worker has (backup stack: Databases; make run: SLASHOPS_DB_<NAME>)"
    databases = ", ".join(config.backup.databases) or every
    lines = [f"{allows} allow rule(s), {denies} deny rule(s)", f"backup databases: {databases}"]
    if not allows:
        lines.append("no allow rule: every command except help is refused")
    return "; ".join(lines)


def names_used(config: SlashopsConfig) -> NameReferences:
    """The user and channel names (not IDs) the rules and their approvers use."""
    rules = named_names(config.access)
    approvers = NameReferences.among(
        (user for rule in config.access if rule.approval for user in rule.approval.users or ()), ()
    )
    return NameReferences(users=rules.users | approvers.users, channels=rules.channels)


def report_names(config: SlashopsConfig, directory: NameDirectory | None, out: TextIO) -> None:
    """Each name the rules use and the Slack ID it resolves to; a warning where Slack cannot be asked."""
    wanted = names_used(config)
    if not wanted:
        return
    listed = [*sorted(wanted.users), *(f"#{channel}" for channel in sorted(wanted.channels))]
    if directory is None:
        print(
            f"warning: cannot check the names the rules use ({', '.join(listed)}): no Slack to ask (set "
            "SLACK_BOT_TOKEN, or --local while `make run` runs). The services resolve each through Slack and, "
            "until Slack answers, the rules naming it admit no one.",
            file=out,
        )
        return
    names = resolve_names(wanted, directory)
    for line in _name_lines(wanted, names):
        print(line, file=out)


def _name_lines(wanted: NameReferences, names: Names) -> list[str]:
    lines = []
    for kind, entries, resolved, shown in (
        ("user", wanted.users, names.users, lambda entry: entry),
        ("channel", wanted.channels, names.channels, lambda entry: f"#{entry}"),
    ):
        if not entries:
            continue
        if resolved is None:
            lines.append(f"warning: Slack could not be asked about the {kind} names ({len(entries)}): unchecked")
            continue
        for entry in sorted(entries):
            found = resolved.get(entry)
            what = found if found else f"no such {kind} in Slack: matches no one"
            lines.append(f"{kind} {shown(entry)} -> {what}")
    return lines


def slack_names(local: bool, state: Path = LOCAL_STATE) -> NameDirectory | None:
    """`make run`'s Slack (`--local`), else the Slack of the environment's bot token; None: no Slack to ask."""
    from shared.slack.sdk_groups import SlackSdkGroupDirectory

    if local:
        running = _running(state)
        url, token = running.get("slack_api_url"), running.get("slack_bot_token")
        if not url or not token:
            return None
        return SlackSdkGroupDirectory(lambda: str(token), api_url=str(url), timeout=5)
    bot = SlackBot.from_env(os.environ)
    if not (bot.token or bot.token_secret_id):
        return None
    return SlackSdkGroupDirectory(bot.read_token, api_url=bot.api_url, timeout=5)


def history(ssm: SsmClient, name: str) -> list[Version]:
    """Every version SSM still holds, oldest first."""
    from botocore.exceptions import ClientError

    versions: list[Version] = []
    token: str | None = None
    try:
        while True:
            page = ssm.get_parameter_history(
                Name=name, WithDecryption=True, MaxResults=50, **({"NextToken": token} if token else {})
            )
            versions += [_version(entry) for entry in page.get("Parameters", [])]
            token = page.get("NextToken")
            if not token:
                break
    except ClientError as error:
        if _code(error) == "ParameterNotFound":
            return []
        raise
    return sorted(versions, key=lambda version: version.number)


def current(ssm: SsmClient, name: str) -> Version | None:
    versions = history(ssm, name)
    return versions[-1] if versions else None


def _version(entry: Mapping[str, Any]) -> Version:
    return Version(
        number=int(entry["Version"]),
        value=str(entry.get("Value", "")),
        kind=str(entry.get("Type", "String")),
        modified_at=entry.get("LastModifiedDate"),
        modified_by=_known(entry.get("LastModifiedUser")),
    )


def _known(user: Any) -> str:
    """Who changed a version; "" when unknown (LocalStack answers "N/A")."""
    text = str(user or "").strip()
    return "" if text.upper() == "N/A" else text


def _code(error: Any) -> str:
    return str((getattr(error, "response", {}) or {}).get("Error", {}).get("Code", ""))


def write(ssm: SsmClient, name: str, value: str, *, previous: Version | None, description: str) -> int:
    """A new version of the parameter (its type kept; String when new); returns its number."""
    size = len(value.encode())
    if size > ADVANCED_LIMIT:
        raise ConfigCliError(f"the configuration is {size} bytes; an SSM parameter holds at most {ADVANCED_LIMIT}")
    tier = {"Tier": "Advanced"} if size > STANDARD_LIMIT else {}
    response = ssm.put_parameter(
        Name=name,
        Value=value,
        Type=previous.kind if previous else "String",
        Overwrite=previous is not None,
        Description=description[:1024],
        **tier,
    )
    return int(response["Version"])


def push(ssm: SsmClient, name: str, text: str, origin: str, out: TextIO, *, readers: Readers | None = None) -> int:
    readers = readers or Readers(name, ttl=_ttl())
    config = validate(text, origin)
    print(f"{origin}: valid ({summary(config)})", file=out)
    before = current(ssm, name)
    if before is not None and before.value == text:
        print(f"{name} already holds this text ({before.line()}): nothing written", file=out)
        return 0
    number = write(ssm, name, text, previous=before, description=f"slashops config push {Path(origin).name}")
    was = f"; version {before.number} is kept in its history (`slashops config rollback`)" if before else ""
    print(f"{name}: version {number} written{was}", file=out)
    print(readers.within(), file=out)
    return 0


def rollback(ssm: SsmClient, name: str, out: TextIO, *, to: int | None = None, readers: Readers | None = None) -> int:
    readers = readers or Readers(name, ttl=_ttl())
    versions = history(ssm, name)
    if not versions:
        raise ConfigCliError(f"{name} does not exist: there is nothing to roll back")
    now = versions[-1]
    earlier = [version for version in versions if version.number < now.number]
    if to is not None:
        target = next((version for version in versions if version.number == to), None)
        if target is None:
            held = ", ".join(str(version.number) for version in versions)
            raise ConfigCliError(f"{name} has no version {to} (SSM holds: {held})")
    elif earlier:
        target = earlier[-1]
    else:
        raise ConfigCliError(f"{name} has a single version ({now.number}): there is no previous one")
    if target.value == now.value:
        print(f"version {target.number} is the text in force already ({now.line()}): nothing written", file=out)
        return 0
    try:
        validate(target.value, f"{name} version {target.number}")
    except ConfigCliError as error:
        raise ConfigCliError(f"version {target.number} is not valid today, so it was not restored: {error}") from error
    number = write(ssm, name, target.value, previous=now, description=f"slashops config rollback to {target.number}")
    print(f"{name}: version {number} written with the text of version {target.number} ({target.line()})", file=out)
    print(f"version {now.number} stays in the history; {readers.within()}", file=out)
    return 0


def show(ssm: SsmClient, name: str, out: TextIO, *, readers: Readers | None = None) -> int:
    readers = readers or Readers(name, ttl=_ttl())
    version = current(ssm, name)
    if version is None:
        raise ConfigCliError(f"{name} does not exist yet: `slashops config push FILE` creates it")
    print(f"{name} ({version.kind}): {version.line()}", file=out)
    print(readers.every(), file=out)
    try:
        print(f"valid: {summary(validate(version.value, name))}", file=out)
        status = 0
    except ConfigCliError as error:
        print(f"INVALID, every command except help is refused: {error}", file=out)
        status = 1
    print("---", file=out)
    print(version.value.rstrip("\n"), file=out)
    return status


def _ttl() -> str:
    return f"{ConfigLocation.from_env(os.environ).ttl_seconds:g}"


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="slashops config", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    verbs = cli.add_subparsers(dest="verb", required=True)
    check = verbs.add_parser("validate", help="check a file with the services' own validation")
    check.add_argument("file", type=Path)
    check.add_argument("--local", action="store_true", help="ask `make run`'s Slack what the rules' names stand for")
    for verb, text in (
        ("push", "validate FILE, then write it as a new version of the parameter"),
        ("show", "the value in force, its version, who and when"),
        ("rollback", "write the previous version (or --to N) again, validated first"),
    ):
        each = verbs.add_parser(verb, help=text)
        if verb == "push":
            each.add_argument("file", type=Path)
        if verb == "rollback":
            each.add_argument("--to", type=int, help="the version to restore (default: the one before the current)")
        if verb in ("push", "show", "rollback"):
            each.add_argument("--bus-stack", default="slashops-bus", help="the bus stack (backup.schedules' target)")
            each.add_argument(
                "--alarm-topic",
                default=os.environ.get("SLASHOPS_ALARM_TOPIC_ARN", ""),
                help="SNS topic for the missed-schedule alarms (default: $SLASHOPS_ALARM_TOPIC_ARN, else none)",
            )
        each.add_argument(
            "--parameter",
            help=f"SSM parameter name (default: make run's with --local, else $SLASHOPS_CONFIG_PARAMETER, else "
            f"{DEFAULT_PARAMETER})",
        )
        add_target_options(each)
    return cli


def _read(path: Path) -> str:
    """As the services read a file: never more than the configuration's size bound of it."""
    try:
        return FileConfigText(path).read()
    except ConfigurationError as error:
        raise ConfigCliError(plain(error.message)) from error


def _schedules_after_push(config: SlashopsConfig, target: Target, args: argparse.Namespace, out: TextIO) -> int:
    """`backup.schedules` on EventBridge Scheduler brought in step (tools/cli/schedules.py)."""
    from tools.cli.schedules import after_push

    return after_push(config, target, local=args.local, bus_stack=args.bus_stack, topic=args.alarm_topic, out=out)


def _schedules_after_show(ssm: SsmClient, name: str, target: Target, args: argparse.Namespace, out: TextIO) -> int:
    """Their drift on AWS, and the missed-schedule check from the ledger (tools/cli/schedules.py)."""
    from datetime import UTC, datetime

    from tools.cli.schedules import after_show

    version = current(ssm, name)
    if version is None:
        return 0
    return after_show(
        version.value,
        target,
        local=args.local,
        bus_stack=args.bus_stack,
        topic=args.alarm_topic,
        out=out,
        now=datetime.now(UTC),
    )


def main(argv: list[str] | None = None, out: TextIO | None = None, *, local_state: Path = LOCAL_STATE) -> int:
    out = sys.stdout if out is None else out  # the stream in use when called, not when this module was imported
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["config"]:
        arguments = arguments[1:]  # `slashops config ...` through bin/slashops
    args = parser().parse_args(arguments)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if args.verb == "validate":
            config = validate(_read(args.file), str(args.file))
            print(f"{args.file}: valid ({summary(config)})", file=out)
            report_names(config, slack_names(args.local, local_state), out)
            return 0
        target = Target(args.local, args.endpoint_url or None, local_state)
        ssm: SsmClient = target.client("ssm")
        who = who_reads(args.parameter, local=args.local, state=local_state)
        if args.verb == "push":
            text = _read(args.file)
            status = push(ssm, who.parameter, text, str(args.file), out, readers=who)
            return status or _schedules_after_push(validate(text, str(args.file)), target, args, out)
        if args.verb == "rollback":
            status = rollback(ssm, who.parameter, out, to=args.to, readers=who)
            restored = current(ssm, who.parameter)
            if status or restored is None:
                return status
            return _schedules_after_push(validate(restored.value, who.parameter), target, args, out)
        status = show(ssm, who.parameter, out, readers=who)
        return max(status, _schedules_after_show(ssm, who.parameter, target, args, out))
    except (ConfigCliError, TargetError, BotoCoreError, ClientError) as error:
        print(f"slashops config {args.verb}: {error}", file=out)
        return 1


if __name__ == "__main__":
    sys.exit(main())
