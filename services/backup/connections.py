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
    pass


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

    def describe(self) -> str:
        """Safe to show and log: no password."""
        return f"{self.engine}://{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_url(name: str, url: str) -> Database:
    parts = urlsplit(url)
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


def databases_from_env(env: Mapping[str, str]) -> dict[str, Database]:
    """`SLASHOPS_DB_ORDERS=postgresql://…` → the database `orders`."""
    found = {}
    for key, url in env.items():
        if key.startswith(DB_ENV_PREFIX) and url:
            name = key.removeprefix(DB_ENV_PREFIX).lower()
            found[name] = parse_url(name, url)
    return found
