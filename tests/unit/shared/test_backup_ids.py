"""A backup id names the database it was taken of (`restore --db orders_staging --from orders-…`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.backup.models import backup_id_for
from shared.backups import backup_database


@pytest.mark.parametrize("database", ["orders", "orders_staging", "orders-eu", "a", "db-2026-x", "x" * 63])
def test_every_id_a_backup_makes_names_its_database(database: str) -> None:
    backup_id = backup_id_for(database, datetime(2026, 11, 28, 10, 15, tzinfo=UTC), "3f9c2a7d41b0")
    assert backup_database(backup_id) == database


@pytest.mark.parametrize(
    "text",
    [
        "",
        "orders",
        "orders-x",
        "orders-20261128T101500Z",
        "orders-20261128T101500Z-",
        "Orders-20261128T101500Z-3f9c",
        "orders-20261128T101500Z-3f9c\n",
        "../orders-20261128T101500Z-3f9c",
        "orders-2026112T101500Z-3f9c",
    ],
)
def test_anything_else_names_no_database(text: str) -> None:
    assert backup_database(text) is None
