"""Emulated device models: the classes per device type and the factory the bench uses.

``create_device`` builds the device a slot (or a batch row) describes: its model from
``harness.emulator.world.catalogue``, its seed, and its injected faults.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from harness.domain.types import DeviceType
from harness.emulator.world.catalogue import MODELS, DeviceModel, model_for
from harness.emulator.world.clock import Clock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import Fault
from harness.emulator.world.models.comms_hub import CommsHub
from harness.emulator.world.models.esme import Esme, LoadSwitch
from harness.emulator.world.models.gsme import Gsme, Valve
from harness.emulator.world.models.meter import MeterDevice
from harness.emulator.world.pki import TestPki

__all__ = [
    "MODELS",
    "CommsHub",
    "DeviceModel",
    "Esme",
    "Gsme",
    "LoadSwitch",
    "MeterDevice",
    "Valve",
    "create_device",
]

_CLASSES: dict[DeviceType, type[EmulatedDevice]] = {
    DeviceType.ESME: Esme,
    DeviceType.GSME: Gsme,
    DeviceType.CHF: CommsHub,
}


def create_device(
    slot: str,
    device_type: DeviceType | str,
    model: DeviceModel | str | None = None,
    *,
    seed: int = 0,
    faults: Iterable[str | Fault] = (),
    clock: Clock | None = None,
    nominal_voltage: float | None = None,
    pki: TestPki | None = None,
    rtc_epoch: datetime.datetime | None = None,
) -> EmulatedDevice:
    """The emulated device of ``model`` (the type's default model when None), factory-fresh.

    Raises ``BenchConfigError`` for an unknown model or fault, or one that does not fit the type.
    """
    kind = device_type if isinstance(device_type, DeviceType) else DeviceType.parse(device_type)
    resolved = model if isinstance(model, DeviceModel) else model_for(kind, model)
    cls = _CLASSES[kind]
    return cls(slot, kind, nominal_voltage, seed, clock, model=resolved, faults=faults,
               pki=pki, rtc_epoch=rtc_epoch)
