"""`slashops aws bootstrap`: the Secrets Manager secrets the stacks take as parameters, created once.

    slashops aws bootstrap --database orders          # creates what is missing; asks for each value
    slashops aws bootstrap --rotate bot-token         # a new value for one secret (a new AWSCURRENT version)

| secret (`--prefix slashops`)   | value                                   | stack parameter                       |
|--------------------------------|-----------------------------------------|---------------------------------------|
| `slashops/slack-signing-secret`| the Slack app's signing secret          | ingress `SigningSecretArn`            |
| `slashops/slack-bot-token`     | the bot token `xoxb-…`                  | every stack's `BotTokenSecretArn`     |
| `slashops/jenkins`             | JSON `{"url", "user", "api_token"}`     | deploy `JenkinsSecretArn`             |
| `slashops/db/<name>`           | `postgresql://…` or `mysql://…`         | backup: the database `<name>`         |

Values come from the environment (`SLACK_SIGNING_SECRET`, `SLACK_BOT_TOKEN`, `JENKINS_URL`, `JENKINS_USER`,
`JENKINS_API_TOKEN`, `SLASHOPS_DB_<NAME>`), else a hidden prompt on a terminal, else one line each from stdin
(in the order above): never from the command line (shell history), and never printed. A secret that exists is
left alone (its value is not even asked for) unless `--rotate <key>` names it. Prints each ARN and the stack
parameters to pass to `make deploy` (see infra/README.md).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from tools.cli.aws_target import Target, TargetError, add_target_options

DEFAULT_PREFIX = "slashops"


class SecretsClient(Protocol):
    def describe_secret(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def create_secret(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def put_secret_value(self, **kwargs: Any) -> Mapping[str, Any]: ...


class BootstrapError(Exception):
    """A value that cannot be right, or a secret in a state we must not touch; nothing of it was written."""


@dataclass(frozen=True)
class Field:
    """One value to read: its environment variable, what a prompt calls it, whether to hide it while typed."""

    env: str
    label: str
    hidden: bool = True


@dataclass(frozen=True)
class SecretSpec:
    key: str  # what --rotate names
    name: str  # the Secrets Manager name
    description: str
    fields: tuple[Field, ...]
    check: Callable[[dict[str, str]], str | None]  # the problem with the values, or None
    encode: Callable[[dict[str, str]], str]


def _single(values: dict[str, str]) -> str:
    return next(iter(values.values()))


def _signing_secret(values: dict[str, str]) -> str | None:
    value = _single(values)
    return (
        "the signing secret is one word (Slack: Basic Information → App Credentials)"
        if value.split() != [value]
        else None
    )


def _bot_token(values: dict[str, str]) -> str | None:
    return None if _single(values).startswith("xoxb-") else "a bot token starts with xoxb- (OAuth & Permissions)"


def _jenkins(values: dict[str, str]) -> str | None:
    if not values["JENKINS_URL"].startswith(("https://", "http://")):
        return "the Jenkins URL starts with https:// (or http://)"
    return (
        None if values["JENKINS_USER"] and values["JENKINS_API_TOKEN"] else "the Jenkins user and API token are needed"
    )


def _database(name: str) -> Callable[[dict[str, str]], str | None]:
    def check(values: dict[str, str]) -> str | None:
        from services.backup.connections import InvalidConnectionUrl, parse_url

        try:
            parse_url(name, _single(values))
        except InvalidConnectionUrl as error:
            return str(error)  # names the problem, never the URL
        return None

    return check


def secrets(prefix: str, databases: list[str]) -> list[SecretSpec]:
    specs = [
        SecretSpec(
            "signing-secret",
            f"{prefix}/slack-signing-secret",
            "slashops: the Slack app's signing secret (ingress)",
            (Field("SLACK_SIGNING_SECRET", "Slack signing secret"),),
            _signing_secret,
            _single,
        ),
        SecretSpec(
            "bot-token",
            f"{prefix}/slack-bot-token",
            "slashops: the Slack bot token (notifier replies, user groups)",
            (Field("SLACK_BOT_TOKEN", "Slack bot token (xoxb-…)"),),
            _bot_token,
            _single,
        ),
        SecretSpec(
            "jenkins",
            f"{prefix}/jenkins",
            "slashops: Jenkins URL, user and API token (deploy service)",
            (
                Field("JENKINS_URL", "Jenkins URL", hidden=False),
                Field("JENKINS_USER", "Jenkins user", hidden=False),
                Field("JENKINS_API_TOKEN", "Jenkins API token"),
            ),
            _jenkins,
            lambda values: json.dumps(
                {"url": values["JENKINS_URL"], "user": values["JENKINS_USER"], "api_token": values["JENKINS_API_TOKEN"]}
            ),
        ),
    ]
    for database in databases:
        specs.append(
            SecretSpec(
                f"db/{database}",
                f"{prefix}/db/{database}",
                f"slashops: connection URL of the database {database} (backup worker)",
                (
                    Field(
                        f"SLASHOPS_DB_{database.upper()}", f"connection URL of {database} (postgresql://… or mysql://…)"
                    ),
                ),
                _database(database),
                _single,
            )
        )
    return specs


class Values:
    """Where values come from: the environment, else a prompt on a terminal, else a line of stdin."""

    def __init__(self, env: Mapping[str, str], stdin: TextIO, err: TextIO) -> None:
        self.env, self.stdin, self.err = env, stdin, err

    def read(self, field: Field) -> str:
        if self.env.get(field.env):
            return self.env[field.env].strip()
        if self.stdin.isatty():
            prompt = f"{field.label} (or set {field.env}): "
            if field.hidden:
                return getpass.getpass(prompt, stream=self.err).strip()
            print(prompt, end="", file=self.err, flush=True)
            return self.stdin.readline().strip()
        print(f"reading {field.label} from stdin ({field.env} is unset)", file=self.err)
        return self.stdin.readline().strip()


def ensure(client: SecretsClient, spec: SecretSpec, values: Values, *, rotate: bool) -> tuple[str, str]:
    """(what happened, the ARN) for one secret."""
    from botocore.exceptions import ClientError

    try:
        existing = client.describe_secret(SecretId=spec.name)
    except ClientError as error:
        if _code(error) != "ResourceNotFoundException":
            raise
        existing = None
    if existing is not None and existing.get("DeletedDate"):
        raise BootstrapError(
            f"{spec.name} is scheduled for deletion: `aws secretsmanager restore-secret --secret-id {spec.name}` "
            "restores it (then run this again)"
        )
    if existing is not None and not rotate:
        return f"kept {spec.name} (it exists; `--rotate {spec.key}` sets a new value)", str(existing["ARN"])
    read = {field.env: values.read(field) for field in spec.fields}
    if not all(read.values()):
        raise BootstrapError(f"{spec.name}: no value given, nothing written")
    problem = spec.check(read)
    if problem:
        raise BootstrapError(f"{spec.name}: {problem}; nothing written")
    secret = spec.encode(read)
    if existing is None:
        created = client.create_secret(Name=spec.name, Description=spec.description, SecretString=secret)
        return f"created {spec.name}", str(created["ARN"])
    rotated = client.put_secret_value(SecretId=spec.name, SecretString=secret)
    return f"rotated {spec.name} (new version {rotated.get('VersionId', '?')} is AWSCURRENT)", str(existing["ARN"])


def _code(error: Any) -> str:
    return str((getattr(error, "response", {}) or {}).get("Error", {}).get("Code", ""))


def stack_parameters(arns: Mapping[str, str], databases: list[str]) -> list[str]:
    """What each stack takes, as `make deploy`'s `STACK_PARAMETERS` (see infra/README.md)."""
    bot = f"BotTokenSecretArn={arns['bot-token']}" if "bot-token" in arns else ""
    lines = []
    if "signing-secret" in arns:
        lines.append(f"  ingress:  SigningSecretArn={arns['signing-secret']} {bot}".rstrip())
    if "jenkins" in arns:
        lines.append(f"  deploy:   JenkinsSecretArn={arns['jenkins']} {bot}".rstrip())
    if bot:
        lines.append(f"  notifier: {bot}")
    pairs = [f"{database}={arns[f'db/{database}']}" for database in databases if f"db/{database}" in arns]
    listed = f"Databases={','.join(pairs)}" if pairs else ""
    if bot or listed:
        lines.append(f"  backup:   {' '.join(part for part in (bot, listed) if part)}")
    return lines


