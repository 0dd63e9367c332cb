"""The process entry (`python -m services.backup`, the ECS task's command): translation only.

Logging, signals, the dependencies from the environment, then the serving loop. SIGTERM (ECS stopping the task)
and SIGINT (Ctrl-C under `make run`) set `stop`: the current job is abandoned cleanly and its message returned.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from services.backup.bootstrap import build_deps
from services.backup.deps import BackupSettings, log_startup_problems
from services.backup.serving import serve
from shared.errors import ConfigurationError
from shared.logs import configure_logging

logger = logging.getLogger("services.backup")


def main() -> int:
    configure_logging("slashops-backup")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: finishing cleanly", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    settings = BackupSettings.from_env()
    try:
        deps = build_deps(settings)
    except ConfigurationError as error:
        logger.critical("cannot start: %s", error.message)
        return 2
    logger.info("backup worker reading %s; databases: %s", settings.queue_url, ", ".join(sorted(deps.databases)))
    log_startup_problems(deps)
    serve(deps, stop, wait_seconds=settings.poll_seconds)
    logger.info("backup worker stopped")
    return 0
