from __future__ import annotations

import pytest

from services.backup.adapters.engines import MySqlEngine, PostgresEngine
from services.backup.connections import (
    Database,
    InvalidConnectionUrl,
    MisconfiguredDatabase,
    databases_from_env,
    parse_url,
)
from shared.errors import ConfigurationError


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


# --- in AWS: one `Databases` parameter, `SLASHOPS_DATABASE_SECRETS=<name>=<secret ARN>,...` -----------------------

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:slashops/db/"
SECRETS = {
    f"{ARN}orders-Ab1": "postgresql://app:pw@orders.internal:5432/orders",
    f"{ARN}billing-Cd2": "mysql://app:pw@billing.internal/billing",
    f"{ARN}legacy-Ef3": "oracle://app:hunter2@legacy.internal/legacy",
}


def _read(secret_id: str) -> str:
    if secret_id not in SECRETS:
        raise ConfigurationError(f"cannot read the database secret {secret_id!r} (ResourceNotFoundException)")
    return SECRETS[secret_id]


def test_each_listed_secret_becomes_a_database_named_as_listed() -> None:
    env = {"SLASHOPS_DATABASE_SECRETS": f"orders={ARN}orders-Ab1, billing={ARN}billing-Cd2"}
    found = databases_from_env(env, _read)
    assert sorted(found) == ["billing", "orders"]
    orders = found["orders"]
    assert isinstance(orders, Database) and (orders.host, orders.dbname, orders.engine) == (
        "orders.internal",
        "orders",
        "postgresql",
    )


def test_an_unreadable_secret_or_unusable_url_disables_only_that_database_without_its_value() -> None:
    env = {"SLASHOPS_DATABASE_SECRETS": f"orders={ARN}orders-Ab1,legacy={ARN}legacy-Ef3,gone={ARN}gone-Gh4"}
    found = databases_from_env(env, _read)
    assert isinstance(found["orders"], Database)
    legacy, gone = found["legacy"], found["gone"]
    assert isinstance(legacy, MisconfiguredDatabase) and "unsupported scheme 'oracle'" in legacy.problem
    assert legacy.variable == f"the secret {ARN}legacy-Ef3 (SLASHOPS_DATABASE_SECRETS)"
    assert "hunter2" not in legacy.problem + legacy.variable
    assert isinstance(gone, MisconfiguredDatabase) and "ResourceNotFoundException" in gone.problem
    assert "DatabaseSecretsPrefix" in gone.problem


def test_a_slashops_db_variable_wins_over_the_secret_of_the_same_name_and_malformed_entries_are_skipped() -> None:
    env = {
        "SLASHOPS_DATABASE_SECRETS": f"orders={ARN}orders-Ab1,Bad Name={ARN}x,billing",
        "SLASHOPS_DB_ORDERS": "postgresql://postgres@127.0.0.1:5432/orders",
    }
    found = databases_from_env(env, _read)
    assert sorted(found) == ["orders"]
    orders = found["orders"]
    assert isinstance(orders, Database) and orders.host == "127.0.0.1"


def test_without_a_secret_reader_the_list_is_not_read() -> None:
    assert databases_from_env({"SLASHOPS_DATABASE_SECRETS": f"orders={ARN}orders-Ab1"}) == {}
