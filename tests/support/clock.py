"""A settable clock to inject where the code under test takes `now: Callable[[], datetime]`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass
class Clock:
    """Returns `now` until a test moves it (`clock.now = ...`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now