def bootstrap(
    client: SecretsClient,
    specs: list[SecretSpec],
    values: Values,
    out: TextIO,
    *,
    rotate: set[str],
    databases: list[str],
) -> int:
    unknown = rotate - {spec.key for spec in specs}
    if unknown:
        known = ", ".join(spec.key for spec in specs)
        raise BootstrapError(f"--rotate {', '.join(sorted(unknown))}: not a secret here (one of {known})")
    arns: dict[str, str] = {}
    for spec in specs:
        what, arn = ensure(client, spec, values, rotate=spec.key in rotate)
        arns[spec.key] = arn
        print(f"{what}: {arn}", file=out)
    print("stack parameters (STACK_PARAMETERS for `make deploy`; see infra/README.md):", file=out)
    for line in stack_parameters(arns, databases):
        print(line, file=out)
    return 0


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="slashops aws bootstrap", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_argument("--prefix", default=DEFAULT_PREFIX, help="secret names start with <prefix>/ (default slashops)")
    cli.add_argument(
        "--database", action="append", default=[], metavar="NAME", help="a database the backup worker serves (repeat)"
    )
    cli.add_argument(
        "--rotate",
        action="append",
        default=[],
        metavar="KEY",
        help="set a new value: signing-secret, bot-token, jenkins or db/<name> (repeat)",
    )
    add_target_options(cli)
    return cli


def main(
    argv: list[str] | None = None,
    out: TextIO | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdin: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out = sys.stdout if out is None else out  # the streams in use when called, not when this module was imported
    stdin = sys.stdin if stdin is None else stdin
    err = sys.stderr if err is None else err
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:2] == ["aws", "bootstrap"]:
        arguments = arguments[2:]  # `slashops aws bootstrap ...` through bin/slashops
    args = parser().parse_args(arguments)
    from botocore.exceptions import BotoCoreError, ClientError

    databases = [name.lower() for name in args.database]
    try:
        client: SecretsClient = Target.from_args(args).client("secretsmanager")
        values = Values(os.environ if env is None else env, stdin, err)
        return bootstrap(
            client, secrets(args.prefix, databases), values, out, rotate=set(args.rotate), databases=databases
        )
    except (BootstrapError, TargetError, BotoCoreError, ClientError) as error:
        print(f"slashops aws bootstrap: {error}", file=out)
        return 1


if __name__ == "__main__":
    sys.exit(main())
