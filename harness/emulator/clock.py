"""A clock the emulator reads, so tests can drive emulated time instead of sleeping."""

from __future__ import annotations

import threading
import time


class Clock:
    """Monotonic seconds; the real clock by default."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        return time.monotonic()


class ManualClock(Clock):
    """A clock that moves only when told to: deterministic emulated time for tests."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._t += seconds
