"""`restore` is confirmed at the ingress at once: a prompt with a **Confirm restore** button, or a refusal."""

from __future__ import annotations

import json
from typing import Any

from shared.events.models import CommandRequested
from tests.support.fakes import StaticConfig
from tests.support.fakes.backups import MemoryBackupCatalog
from tests.support.ingress import SEED_RULES, Ingress, message_text

LISTED = json.dumps({"access": json.loads(SEED_RULES), "backup": {"databases": ["orders", "billing"]}})


def button_of(payload: dict[str, Any]) -> dict[str, Any]:
    [actions] = [block for block in payload["blocks"] if block["type"] == "actions"]
    [button] = actions["elements"]
    return dict(button)


def test_restore_without_confirm_is_answered_at_once_with_a_danger_button(ingress: Ingress) -> None:
    status, payload = ingress.send("restore --db orders --from orders-20261128T101500Z-3f9c")

    assert status == 200 and ingress.publisher.events == []  # nothing queued: no round trip to the worker
    text = message_text(payload)
    assert "replaces everything in `orders` with backup `orders-20261128T101500Z-3f9c`" in text
    assert "Nothing has been changed yet" in text
    assert "/ops restore --db orders --from orders-20261128T101500Z-3f9c --confirm orders" in text
    button = button_of(payload)
    assert button["type"] == "button" and button["action_id"] == "restore.confirm"
    assert button["style"] == "danger" and button["text"]["text"] == "Confirm restore"
    assert json.loads(button["value"]) == {"db": "orders", "from": "orders-20261128T101500Z-3f9c"}
    assert len(button["value"]) <= 2000
    dialog = button["confirm"]
    assert {"title", "text", "confirm", "deny"} <= set(dialog)
    assert all(dialog[part]["type"] == "plain_text" for part in ("title", "confirm", "deny"))
    assert "`orders`" in dialog["text"]["text"] and len(dialog["text"]["text"]) <= 300


def test_a_backup_id_too_long_for_a_button_gets_the_command_to_type_instead(ingress: Ingress) -> None:
    backup = "b" * 2100
    _, payload = ingress.send(f"restore --db orders --from {backup}")

    assert not [block for block in payload["blocks"] if block["type"] == "actions"]
    assert "--confirm orders" in message_text(payload)
    assert ingress.publisher.events == []


def test_typed_confirm_still_publishes(ingress: Ingress) -> None:
    status, payload = ingress.send("restore --db orders --from b1 --confirm orders")

    assert status == 200 and "accepted as `c0ffee123456`" in message_text(payload)
    [event] = ingress.publisher.events
    assert isinstance(event, CommandRequested)
    assert event.arguments == {"db": "orders", "from": "b1", "confirm": "orders"}


def test_a_confirm_naming_another_database_is_refused_at_once(ingress: Ingress) -> None:
    _, payload = ingress.send("restore --db orders --from b1 --confirm billing")

    text = message_text(payload)
    assert "Not confirmed" in text
    assert "`--confirm billing` does not match `--db orders`: nothing was restored." in text
    assert "/ops restore --db orders --from b1 --confirm orders" in text
    assert not [e for e in ingress.publisher.events if isinstance(e, CommandRequested)]


