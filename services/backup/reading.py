"""Backups being read: a marker object per reader, so pruning never deletes a backup a restore or verify reads.

`reading(store, manifest, reader=command_id)` wraps the read: it writes `reading/<db>/<backup id>/<command id>`
before the first byte is read and deletes it afterwards. Pruning (`pruning.py`) lists the database's markers before
it decides, and again just before each delete, and leaves a marked backup alone. Markers live in S3 rather than in
the worker's memory because the reader may be another worker (a verify, or a restore into another database, holds
no lock on the backup's own database).

What is left: a reader that starts in the instant between pruning's last look and its delete can lose the backup;
it then fails cleanly (the manifest is gone: "no such backup", or the data: "data missing"), never half-restores
(restores are verified against the manifest's checksum), and the deleted version stays in the versioned bucket
until the lifecycle's noncurrent expiry. A marker left behind by a worker that died keeps its backup from being
pruned until the bucket's lifecycle removes the marker (the `reading/` rule: 2 days) or an admin deletes it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.backup.models import Manifest
    from services.backup.ports import BackupStore

logger = logging.getLogger(__name__)
MARKERS = "reading/"
PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""A backup id or reader that is one path segment: never `..`, never a `/` into another prefix."""


def plain_backup_id(name: str) -> str:
    """`name` if it is one plain path segment; `ValueError` otherwise (it would reach outside its prefix)."""
    if not PLAIN.match(name) or ".." in name:
        raise ValueError(f"{name[:80]!r} is not a plain backup id")
    return name


def markers_prefix(database: str) -> str:
    return f"{MARKERS}{database}/"


def marker_key(database: str, backup_id: str, reader: str) -> str:
    return f"{markers_prefix(database)}{plain_backup_id(backup_id)}/{plain_backup_id(reader)}"


def reader_of(database: str, key: str) -> tuple[str, str]:
    """(backup id, reader) of a marker key under the database's prefix."""
    backup_id, _, reader = key.removeprefix(markers_prefix(database)).partition("/")
    return backup_id, reader


@contextmanager
def reading(store: BackupStore, manifest: Manifest, *, reader: str) -> Iterator[None]:
    """While the block runs, pruning leaves `manifest`'s backup alone (across workers). `reader`: the command id.

    If the marker cannot be written, this raises and the read does not start (a read pruning cannot see is not
    started). A marker that cannot be removed afterwards is logged and left: it only keeps the backup longer.
    """
    store.start_reading(manifest.database, manifest.backup_id, reader)
    try:
        yield
    finally:
        try:
            store.stop_reading(manifest.database, manifest.backup_id, reader)
        except Exception:
            logger.exception(
                "could not remove the marker of %s reading %s; the backup is not pruned until it is removed",
                reader,
                manifest.backup_id,
            )
