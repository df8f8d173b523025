"""The register map both optical-probe suites (serial and BLE) read: one sample meter."""

from __future__ import annotations

from harness.emulator.optical.registers import DictRegisters
from harness.protocols.iec62056_21 import Identification

VALUES = {"0.0.0": "00DB123456789012", "1.8.0": "001234.5", "0.9.1": "12:00:00"}


def sample_meter() -> DictRegisters:
    """A fast-reacting ESME offering 9600 Bd, with a kWh import register."""
    return DictRegisters(Identification("EMh", "5", "EMU-ESME-1"), values=dict(VALUES),
                         units={"1.8.0": "kWh"}, address="00DB123456789012")
