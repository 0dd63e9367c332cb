"""`python -m services.backup`: the ECS task's command and `make run`'s worker; `handler.main` does the rest."""

from __future__ import annotations

import sys

from services.backup.handler import main

if __name__ == "__main__":
    sys.exit(main())
