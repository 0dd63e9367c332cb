"""`backups`: the database's completed backups, newest first, each marked if its data has gone missing, with its
newest verification's result (`verify`), and, when
the database has a retention policy, why each is kept (and until when at least) or that the next backup prunes it.

A listing that came back incomplete (a page or a manifest could not be read) shows what it found and says so,
without retention marks (they would be computed on part of the history); one that found nothing fails.
"""

from __future__ import annotations

import logging

from services.backup import messages
from services.backup.errors import BackupError
from services.backup.job import Job, Outcome
from services.backup.models import Manifest
from services.backup.retention import Decision, apply_policy

logger = logging.getLogger(__name__)
LISTED_BACKUPS = 20


def list_backups(job: Job) -> Outcome:
    listing = job.store.list_backups(job.database.name)
    manifests = listing.manifests
    if listing.problem is not None and not manifests:
        raise BackupError(messages.not_listed(job.database.name, listing.problem), retryable=True)
    if not manifests:
        return Outcome(summary=messages.no_backups(job.database.name))
    policy = job.retention if listing.problem is None else None
    decisions = {d.backup.backup_id: d for d in apply_policy(policy, manifests, now=job.now())} if policy else {}
    reading = _reading(job) if decisions else {}
    shown = manifests[:LISTED_BACKUPS]
    verified = job.store.verifications(job.database.name)  # one listing: "verified <when>" / "verify failed <when>"
    lines = [
        messages.listed(
            manifest,
            job.store.exists(manifest.object_key),
            messages.verification_mark(verified.get(manifest.backup_id))
            + (_kept(decisions[manifest.backup_id], reading.get(manifest.backup_id)) if decisions else ""),
        )
        for manifest in shown
    ]
    older = len(manifests) - len(shown)
    summary = messages.listing(job.database.name, lines, older=older, policy=policy)
    if listing.problem is not None:
        summary += "\n" + messages.listing_incomplete(listing.problem, retention=job.retention is not None)
    return Outcome(summary=summary)


def _reading(job: Job) -> dict[str, list[str]]:
    """The backups being read, to say why one the policy lets go is still here; {} if they cannot be listed (the
    listing then says the next backup prunes it, which pruning itself checks again)."""
    try:
        return job.store.readers(job.database.name)
    except Exception:
        logger.warning("could not list the backups of %s being read", job.database.name, exc_info=True)
        return {}


def _kept(decision: Decision[Manifest], readers: list[str] | None) -> str:
    return messages.kept(decision.reasons, decision.until_at_least, readers)
