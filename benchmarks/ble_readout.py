"""The BLE optical probe over the emulated link: time per connect and per readout.

Fast mode shows what the GATT path itself costs (bleak → our bumble backend → virtual air →
bumble peripheral → meter engine and back); baud-accurate mode is compared with the wire
time of the IR side (bytes x 10 bits / baud + reaction times), as optical_wire_time.py does
for the serial transports. Needs the ``ble-emulation`` extra.
Run: python benchmarks/ble_readout.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.config.models import InstrumentConfig
from harness.drivers.optical.ble_probe import BleOpticalProbe
from harness.emulator.optical.ble_peripheral import BleOpticalPortServer
from harness.emulator.optical.registers import DictRegisters
from harness.protocols.iec62056_21 import (
    Identification,
    OptionSelect,
    char_for_baud,
    encode_identification,
    encode_option_select,
    encode_readout,
    encode_request,
)

BITS_PER_CHAR = 10


def registers(count: int, baud: int) -> DictRegisters:
    """A fast-reaction (20 ms) meter with ``count`` registers in its readout."""
    values = {f"1.8.{i}": f"{1000 + 37 * i:08.1f}" for i in range(count)}
    return DictRegisters(Identification("EMh", char_for_baud(baud), "EMU-ESME-1"),
                         values=values, units=dict.fromkeys(values, "kWh"))


def theoretical(regs: DictRegisters, baud: int) -> float:
    """IR wire time of one readout plus the meter's two reaction times."""
    ident = regs.identification()
    at_300 = (len(encode_request()) + len(encode_identification(ident))
              + len(encode_option_select(OptionSelect("0", char_for_baud(baud), "0"))))
    readout = len(encode_readout(regs.readout()))
    return (at_300 * BITS_PER_CHAR / 300 + readout * BITS_PER_CHAR / baud
            + 2 * ident.reaction_time_s)


def measure(count: int, baud: int, runs: int, accurate: bool) -> tuple[float, float, int]:
    """Median connect seconds, median readout seconds, readout bytes."""
    regs = registers(count, baud)
    server = BleOpticalPortServer(regs, baud_accurate=accurate)
    server.start()
    connects, readouts = [], []
    config = InstrumentConfig(kind="optical_probe", backend="ble", address=server.resource,
                              timeout_s=3.0)
    try:
        for _ in range(max(1, runs // 5)):
            start = time.perf_counter()
            probe = BleOpticalProbe("probe", config).open()
            connects.append(time.perf_counter() - start)
            with probe:
                for _ in range(5 if runs >= 5 else runs):
                    start = time.perf_counter()
                    probe.readout()
                    readouts.append(time.perf_counter() - start)
    finally:
        server.stop()
    return (statistics.median(connects), statistics.median(readouts),
            len(encode_readout(regs.readout())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(f"{'mode':<9} {'regs':>4} {'bytes':>5} {'baud':>5} {'connect ms':>10} "
          f"{'readout ms':>10} {'theory ms':>9}")
    for accurate, count, baud in ((False, 3, 19200), (False, 24, 19200), (False, 200, 19200),
                                  (True, 24, 9600)):
        connect, readout, size = measure(count, baud, args.runs if not accurate else 5,
                                         accurate)
        theory = f"{theoretical(registers(count, baud), baud) * 1000:9.1f}" if accurate else ""
        mode = "accurate" if accurate else "fast"
        print(f"{mode:<9} {count:>4} {size:>5} {baud:>5} {connect * 1000:>10.1f} "
              f"{readout * 1000:>10.2f} {theory:>9}")


if __name__ == "__main__":
    main()
