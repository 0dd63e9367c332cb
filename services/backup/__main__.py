"""`python -m services.backup`: the ECS task's entrypoint. SIGTERM (ECS stopping the task) stops it cleanly."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from services.backup.bootstrap import log_startup_problems, worker_deps
from services.backup.settings import BackupSettings
from services.backup.worker import serve
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
        deps = worker_deps(settings)
    except ConfigurationError as error:
        logger.critical("cannot start: %s", error.message)
        return 2
    logger.info("backup worker reading %s; databases: %s", settings.queue_url, ", ".join(sorted(deps.databases)))
    log_startup_problems(deps)
    serve(deps, stop, wait_seconds=settings.poll_seconds)
    logger.info("backup worker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
