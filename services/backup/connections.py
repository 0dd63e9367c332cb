"""Database connection URLs → the arguments and environment each client tool takes.

Passwords go through the environment (`PGPASSWORD`, `MYSQL_PWD`), never on a command line where `ps` shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def databases_from_env(env: Mapping[str, str]) -> dict[str, Database | MisconfiguredDatabase]:
    """`SLASHOPS_DB_ORDERS=postgresql://…` → the database `orders`; an unusable URL → `MisconfiguredDatabase`."""
    found: dict[str, Database | MisconfiguredDatabase] = {}
    for key, url in env.items():
        if key.startswith(DB_ENV_PREFIX) and url:
            name = key.removeprefix(DB_ENV_PREFIX).lower()
            try:
                found[name] = parse_url(name, url)
            except InvalidConnectionUrl as error:
                problem = str(error).removeprefix(f"{name}: ")
                found[name] = MisconfiguredDatabase(name=name, variable=key, problem=problem)
    return found