def test_a_database_the_configuration_does_not_list_is_refused_at_once(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(LISTED)
    _, payload = ingress.send("restore --db ordres --from b1")

    text = message_text(payload)
    assert "`ordres` is not a database slashops can restore" in text and "`orders`, `billing`" in text
    assert not [e for e in ingress.publisher.events if isinstance(e, CommandRequested)]


def test_a_listed_database_is_prompted(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(LISTED)
    _, payload = ingress.send("restore --db billing --from b1")
    assert button_of(payload)["action_id"] == "restore.confirm"


def test_a_caller_the_rules_refuse_gets_no_button(ingress: Ingress) -> None:
    _, payload = ingress.send("restore --db orders --from b1", user_id="U9NOPE", user_name="nope")
    assert "not allowed" in message_text(payload).lower()
    assert not [block for block in payload.get("blocks", []) if block["type"] == "actions"]


def test_a_backup_the_bucket_does_not_hold_is_refused_before_any_prompt_or_approval(ingress: Ingress) -> None:
    """Issue 21.8: approvers are never asked to approve a restore that cannot run."""
    ingress.deps.backups = MemoryBackupCatalog().add("orders", "orders-20261128T101500Z-3f9c")
    ingress.deps.config = StaticConfig.from_text(
        json.dumps([{"command": "restore", "approval": {"users": ["U0APPROVER"]}}])
    )
    for typed in ("restore --db orders --from orders-nope", "restore --db orders --from orders-nope --confirm orders"):
        _, payload = ingress.send(typed)
        text = message_text(payload)
        assert "`orders` has no backup `orders-nope`: nothing was restored, and no one was asked to approve." in text
        assert "`/ops backups --db orders`" in text and not [b for b in payload["blocks"] if b["type"] == "actions"]
    assert ingress.publisher.requested == []  # (the refusals are recorded for the ledger; nothing was requested)
    _, held = ingress.send("restore --db orders --from orders-20261128T101500Z-3f9c --confirm orders")
    assert "U0APPROVER" in message_text(held)  # a backup that exists: held for approval as before


def test_a_bucket_that_cannot_be_asked_leaves_the_check_to_the_worker(ingress: Ingress) -> None:
    ingress.deps.backups = MemoryBackupCatalog(unavailable=True)
    _, payload = ingress.send("restore --db orders --from b1 --confirm orders")
    assert "accepted as" in message_text(payload)


# --- a restore into another database (the backup id names its database) ----------------------------------------

STAGING = json.dumps(
    {
        "access": [{"command": "restore", "approval": {"users": ["U0APPROVER"]}}],
        "backup": {"databases": ["orders", "orders_staging"], "restore_into": {"orders": ["orders_staging"]}},
    }
)
OF_ORDERS = "orders-20261128T101500Z-3f9c2a"


def test_the_prompt_to_restore_another_databases_backup_names_the_target_and_the_source(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(STAGING)
    ingress.deps.backups = catalog = MemoryBackupCatalog().add("orders", OF_ORDERS)

    _, payload = ingress.send(f"restore --db orders_staging --from {OF_ORDERS}")

    text = message_text(payload)
    assert f"Restoring replaces everything in `orders_staging` with `orders`'s backup `{OF_ORDERS}`." in text
    assert f"/ops restore --db orders_staging --from {OF_ORDERS} --confirm orders_staging" in text
    assert "`/ops backups --db orders` shows its date and size" in text
    assert "`orders`'s backup" in button_of(payload)["confirm"]["text"]["text"]
    assert catalog.asked == [("orders", OF_ORDERS)]  # looked up among the source's backups
    assert ingress.publisher.events == []


def test_a_confirmed_restore_into_another_database_is_held_for_approval_naming_both(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(STAGING)
    ingress.deps.backups = MemoryBackupCatalog().add("orders", OF_ORDERS)

    _, held = ingress.send(f"restore --db orders_staging --from {OF_ORDERS} --confirm orders_staging")

    text = message_text(held)
    assert "U0APPROVER" in text and f"--db orders_staging --from {OF_ORDERS}" in text
    assert ingress.publisher.requested == []


def test_a_restore_into_another_database_the_configuration_does_not_allow_is_refused_at_once(
    ingress: Ingress,
) -> None:
    ingress.deps.config = StaticConfig.from_text(STAGING)
    ingress.deps.backups = catalog = MemoryBackupCatalog().add("orders_staging", "orders_staging-20261128T101500Z-ab")

    for typed in (
        "restore --db orders --from orders_staging-20261128T101500Z-ab",
        "restore --db orders --from orders_staging-20261128T101500Z-ab --confirm orders",
    ):
        _, payload = ingress.send(typed)
        text = message_text(payload)
        assert "Restoring `orders_staging`'s backups into `orders` is not allowed: nothing was restored." in text
        assert "`backup.restore_into: {orders_staging: [orders]}`" in text
        assert not [b for b in payload.get("blocks", []) if b["type"] == "actions"]
    assert ingress.publisher.requested == [] and catalog.asked == []


def test_a_backup_the_source_does_not_have_is_refused_naming_the_source(ingress: Ingress) -> None:
    ingress.deps.config = StaticConfig.from_text(STAGING)
    ingress.deps.backups = MemoryBackupCatalog().add("orders_staging", OF_ORDERS)  # not where the id says

    _, payload = ingress.send(f"restore --db orders_staging --from {OF_ORDERS}")

    assert f"`orders` has no backup `{OF_ORDERS}`: nothing was restored" in message_text(payload)
