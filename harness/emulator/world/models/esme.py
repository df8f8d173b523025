"""The emulated electricity meter (ESME): load switch with its relay coil, measured voltage."""

from __future__ import annotations

import random
from enum import StrEnum

from harness.emulator.world.device_core import operation, reader
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.models.meter import MeterDevice


class LoadSwitch(StrEnum):
    """ESME supply states: enabled, disabled, or armed (waiting for the button to enable)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    ARMED = "armed"


class Esme(MeterDevice):
    """An ESME.  A switch operation that moves the contacts pulses the relay coil, which the
    bench supply sees; a stuck switch pulses the coil but its contacts stay where they were."""

    IN_SERVICE_SUPPLY = LoadSwitch.ENABLED.value

    def _has_supply_control(self) -> bool:
        return True

    @reader
    def supply_state(self) -> LoadSwitch:
        """The load switch state (SR 7.4 Read Supply Status)."""
        return LoadSwitch(self._ram.supply)

    def _switch(self, target: LoadSwitch) -> LoadSwitch:
        current = LoadSwitch(self._ram.supply)
        closed_before = current is LoadSwitch.ENABLED
        closed_after = target is LoadSwitch.ENABLED
        if closed_before != closed_after:
            self._pulse(self.model.actuator_a, self.model.actuator_s)
            if "load_switch_stuck" in self._faults:
                return current
        self._ram.supply = target.value
        return target

    @operation
    def disable_supply(self) -> LoadSwitch:
        """Open the contacts; returns the state after."""
        return self._switch(LoadSwitch.DISABLED)

    @operation
    def arm_supply(self) -> LoadSwitch:
        """Arm: contacts open, the consumer's button press will close them."""
        return self._switch(LoadSwitch.ARMED)

    @operation
    def enable_supply(self) -> LoadSwitch:
        """Close the contacts remotely."""
        return self._switch(LoadSwitch.ENABLED)

    @operation
    def press_button(self) -> LoadSwitch:
        """The consumer's button: an armed meter enables its supply."""
        if self._ram.supply == LoadSwitch.ARMED:
            return self._switch(LoadSwitch.ENABLED)
        return LoadSwitch(self._ram.supply)

    @reader
    def measured_voltage(self) -> float:
        """The RMS voltage the metrology measures (0 while off; wrong under a measurement fault)."""
        if not self._ready:
            return 0.0
        ratio = self._faults.value("measurement_fault", 1.0)
        self._samples += 1
        noise = random.Random(stable_seed(self.seed, "vrms", str(self._samples))).gauss(0, 0.002)
        return round(self._volts * ratio * (1 + noise), 2)
