"""An emulated device as the bench's instruments see it (its power side, for now).

The device-model work (identity, credentials, logs, HAN/WAN, faults) grows on this class;
the supply only needs :meth:`supply` and :meth:`current`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from harness.devices.types import DeviceType
from harness.emulator.clock import Clock
from harness.emulator.power_model import DEFAULT_PROFILES, PowerProfile


@dataclass
class PowerEvent:
    """A power transition the device noticed (kept for its power event log)."""

    t: float
    kind: str  # "on" | "off"


@dataclass
class EmulatedDevice:
    """One emulated DUT in a slot: what type it is and how it behaves on the supply."""

    slot: str
    device_type: DeviceType
    nominal_voltage: float
    seed: int = 0
    clock: Clock = field(default_factory=Clock)
    profile: PowerProfile | None = None
    power_events: list[PowerEvent] = field(default_factory=list)
    boots: int = 0
    _on_since: float | None = None
    _samples: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.profile is None:
            self.profile = DEFAULT_PROFILES.get(self.device_type, DEFAULT_PROFILES[DeviceType.ESME])

    @property
    def powered(self) -> bool:
        """Whether the device currently has supply."""
        return self._on_since is not None

    def supply(self, volts: float) -> None:
        """The supply at the device's terminals changed to ``volts`` (0 when the output is off)."""
        assert self.profile is not None
        alive = volts >= self.profile.min_voltage_ratio * self.nominal_voltage
        with self._lock:
            now = self.clock.now()
            if alive and self._on_since is None:
                self._on_since = now
                self.boots += 1
                self.power_events.append(PowerEvent(now, "on"))
            elif not alive and self._on_since is not None:
                self._on_since = None
                self.power_events.append(PowerEvent(now, "off"))

    def current(self) -> float:
        """The current the device draws now, in amperes."""
        assert self.profile is not None
        with self._lock:
            if self._on_since is None:
                return 0.0
            self._samples += 1
            return self.profile.current(self.clock.now() - self._on_since, self._samples, self.seed)
