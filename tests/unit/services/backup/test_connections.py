from __future__ import annotations

import pytest

from services.backup.adapters.engines import MySqlEngine, PostgresEngine
from services.backup.connections import InvalidConnectionUrl, databases_from_env, parse_url


def test_postgres_url_becomes_arguments_and_the_password_stays_in_the_environment() -> None:
    db = parse_url("orders", "postgresql://app:s%3Acret@db.internal:6543/orders_prod")
    command = PostgresEngine().dump(db)
    assert command.argv[0] == "pg_dump" and "--format=custom" in command.argv
    assert "--host=db.internal" in command.argv and "--port=6543" in command.argv
    assert "--username=app" in command.argv and "--dbname=orders_prod" in command.argv
    assert command.env == {"PGPASSWORD": "s:cret"}
    assert not any("s:cret" in part for part in command.argv)


def test_postgres_restore_is_one_transaction() -> None:
    argv = PostgresEngine().restore(parse_url("orders", "postgres://localhost/o")).argv
    assert {"--single-transaction", "--clean", "--if-exists", "--exit-on-error"} <= set(argv)


def test_mysql_url_with_defaults() -> None:
    db = parse_url("shop", "mariadb://root:pw@127.0.0.1/shop")
    assert (db.engine, db.port, db.user) == ("mysql", 3306, "root")
    dump = MySqlEngine().dump(db)
    assert dump.argv[-1] == "shop" and "--single-transaction" in dump.argv
    assert dump.env == {"MYSQL_PWD": "pw"} and not any("pw" == part for part in dump.argv)


@pytest.mark.parametrize("url", ["redis://localhost/0", "postgresql://localhost/", "postgresql://h:notaport/x"])
def test_unusable_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidConnectionUrl):
        parse_url("x", url)


def test_databases_come_from_slashops_db_variables() -> None:
    found = databases_from_env(
        {"SLASHOPS_DB_ORDERS": "postgresql://p@h/orders", "SLASHOPS_DB_BILLING_V2": "mysql://r@h/b", "OTHER": "x"}
    )
    assert sorted(found) == ["billing_v2", "orders"]
