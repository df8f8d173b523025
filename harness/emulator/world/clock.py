"""A clock the emulator reads, so tests can drive emulated time instead of sleeping."""

from __future__ import annotations

import datetime
import threading
import time


class Clock:
    """Monotonic seconds; the real clock by default."""

    scale = 1.0
    """Emulated seconds per wall-clock second (above 1 on a bench in fast mode)."""

    _anchor: tuple[float, datetime.datetime] | None = None

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        return time.monotonic()

    def at_monotonic(self, t: float) -> float | None:
        """This clock's seconds at the moment ``time.monotonic()`` read ``t`` (a driver's
        stamp of when bytes went out or came in); None for a clock that does not follow it."""
        return t

    def utc(self, t: float) -> datetime.datetime:
        """UTC at emulated time ``t``: the wall clock's UTC when first asked, advanced by
        emulated seconds since. The emulated devices' clocks and the bench's run on it, so
        in fast mode they stay together (and a second of either passes ``scale`` times
        faster than the wall's)."""
        if self._anchor is None:
            self._anchor = (self.now(), datetime.datetime.now(datetime.UTC))
        start, utc = self._anchor
        return utc + datetime.timedelta(seconds=t - start)


class ScaledClock(Clock):
    """Emulated time running ``scale`` times faster than the wall clock: the bench's fast mode.

    A device's boot, commit, inrush and actuator times all shrink by ``scale``; the harness
    divides its own waits by the same factor (``Bench.wait``), so a triage sees the same
    sequence of states in a fraction of the time.
    """

    def __init__(self, scale: float) -> None:
        if scale < 1.0:
            raise ValueError(f"a time scale is at least 1 (got {scale})")
        self.scale = scale
        self._start = time.monotonic()

    def now(self) -> float:
        return self.at_monotonic(time.monotonic())

    def at_monotonic(self, t: float) -> float:
        return self._start + (t - self._start) * self.scale


class ManualClock(Clock):
    """A clock that moves only when told to: deterministic emulated time for tests."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._t

    def at_monotonic(self, t: float) -> float | None:
        return None  # it moves only when told to: no wall-clock instant maps onto it

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        with self._lock:
            self._t += seconds
