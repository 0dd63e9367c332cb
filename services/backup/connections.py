"""Database connection URLs → the arguments and environment each client tool takes.

Passwords go through the environment (`PGPASSWORD`, `MYSQL_PWD`), never on a command line where `ps` shows them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

Engine = Literal["postgresql", "mysql"]
_SCHEMES: dict[str, Engine] = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}
DB_ENV_PREFIX = "SLASHOPS_DB_"
#: In AWS (infra/backup-service.yaml `Databases`): `orders=<secret ARN>,billing=<secret ARN>`; each secret's value
#: is the connection URL. Read once at start; a `SLASHOPS_DB_<NAME>` of the same name wins (local overrides).
DB_SECRETS_ENV = "SLASHOPS_DATABASE_SECRETS"
_SECRET_ENTRY = re.compile(r"([a-z][a-z0-9_]*)=(\S+)")
logger = logging.getLogger(__name__)


class InvalidConnectionUrl(ValueError):
    """The URL cannot be used; the message names the problem, never the URL (it may hold a password)."""


@dataclass(frozen=True)
class Database:
    """A database slashops may back up: its name in commands, and where it lives."""

    name: str
    engine: Engine
    host: str
    port: int
    user: str
    password: str
    dbname: str


@dataclass(frozen=True)
class MisconfiguredDatabase:
    """A `SLASHOPS_DB_<NAME>` whose URL is unusable: that database alone is unavailable, the others keep working."""

    name: str
    variable: str
    problem: str


def parse_url(name: str, url: str) -> Database:
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unbalanced "[" in the host; its text could quote the URL
        raise InvalidConnectionUrl(f"{name}: not a URL") from error
    engine = _SCHEMES.get(parts.scheme.split("+")[0])
    if engine is None:
        raise InvalidConnectionUrl(f"{name}: unsupported scheme {parts.scheme!r} (postgresql:// or mysql://)")
    dbname = unquote(parts.path.lstrip("/"))
    if not dbname:
        raise InvalidConnectionUrl(f"{name}: the URL names no database")
    default_user, default_port = ("postgres", 5432) if engine == "postgresql" else ("root", 3306)
    try:
        port = parts.port or default_port
    except ValueError as error:
        raise InvalidConnectionUrl(f"{name}: invalid port") from error
    return Database(
        name=name,
        engine=engine,
        host=parts.hostname or "127.0.0.1",
        port=port,
        user=unquote(parts.username or default_user),
        password=unquote(parts.password or ""),
        dbname=dbname,
    )


SecretReader = Callable[[str], str]
"""A secret id → its string value; raises (with a message naming the id, never the value) when unreadable."""


def database_secret_ids(value: str) -> dict[str, str]:
    """`orders=arn:…,billing=arn:…` → {"orders": "arn:…", ...}; an entry that is not `name=id` is logged, skipped."""
    found: dict[str, str] = {}
    for entry in (part.strip() for part in value.split(",")):
        match = _SECRET_ENTRY.fullmatch(entry)
        if match is None:
            if entry:
                logger.error("%s: %r is not `<name>=<secret ARN>` (name: a-z, 0-9, _); skipped", DB_SECRETS_ENV, entry)
            continue
        found[match[1]] = match[2]
    return found


def databases_from_secrets(value: str, read: SecretReader) -> dict[str, Database | MisconfiguredDatabase]:
    """Each listed secret read and parsed; an unreadable secret or unusable URL disables that database only."""
    found: dict[str, Database | MisconfiguredDatabase] = {}
    for name, secret_id in database_secret_ids(value).items():
        variable = f"the secret {secret_id} ({DB_SECRETS_ENV})"
        try:
            found[name] = parse_url(name, read(secret_id))
        except InvalidConnectionUrl as error:
            found[name] = MisconfiguredDatabase(
                name=name, variable=variable, problem=str(error).removeprefix(f"{name}: ")
            )
        except Exception as error:  # noqa: BLE001 (the reader's own message names the secret, never its value)
            problem = f"unreadable: {error}; the worker reads only secrets named under the DatabaseSecretsPrefix"
            found[name] = MisconfiguredDatabase(name=name, variable=variable, problem=problem)
    return found


def databases_from_env(
    env: Mapping[str, str], read_secret: SecretReader | None = None
) -> dict[str, Database | MisconfiguredDatabase]:
    """`SLASHOPS_DB_ORDERS=postgresql://…` → the database `orders`; an unusable URL → `MisconfiguredDatabase`.

    With `read_secret`, the databases listed in `SLASHOPS_DATABASE_SECRETS` too (a `SLASHOPS_DB_<NAME>` wins)."""
    found: dict[str, Database | MisconfiguredDatabase] = {}
    if read_secret is not None and env.get(DB_SECRETS_ENV):
        found.update(databases_from_secrets(env[DB_SECRETS_ENV], read_secret))
    for key, url in env.items():
        if key.startswith(DB_ENV_PREFIX) and url:
            name = key.removeprefix(DB_ENV_PREFIX).lower()
            try:
                found[name] = parse_url(name, url)
            except InvalidConnectionUrl as error:
                problem = str(error).removeprefix(f"{name}: ")
                found[name] = MisconfiguredDatabase(name=name, variable=key, problem=problem)
    return found
