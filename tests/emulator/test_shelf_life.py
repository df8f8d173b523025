"""A device reaches the bench with a past: a drifted clock, earlier watchdog resets."""

from __future__ import annotations

import datetime

from harness.domain.types import DeviceType
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.emulator.world.rtc import DEFAULT_EPOCH


def offset_s(faults: list[str], seed: int) -> float:
    device = create_device("s", DeviceType.ESME, "EMU-ESME-1", seed=seed, faults=faults,
                           clock=ManualClock())
    return (device.clock_time() - DEFAULT_EPOCH) / datetime.timedelta(seconds=1)


def test_a_healthy_clock_is_off_by_seconds_a_drifting_one_by_minutes() -> None:
    for seed in range(20):
        assert abs(offset_s([], seed)) < 30
        assert offset_s(["clock_drift"], seed) > 60 * 8  # >= 300 ppm for >= 20 days
