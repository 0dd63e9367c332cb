"""Lambda SnapStart (docs/operations.md "SnapStart"): what runs before the snapshot, and after each restore.

With SnapStart, Lambda initializes the function once per published version, snapshots its memory, and starts every
execution environment from that snapshot. Whatever the initialization left in memory is then in all of them at
once: the hooks registered here make that safe. Before the snapshot, `warm` imports and builds what a request
needs (no I/O); after each restore, `forget` drops what must not be shared (credentials, secrets and their ages,
clients and their connections, the configuration's age) and `random` is reseeded (botocore's retry jitter uses it;
command ids come from the OS, `secrets.token_hex`, which a restore does not repeat).

The hooks are registered with the runtime's `snapshot_restore_py` (Python 3.12+ Lambda runtimes only); elsewhere
(tests, `make run`) nothing is registered. Without SnapStart on the version the runtime never calls them.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable

Hook = Callable[[], None]
Register = Callable[[Hook], object]

logger = logging.getLogger(__name__)


def install(*, warm: Hook, forget: Hook, registry: tuple[Register, Register] | None = None) -> bool:
    """Register the hooks with `registry` (before-snapshot, after-restore), by default the Lambda runtime's; False
    when there is none (not on Lambda): nothing is registered."""
    registry = registry or runtime_registry()
    if registry is None:
        return False
    register_before_snapshot, register_after_restore = registry
    register_before_snapshot(lambda: before_snapshot(warm))
    register_after_restore(lambda: after_restore(forget))
    return True


def runtime_registry() -> tuple[Register, Register] | None:
    try:
        from snapshot_restore_py import (  # type: ignore[import-not-found]  # the Lambda runtime's, not on PyPI
            register_after_restore,
            register_before_snapshot,
        )
    except ImportError:
        return None
    return register_before_snapshot, register_after_restore


def before_snapshot(warm: Hook) -> None:
    """Warm what the snapshot will hold. A failure is logged, not raised (it would fail the version's publication):
    the first request after a restore then builds what it needs, as it does without SnapStart."""
    try:
        warm()
    except Exception:
        logger.exception("SnapStart: warming before the snapshot failed; requests will build what they need")


def after_restore(forget: Hook) -> None:
    """Make this restored environment its own: nothing it uses to talk to AWS or Slack, nor any random state, is the
    snapshot's. An error fails the restore, and that request with it: sharing is worse than a failed request."""
    random.seed()  # from os.urandom: each restored environment its own sequence
    forget()
    logger.info("SnapStart: restored; credentials, secrets, clients and caches will be fetched and built again")
