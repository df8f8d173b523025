"""How much current an emulated device draws over time, as a bench supply would measure it.

A device is unpowered, in inrush (capacitors charging), booting, or idle with periodic radio
bursts (HAN, and on a hub the WAN modem). On top come pulses a device operation causes: a
load-switch relay coil, a gas valve motor. The curve is a pure function of time since
power-on, the pulses and a seed, so two runs with the same seed measure the same currents at
the same instants.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass

from harness.domain.types import DeviceType

HAN_BURST = "han"
"""The name of a profile's built-in burst (``burst_a`` every ``burst_every_s``): the HAN radio."""


@dataclass(frozen=True)
class Burst:
    """A periodic extra draw from one radio: ``amps`` for ``length_s`` every ``every_s``."""

    name: str
    amps: float
    every_s: float
    length_s: float
    phase_s: float = 0.0

    def at(self, since_on: float) -> float:
        """The burst's contribution ``since_on`` seconds after power-on."""
        if self.every_s <= 0:
            return 0.0
        return self.amps if ((since_on + self.phase_s) % self.every_s) < self.length_s else 0.0


@dataclass(frozen=True)
class Pulse:
    """A one-off draw an operation causes (relay coil, valve motor), on emulator time."""

    start: float
    duration: float
    amps: float

    def at(self, t: float) -> float:
        """The pulse's contribution at emulator time ``t``."""
        return self.amps if self.start <= t < self.start + self.duration else 0.0


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
    bursts: tuple[Burst, ...] = ()  # further radios (e.g. a hub's WAN modem)

    def current(
        self,
        since_on: float,
        sample: int,
        seed: int,
        *,
        silent: Iterable[str] = (),
        idle_factor: float = 1.0,
        extra_a: float = 0.0,
    ) -> float:
        """Current drawn ``since_on`` seconds after power-on; ``sample`` varies the noise.

        ``silent`` names bursts that do not happen (a dead radio), ``idle_factor`` scales
        the idle draw (excessive standby current), ``extra_a`` adds operation pulses.
        """
        if since_on < self.inrush_s:
            base = self.inrush_a * math.exp(-3.0 * since_on / self.inrush_s)
        elif since_on < self.inrush_s + self.boot_s:
            base = self.boot_a
        else:
            off = set(silent)
            base = self.idle_a * idle_factor
            if (HAN_BURST not in off and self.burst_every_s
                    and (since_on % self.burst_every_s) < self.burst_len_s):
                base += self.burst_a
            base += sum(b.at(since_on) for b in self.bursts if b.name not in off)
        base += extra_a
        jitter = random.Random(seed * 1_000_003 + sample).gauss(0.0, self.noise)
        return max(0.0, base * (1.0 + jitter))

    @property
    def settle_s(self) -> float:
        """Seconds from power-on until the device reaches idle."""
        return self.inrush_s + self.boot_s


# Typical figures for the emulated models (meters on a mains-derived bench supply, a gas meter
# on a battery eliminator); each model in harness.emulator.world.models may refine them.
WAN_BURST = "wan"
"""The name of a hub's WAN modem burst."""

DEFAULT_PROFILES: dict[DeviceType, PowerProfile] = {
    DeviceType.ESME: PowerProfile(0.60, 0.02, 0.030, 0.30, 0.012, 0.010, 5.0, 0.05),
    DeviceType.CHF: PowerProfile(0.80, 0.02, 0.045, 0.40, 0.018, 0.020, 3.0, 0.08,
                                 bursts=(Burst(WAN_BURST, 0.012, 10.0, 0.5, 1.5),)),
    DeviceType.GSME: PowerProfile(0.05, 0.01, 0.012, 0.20, 0.0004, 0.015, 7.0, 0.03),
}
