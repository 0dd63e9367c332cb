"""Retention on S3 (LocalStack): a listing that is complete page by page or says what it misses, deletion of one
backup's two keys and nothing else, read markers, and pruning after a real backup run through the worker."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.backup.adapters.s3_store import S3BackupStore
from services.backup.consumer import handle_message
from services.backup.models import Manifest
from services.backup.reading import reading
from shared.backups import manifest_key
from shared.events.models import CommandSucceeded
from tests.support.backup import ScriptEngine, a_manifest, backup_deps, events_of, request_message
from tests.support.fakes import StaticConfig

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


def _seed(store: S3BackupStore, database: str = "orders", days: int = 5) -> list[Manifest]:
    """One backup a day for `days` days before today, oldest first: data object, then manifest."""
    made = []
    for age in range(days, 0, -1):
        manifest = a_manifest(
            f"{database}-day{age}", database=database, finished_at=NOW - timedelta(days=age), command_id=f"c{age:011d}"
        )
        upload = store.start_upload(manifest.object_key)
        upload.upload_part(1, b"old dump")
        upload.complete()
        store.put_manifest(manifest)
        made.append(manifest)
    return made


def _keys(s3: Any, bucket: str) -> set[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def test_a_listing_over_several_pages_is_complete_and_newest_first(store: S3BackupStore) -> None:
    _seed(store)
    store.page_size = 2
    listing = store.list_backups("orders")
    assert listing.problem is None
    assert [m.backup_id for m in listing.manifests] == [f"orders-day{age}" for age in range(1, 6)]


def test_a_page_that_fails_makes_the_listing_incomplete_not_short(store: S3BackupStore, s3: Any) -> None:
    _seed(store)
    store.page_size = 2
    calls = []

    def second_page_fails(**_: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("S3 went away")

    s3.meta.events.register("before-call.s3.ListObjectsV2", second_page_fails)
    try:
        listing = store.list_backups("orders")
    finally:
        s3.meta.events.unregister("before-call.s3.ListObjectsV2", second_page_fails)
    assert listing.problem == "listing page 2 failed (ConnectionError)" and len(listing.manifests) == 2


def test_a_page_truncated_without_a_token_makes_the_listing_incomplete(store: S3BackupStore, s3: Any) -> None:
    _seed(store)
    store.page_size = 2

    def lose_the_token(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("NextContinuationToken", None)

    s3.meta.events.register("after-call.s3.ListObjectsV2", lose_the_token)
    try:
        listing = store.list_backups("orders")
    finally:
        s3.meta.events.unregister("after-call.s3.ListObjectsV2", lose_the_token)
    assert listing.problem == "listing page 1 was truncated without a continuation token"


def test_a_manifest_that_cannot_be_read_makes_the_listing_incomplete(store: S3BackupStore, s3: Any) -> None:
    _seed(store, days=2)
    s3.put_object(Bucket=store.bucket, Key="manifests/orders/orders-garbled.json", Body=b"{not json")
    listing = store.list_backups("orders")
    assert listing.problem == (
        "`manifests/orders/orders-garbled.json` is not a manifest slashops can read (an admin fixes or deletes it)"
    )


def test_deleting_a_backup_removes_its_two_keys_only_and_leaves_a_recoverable_version(
    store: S3BackupStore, s3: Any
) -> None:
    s3.put_bucket_versioning(Bucket=store.bucket, VersioningConfiguration={"Status": "Enabled"})
    [doomed, kept] = _seed(store, days=2)
    _seed(store, "orders_eu", days=1)  # a database whose name starts like this one's
    before = _keys(s3, store.bucket)

    store.delete_backup("orders", doomed.backup_id)

    gone = {doomed.object_key, manifest_key("orders", doomed.backup_id)}
    assert before - _keys(s3, store.bucket) == gone and _keys(s3, store.bucket) == before - gone
    versions = s3.list_object_versions(Bucket=store.bucket, Prefix=doomed.object_key)
    assert versions["Versions"] and versions["DeleteMarkers"]  # an admin can bring it back until it expires
    with pytest.raises(ValueError):
        store.delete_backup("orders", f"../orders_eu/{kept.backup_id}")


def test_read_markers_are_listed_per_backup_while_the_read_runs(store: S3BackupStore) -> None:
    [manifest] = _seed(store, days=1)
    with reading(store, manifest, reader="f00dcafe1234"), reading(store, manifest, reader="beef00001234"):
        assert store.readers("orders") == {manifest.backup_id: ["beef00001234", "f00dcafe1234"]}
        assert store.readers("orders_eu") == {}
    assert store.readers("orders") == {}


def test_a_backup_prunes_what_the_policy_lets_go_on_s3_and_spares_one_being_read(store: S3BackupStore, s3: Any) -> None:
    history = _seed(store)
    _seed(store, "billing", days=2)
    config = StaticConfig.from_text(
        "access:\n  - {command: '*'}\nbackup:\n  retention:\n    orders: {keep_last: 2, keep_weekly: 0}\n"
    )
    deps = backup_deps(store=store, engines={"postgresql": ScriptEngine()}, config=config)
    store.page_size = 2  # pruning reads every page

    with reading(store, history[0], reader="f00dcafe1234"):  # the oldest, being verified by another worker
        handle_message(request_message("backup", db="orders"), deps, threading.Event())

    [succeeded] = events_of(deps, CommandSucceeded)
    listed = [m.backup_id for m in store.manifests("orders")]
    assert listed[1:] == ["orders-day1", "orders-day5"]
    assert (
        "Pruned 3 older backup(s) (retention for `orders`: keep_last 2): `orders-day4`, `orders-day3`, `orders-day2`."
        in succeeded.summary
    )
    assert "Kept `orders-day5`, which the policy lets go: command `f00dcafe1234` is reading it" in succeeded.summary
    keys = _keys(s3, store.bucket)
    assert not {f"backups/orders/orders-day{n}.dump" for n in (2, 3, 4)} & keys
    assert {"backups/orders/orders-day5.dump", "backups/billing/billing-day1.dump"} <= keys
    assert not [key for key in keys if key.startswith("reading/")]
