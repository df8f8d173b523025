"""The optical-port register map an emulated device answers with.

This first map carries identity only (manufacturer letters, model, slot); the reference
profile's documented register map over the full device model supersedes it.
"""

from __future__ import annotations

from harness.emulator.device import EmulatedDevice
from harness.emulator.optical.registers import DictRegisters
from harness.protocols.iec62056_21 import Identification


def registers_for_device(device: EmulatedDevice, model: str | None) -> DictRegisters:
    """An identity-only register map for ``device``."""
    name = model or f"EMU-{device.device_type.name}"
    ident = Identification("EMh", "5", name[:16])
    values = {"0.0.0": device.slot, "0.2.0": name, "96.1.0": device.device_type.name}
    return DictRegisters(ident, values=values)
