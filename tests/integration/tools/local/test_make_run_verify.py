"""Issue 25.3–25.4 under `make run`, read as a user reads them (through `slashops send`, which signs each command
as Slack does and prints every answer): a backup, its tested restore (`verify`), the mark `backups` shows, and a
restore of `orders`' backup into `orders_staging` whose prompt, result and data name and match the source."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.backup import psql, throwaway_pg_database
from tests.support.make_run import make_run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]
REPO_ROOT = Path(__file__).resolve().parents[4]
CONFIG = 'access:\n  - command: "*"\nbackup:\n  restore_into: {orders: [orders_staging]}\n'
SOURCE = "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake');"
STALE = "CREATE TABLE orders (id int primary key, item text); INSERT INTO orders VALUES (9, 'stale');"


def _send(port: int, text: str, timeout: int = 40) -> str:
    env = {**os.environ, "INGRESS_PORT": str(port)}
    env.pop("SLACK_SIGNING_SECRET", None)
    argv = [sys.executable, "-m", "tools.cli.send", text, "--channel", "C0LOCAL", "--timeout", str(timeout)]
    sent = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout + 20)
    assert sent.returncode == 0, sent.stdout + sent.stderr
    return sent.stdout


def test_verify_and_a_restore_into_another_database_read_as_a_user_reads_them(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG)
    with throwaway_pg_database("orders", SOURCE) as source, throwaway_pg_database("orders_staging", STALE) as target:
        env = {
            "SLASHOPS_CONFIG": str(config),
            "SLASHOPS_DB_ORDERS": f"postgresql://postgres@127.0.0.1:5432/{source.dbname}",
            "SLASHOPS_DB_ORDERS_STAGING": f"postgresql://postgres@127.0.0.1:5432/{target.dbname}",
        }
        with make_run(extra_env=env) as running:
            backed_up = _send(running.port, "backup --db orders")
            found = re.search(r"Backed up `orders` as `(orders-\d{8}T\d{6}Z-[a-z0-9]+)`", backed_up)
            assert found, backed_up
            backup_id = found[1]

            verified = _send(running.port, "verify --db orders")
            assert "Restoring into the scratch database `slashops_verify_" in verified, verified
            assert f"Verified backup `{backup_id}` of `orders` in " in verified, verified
            assert "all 1 table(s) have the row counts recorded at backup time (2 rows)" in verified
            assert "The scratch database was dropped; `orders` itself was not touched." in verified
            assert psql("SELECT count(*) FROM pg_database WHERE datname LIKE 'slashops\\_verify\\_%'") == "0"

            listed = _send(running.port, "backups --db orders")
            assert re.search(rf"`{backup_id}` — .* — verified \d{{4}}-\d\d-\d\d \d\d:\d\d UTC", listed), listed

            prompt = _send(running.port, f"restore --db orders_staging --from {backup_id}", timeout=5)
            assert (
                f"Restoring replaces everything in `orders_staging` with `orders`'s backup `{backup_id}`." in prompt
            ), prompt
            assert "--confirm orders_staging" in prompt

            restored = _send(running.port, f"restore --db orders_staging --from {backup_id} --confirm orders_staging")
            assert f"Restored `orders_staging` from `orders`'s backup `{backup_id}`" in restored, restored

            refused = _send(running.port, "restore --db orders --from orders_staging-20261128T101500Z-3f9c2a", 5)
            assert "Restore not allowed" in refused and "`backup.restore_into: {orders_staging: [orders]}`" in refused
        rows = "SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders"
        assert psql(rows, target.dbname) == psql(rows, source.dbname) == "1:tea,2:cake"
