"""A DLMS session in baud-accurate emulation against its wire-time floor (issue 16 benchmark).

One session: mode C sign-on at 300 Bd, mode E switch-over to 9600 Bd, SNRM, association
(public client), 20 attribute reads, release and DISC, against an emulated meter served
baud-accurately (each answer waits out the request's wire time and the meter's reaction
time, then goes out at the line rate). The floor: every byte each way costs 10 bit times at
the baud it travels at (300 Bd up to the mode E acknowledgement, 9600 Bd after), plus the
IEC 62056-21 reaction time before each of the meter's answers. Target: measured <= 1.05 x floor.
Run: python benchmarks/dlms_wire_time.py [--runs 3] [--transport socket|rfc2217]
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import registers_for_device
from harness.emulator.optical.server import BITS_PER_CHAR, OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device

READS = [(8, "0.0.1.0.0.255", 2), (1, "0.0.96.1.0.255", 2), (3, "1.0.1.8.0.255", 2),
         (3, "1.0.1.8.0.255", 3)] * 5
"""20 attribute reads: clock, serial, import register, its scaler_unit."""
HDLC_BAUD = 9600


def floor(entries: list, reaction_s: float) -> float:
    """Wire time of the transcript's bytes at their bauds, plus one reaction per answer."""
    mode_c, hdlc, rx_c, hdlc_in, switched = 0, 0, bytearray(), bytearray(), False
    for entry in entries:
        if entry.direction == "#":
            continue
        if switched:
            hdlc += len(entry.data)
            if entry.direction == "<":
                hdlc_in += entry.data
            continue
        mode_c += len(entry.data)
        if entry.direction == "<":
            rx_c += entry.data
            switched = b"\x062" in rx_c and rx_c.endswith(b"\r\n")  # mode E acknowledged
    mode_c_time = mode_c * BITS_PER_CHAR / 300
    hdlc_time = hdlc * BITS_PER_CHAR / HDLC_BAUD
    frames = hdlc_in.count(b"\x7e") // 2  # every answer frame has its own two flags
    answers_c = rx_c.count(b"\r\n")  # the identification and the mode E acknowledgement
    return mode_c_time + hdlc_time + (answers_c + frames) * reaction_s


def session(address: str) -> tuple[float, float]:
    """Seconds one DLMS session takes, and its floor."""
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=3.0, options={"max_baud": HDLC_BAUD})
    with SerialOpticalProbe("probe", config) as probe:
        probe.transcript.merge_s = 0.0  # one entry per read: each answer counted
        start = time.perf_counter()
        with probe.dlms() as dlms:
            for class_id, obis, attribute in READS:
                dlms.get(class_id, obis, attribute)
        measured = time.perf_counter() - start
        return measured, probe.transcript.entries


def main() -> None:
    """Print measured against floor for a few sessions."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--transport", choices=("socket", "rfc2217"), default="socket")
    args = parser.parse_args()
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=1)
    device.supply(230.0)
    clock.advance(5.0)
    device.commission_with_consumer_data(days=1)
    registers = registers_for_device(device)
    reaction = registers.identification().reaction_time_s
    server = OpticalPortServer(registers, clock, transport=args.transport, baud_accurate=True)
    server.start()
    ratios = []
    try:
        for _ in range(args.runs):
            measured, entries = session(server.resource)
            bound = floor(entries, reaction)
            ratios.append(measured / bound)
            print(f"session {measured:.3f} s, floor {bound:.3f} s, ratio {measured / bound:.3f}")
    finally:
        server.stop()
    print(f"median ratio {statistics.median(ratios):.3f} (target <= 1.05) over {args.runs} "
          f"{args.transport} sessions of {len(READS)} reads at {HDLC_BAUD} Bd")


if __name__ == "__main__":
    main()
