"""How much current an emulated device draws over time, as a bench supply would measure it.

A device is unpowered, in inrush (capacitors charging), booting, or idle with periodic radio
bursts. The curve is a pure function of time since power-on and a seed, so two runs with the
same seed measure the same currents at the same instants.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from harness.devices.types import DeviceType


@dataclass(frozen=True)
class PowerProfile:
    """A device's current draw by phase, in amperes and seconds."""

    inrush_a: float
    inrush_s: float
    boot_a: float
    boot_s: float
    idle_a: float
    burst_a: float = 0.0
    burst_every_s: float = 0.0
    burst_len_s: float = 0.0
    noise: float = 0.01  # relative standard deviation of each sample
    min_voltage_ratio: float = 0.8  # below this fraction of nominal the device stays off

    def current(self, since_on: float, sample: int, seed: int) -> float:
        """Current drawn ``since_on`` seconds after power-on; ``sample`` varies the noise."""
        if since_on < self.inrush_s:
            base = self.inrush_a * math.exp(-3.0 * since_on / self.inrush_s)
        elif since_on < self.inrush_s + self.boot_s:
            base = self.boot_a
        else:
            base = self.idle_a
            if self.burst_every_s and (since_on % self.burst_every_s) < self.burst_len_s:
                base += self.burst_a
        jitter = random.Random(seed * 1_000_003 + sample).gauss(0.0, self.noise)
        return max(0.0, base * (1.0 + jitter))

    @property
    def settle_s(self) -> float:
        """Seconds from power-on until the device reaches idle."""
        return self.inrush_s + self.boot_s


# Typical figures for the emulated models (meters on a mains-derived bench supply, a gas meter
# on a battery eliminator); the device-model issue refines them per model.
DEFAULT_PROFILES: dict[DeviceType, PowerProfile] = {
    DeviceType.ESME: PowerProfile(0.60, 0.02, 0.030, 0.30, 0.012, 0.010, 5.0, 0.05),
    DeviceType.CHF: PowerProfile(0.80, 0.02, 0.045, 0.40, 0.018, 0.020, 3.0, 0.08),
    DeviceType.GSME: PowerProfile(0.05, 0.01, 0.012, 0.20, 0.0004, 0.015, 7.0, 0.03),
}
