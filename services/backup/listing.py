"""`backups`: the database's completed backups, newest first, each marked if its data has gone missing."""

from __future__ import annotations

from services.backup import messages
from services.backup.job import Job, Outcome

LISTED_BACKUPS = 20


def list_backups(job: Job) -> Outcome:
    manifests = job.store.manifests(job.database.name)
    if not manifests:
        return Outcome(summary=messages.no_backups(job.database.name))
    shown = manifests[:LISTED_BACKUPS]
    lines = [messages.listed(manifest, job.store.exists(manifest.object_key)) for manifest in shown]
    return Outcome(summary=messages.listing(job.database.name, lines, older=len(manifests) - len(shown)))
