"""Keep a queue message invisible while its job runs, however long that takes."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
from collections.abc import Iterator

from services.backup.ports import JobQueue, QueueMessage

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def keep_invisible(message: QueueMessage, queue: JobQueue, *, timeout: int, every: float) -> Iterator[None]:
    """Every `every` seconds, push the message's visibility `timeout` seconds out, until the block ends."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(every):
            try:
                queue.extend(message, timeout)
            except Exception:  # a missed beat is not fatal; the next one may succeed
                logger.warning("could not extend the message's visibility", exc_info=True)

    # In a copy of this context: its warnings carry the message's command id too.
    thread = threading.Thread(target=contextvars.copy_context().run, args=(beat,), name="heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=5)
