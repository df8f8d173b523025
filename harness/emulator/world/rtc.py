"""A device's real-time clock: runs on emulator time at its own (possibly drifting) rate.

It keeps running without supply (meters back their clocks up), so a device's timestamps
always come from here, never from the host's wall clock.
"""

from __future__ import annotations

import datetime

from harness.emulator.world.clock import Clock, ManualClock

DEFAULT_EPOCH = datetime.datetime(2025, 1, 6, 9, 0, tzinfo=datetime.UTC)
"""What an emulated RTC reads when created on a manual (test) clock: reproducible runs."""


class RealTimeClock:
    """Device time = a base reading plus emulator seconds scaled by ``1 + drift_ppm / 1e6``.

    On a fast (scaled) emulator clock the RTC runs on emulated time like the rest of the
    device (its boot, its logs), so its seconds tick ``scale`` times faster than the wall's;
    the harness reads it against the bench's clock, which runs on the same emulated time
    (``Bench.seconds``, ``Bench.utc_now``), never against the host's.
    """

    def __init__(self, clock: Clock, drift_ppm: float = 0.0,
                 epoch: datetime.datetime | None = None) -> None:
        self.clock = clock
        self.drift_ppm = drift_ppm
        if epoch is None:
            manual = isinstance(clock, ManualClock)
            epoch = DEFAULT_EPOCH if manual else clock.utc(clock.now())
        self._base = epoch
        self._ref = clock.now()

    def at(self, t: float) -> datetime.datetime:
        """What the clock reads at emulator time ``t``."""
        elapsed = (t - self._ref) * (1.0 + self.drift_ppm / 1e6)
        return self._base + datetime.timedelta(seconds=elapsed)

    def now(self) -> datetime.datetime:
        """What the clock reads now."""
        return self.at(self.clock.now())

    def set(self, when: datetime.datetime) -> None:
        """Set the clock (it keeps its drift)."""
        if when.tzinfo is None:
            raise ValueError("a device clock is set to an aware (UTC) time")
        self._base, self._ref = when, self.clock.now()

    def error_s(self, reference: datetime.datetime) -> float:
        """Seconds the clock is ahead of ``reference`` (negative: behind)."""
        return (self.now() - reference).total_seconds()
