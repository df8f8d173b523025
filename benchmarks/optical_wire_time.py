"""Baud-accurate optical port: measured readout time against the theoretical wire time.

Theory for one mode C readout: every byte costs 10 bit times (start, 7 data, parity, stop)
at the baud it travels at (sign-on, identification and option select at 300 Bd, the readout
at the negotiated baud), plus the meter's reaction time before each of its two answers.
Run: python benchmarks/optical_wire_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.registers import DictRegisters
from harness.emulator.optical.server import BITS_PER_CHAR, OpticalPortServer
from harness.protocols.iec62056_21 import (
    Identification,
    OptionSelect,
    char_for_baud,
    encode_identification,
    encode_option_select,
    encode_readout,
    encode_request,
)


def registers(baud: int) -> DictRegisters:
    """A meter with a fast (20 ms) reaction time and a 24-register readout."""
    values = {f"1.8.{i}": f"{1000 + 37 * i:08.1f}" for i in range(24)}
    units = dict.fromkeys(values, "kWh")
    return DictRegisters(Identification("EMh", char_for_baud(baud), "EMU-ESME-1"),
                         values=values, units=units)


def theoretical(regs: DictRegisters, baud: int) -> float:
    """Seconds the bytes of one readout need on the wire, plus the reaction times."""
    ident = regs.identification()
    at_300 = (len(encode_request()) + len(encode_identification(ident))
              + len(encode_option_select(OptionSelect("0", char_for_baud(baud), "0"))))
    readout = len(encode_readout(regs.readout()))
    return (at_300 * BITS_PER_CHAR / 300 + readout * BITS_PER_CHAR / baud
            + 2 * ident.reaction_time_s)


def measure(transport: str, baud: int, runs: int) -> tuple[float, float]:
    """Median measured seconds per readout, and the theoretical figure."""
    regs = registers(baud)
    server = OpticalPortServer(regs, transport=transport, baud_accurate=True)
    server.start()
    times = []
    try:
        config = InstrumentConfig(kind="optical_probe", backend="serial",
                                  address=server.resource, timeout_s=3.0)
        with SerialOpticalProbe("probe", config) as probe:
            for _ in range(runs):
                start = time.perf_counter()
                probe.readout()
                times.append(time.perf_counter() - start)
    finally:
        server.stop()
    return statistics.median(times), theoretical(regs, baud)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'transport':<9} {'baud':>6} {'measured s':>11} {'theory s':>9} {'diff':>7}")
    for transport in ("socket", "rfc2217"):
        for baud in (2400, 9600):
            measured, theory = measure(transport, baud, args.runs)
            diff = (measured - theory) / theory * 100
            print(f"{transport:<9} {baud:>6} {measured:>11.3f} {theory:>9.3f} {diff:>+6.1f}%")


if __name__ == "__main__":
    main()
