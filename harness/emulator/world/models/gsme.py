"""The emulated gas meter (GSME): valve with its motor, and the battery that runs it.

On a bench the battery is replaced by a battery eliminator (the slot's supply); the meter
still keeps its own gauge of the battery capacity used, which is what it reports and what a
low-battery fault depletes.  A low battery (or a supply under the model's low-battery
voltage) logs 0x8F1F at power on and refuses valve operations.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from harness.emulator.world.device_core import operation, reader
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.models.meter import MeterDevice
from harness.emulator.world.state import PersistentState
from harness.errors import OperationError
from harness.protocols.gbcs_alerts import GbcsAlert


class Valve(StrEnum):
    """GSME valve states; an armed valve opens on the consumer's button press."""

    OPEN = "open"
    CLOSED = "closed"
    ARMED = "armed"


@dataclass(frozen=True)
class BatteryStatus:
    """The battery as the meter reports it."""

    voltage: float
    capacity_mah: float
    remaining_mah: float
    low: bool

    @property
    def remaining_fraction(self) -> float:
        """Remaining capacity as a fraction of nominal."""
        return self.remaining_mah / self.capacity_mah if self.capacity_mah else 0.0


class Gsme(MeterDevice):
    """A GSME."""

    IN_SERVICE_SUPPLY = Valve.OPEN.value

    def _has_supply_control(self) -> bool:
        return True

    def _initial_state(self) -> PersistentState:
        state = super()._initial_state()
        capacity = self.model.battery_mah
        if "battery_low" in self._faults:
            remaining = capacity * self._faults.value("battery_low", 0.05)
        else:
            rng = random.Random(stable_seed(self.seed, "battery"))
            remaining = capacity * rng.uniform(0.6, 0.97)
        state.battery_used_mah = capacity - remaining
        return state

    def _battery(self) -> BatteryStatus:
        capacity = self.model.battery_mah
        remaining = max(0.0, capacity - self._ram.battery_used_mah)
        low = (remaining < capacity * self.model.low_battery_fraction
               or (self._ready and self._volts < self.model.low_battery_v))
        return BatteryStatus(round(self._volts, 3), capacity, round(remaining, 1), low)

    def _booted(self, t: float) -> None:
        super()._booted(t)
        if self._battery().low:
            self._log(GbcsAlert.GSME_LOW_BATTERY)

    @reader
    def battery(self) -> BatteryStatus:
        """Battery voltage, nominal and remaining capacity, and whether it is low."""
        return self._battery()

    @reader
    def valve_state(self) -> Valve:
        """The valve state (SR 7.4 Read Supply Status)."""
        return Valve(self._ram.supply)

    def _move(self, target: Valve) -> Valve:
        current = Valve(self._ram.supply)
        if (current is Valve.OPEN) == (target is Valve.OPEN):
            self._ram.supply = target.value  # closed <-> armed: the valve does not move
            return target
        if self._battery().low:
            self._log(GbcsAlert.GSME_LOW_BATTERY)
            raise OperationError(f"{self.slot}: valve operation refused: battery low",
                                 slot=self.slot)
        self._pulse(self.model.actuator_a, self.model.actuator_s)
        self._ram.battery_used_mah += self.model.valve_mah
        if "valve_stuck" in self._faults:
            return current
        self._ram.supply = target.value
        return target

    @operation
    def close_valve(self) -> Valve:
        """Close the valve; returns the state after."""
        return self._move(Valve.CLOSED)

    @operation
    def arm_valve(self) -> Valve:
        """Arm the valve: the consumer's button press will open it."""
        return self._move(Valve.ARMED)

    @operation
    def press_button(self) -> Valve:
        """The consumer's button: an armed valve opens."""
        if self._ram.supply == Valve.ARMED:
            return self._move(Valve.OPEN)
        return Valve(self._ram.supply)
