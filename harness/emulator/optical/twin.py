"""The emulated twins of the optical probe backends: the one meter's optical port a probe
reads, over RFC 2217 / TCP or in process (``serial``) or as a BLE peripheral (``ble``);
entry points ``meterbench.emulated.optical_probe``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.drivers.optical.base import BLE_BAUD_ACCURATE, SERIAL_BAUD_ACCURATE
from harness.emulator.optical.device_registers import registers_for_device
from harness.emulator.optical.server import OpticalPortServer

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench, EmulatedServer


def serial(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> OpticalPortServer:
    """The optical port of the one slot's device probe ``name`` serves; options
    ``transport`` (rfc2217, socket or inprocess) and ``baud_accurate`` (default on: line and
    reaction times as the meter's, scaled on a fast bench)."""
    device = bench.devices[bench.served_slot(name)]
    return OpticalPortServer(
        registers_for_device(device),
        bench.clock,
        host=bench.host,
        rfc2217_port=inst.emulator.port,
        transport=str(inst.options.get("transport", "rfc2217")),
        baud_accurate=bool(inst.options.get("baud_accurate", SERIAL_BAUD_ACCURATE)),
        seed=device.seed,
    )


def ble(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> EmulatedServer:
    """The same port behind an emulated BLE probe (needs the ble-emulation extra: bumble)."""
    # Imported here: bumble is the optional ble-emulation extra.
    from harness.emulator.optical.ble_peripheral import BleOpticalPortServer

    device = bench.devices[bench.served_slot(name)]
    return BleOpticalPortServer(
        registers_for_device(device), bench.clock,
        baud_accurate=bool(inst.options.get("baud_accurate", BLE_BAUD_ACCURATE)),
        seed=device.seed,
    )
