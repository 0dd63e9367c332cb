"""After a backup: delete the database's backups its retention policy no longer keeps (`retention.py` decides).

Fails closed: nothing is deleted when the listing is incomplete, does not show the backup just made, holds a
manifest that is not what its key says, or when the backups being read cannot be told. Never deleted: the newest
backup, a backup being read (`reading.py`), anything outside the database's own prefixes (`delete_backup` builds
the keys from the database and the backup id). A failure stops pruning where it is; the backup itself stands.
"""

from __future__ import annotations

import logging

from services.backup.job import Job
from services.backup.models import Manifest, object_key
from services.backup.retention import Pruning, apply_policy
from shared.config.backup import RetentionPolicy

logger = logging.getLogger(__name__)


def prune(job: Job, made: Manifest) -> Pruning | None:
    """None when the database has no policy (or one that keeps everything): nothing to say."""
    policy = job.retention
    if policy is None or policy.keeps_everything:
        return None
    try:
        return _prune(job, made, policy)
    except Exception as error:  # the backup stands: pruning again is the next backup's job
        logger.exception("pruning %s failed", job.database.name)
        return Pruning(policy, problem=f"it could not start ({type(error).__name__})")


def _prune(job: Job, made: Manifest, policy: RetentionPolicy) -> Pruning:
    database = job.database.name
    listing = job.store.list_backups(database)
    problem = (
        f"the listing of its backups was incomplete: {listing.problem}"
        if listing.problem
        else _not_trusted(database, listing.manifests, made)
    )
    if problem:
        logger.warning("not pruning %s: %s", database, problem)
        return Pruning(policy, problem=problem)
    try:
        reading = job.store.readers(database)
    except Exception as error:
        logger.warning("not pruning %s: could not list the backups being read", database, exc_info=True)
        return Pruning(policy, problem=f"the backups being read could not be listed ({type(error).__name__})")
    # oldest first: if pruning stops part way, what is left is the newer backups
    doomed = [d.backup for d in reversed(apply_policy(policy, listing.manifests, now=job.now())) if not d.kept]
    return _delete(job, policy, [m for m in doomed if m.backup_id != made.backup_id], reading)


def _not_trusted(database: str, manifests: list[Manifest], made: Manifest) -> str | None:
    if made.backup_id not in {manifest.backup_id for manifest in manifests}:
        return f"the listing of its backups does not show the backup just made ({made.backup_id})"
    for manifest in manifests:
        if manifest.database != database or manifest.object_key != object_key(database, manifest.backup_id):
            return (
                f"the manifest of {manifest.backup_id} describes another database's or another object's backup "
                "(an admin checks it)"
            )
    return None


def _delete(job: Job, policy: RetentionPolicy, doomed: list[Manifest], reading: dict[str, list[str]]) -> Pruning:
    database = job.database.name
    pruned: list[str] = []
    spared: dict[str, list[str]] = {}
    for manifest in doomed:
        step = "looking for readers of"
        try:
            readers = reading.get(manifest.backup_id) or job.store.readers(database).get(manifest.backup_id)
            if readers:  # being read now (or since the first look): it stays until a later backup prunes it
                spared[manifest.backup_id] = readers
                continue
            step = "deleting"
            job.store.delete_backup(database, manifest.backup_id)
        except Exception as error:
            logger.exception("pruning %s stopped at %s", database, manifest.backup_id)
            problem = f"{step} {manifest.backup_id} failed ({type(error).__name__}), so pruning stopped there"
            return Pruning(policy, pruned, spared, problem)
        logger.info("pruned %s of %s (retention: %s)", manifest.backup_id, database, policy.describe())
        pruned.append(manifest.backup_id)
    return Pruning(policy, pruned, spared)
