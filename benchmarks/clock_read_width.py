"""TRI-DIAG-01's read on a fast bench: its round trip and its width at the port.

On a fast emulated bench a clock read is bounded by the host's round trip (no line times),
and the clock window must span about a thousand of them to know a rate to 1000 ppm, at any
time scale; so this width is what a device's triage waits on. An emulated meter is served
in process (``--transport inprocess``, as ``benches/emulated-fast.toml``'s probes are) or on
a plain socket (``socket``: each exchange then wakes the meter's thread and the probe's), and
its clock register read through the real probe in programming mode, many times: printed are
the median call (the read's whole round trip), the median width between the probe's port
stamps (request to the port, answer in: what now bounds the read), and the CPU of the probe's
thread and of the process per read. ``--pyserial-socket`` opens pyserial's own ``socket://``
port, whose ``in_waiting`` says only 0 or 1 (so the probe took answers a byte at a time), for
the figure before that was fixed. Also printed: how late a plain 2 ms sleep wakes, against
``Bench.wait``'s ``precise_sleep`` (which spins its last half millisecond): a placed read
that wakes late lands past the change it was placed at.
Measured 2026-12-05 21:20 (5 runs of 1000, idle): in process, call 79 us, width 44 us, 83 us
of CPU a read; over meterbench's socket, 212, 160 and 222 (the meter's thread's work included).
Run: python benchmarks/clock_read_width.py [--reads 2000] [--runs 5]
[--transport inprocess|socket] [--pyserial-socket]
"""

from __future__ import annotations

import argparse
import statistics
import time

from serial.urlhandler import protocol_socket

from harness.bench.bench import precise_sleep
from harness.config.models import InstrumentConfig
from harness.drivers import serial_url
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.device_registers import optical_password, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device

CLOCK = "0.9.0"  # the reference register map's clock (harness/devices/reference_map.py)


def main() -> None:
    """Serve one emulated meter, read its clock ``--reads`` times per run, print medians."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=2000, help="clock reads per run")
    parser.add_argument("--runs", type=int, default=5, help="runs (medians)")
    parser.add_argument("--transport", choices=("inprocess", "socket"), default="inprocess",
                        help="how the probe reaches the emulated meter")
    parser.add_argument("--pyserial-socket", action="store_true",
                        help="pyserial's own socket:// port (in_waiting 0 or 1; implies "
                             "--transport socket)")
    args = parser.parse_args()
    if args.pyserial_socket:  # the port as pyserial makes it, before ours counted the bytes
        serial_url._CountingSocketSerial.in_waiting = (  # type: ignore[method-assign]
            protocol_socket.Serial.in_waiting)
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=1)
    device.supply(230.0)
    clock.advance(5.0)
    transport = "socket" if args.pyserial_socket else args.transport
    server = OpticalPortServer(registers_for_device(device), clock, transport=transport,
                               baud_accurate=False)
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=3.0, emulated=True)
    calls, widths, main_cpu, process_cpu = [], [], [], []
    try:
        with SerialOpticalProbe("probe", config) as probe, \
                probe.programming(optical_password(device)) as session:
            for _ in range(100):  # warm up
                session.read(CLOCK)
            for _ in range(args.runs):
                call, width = [], []
                thread0, process0 = time.thread_time(), time.process_time()
                for _ in range(args.reads):
                    probe.mark_wire()
                    start = time.monotonic()
                    session.read(CLOCK)
                    call.append(time.monotonic() - start)
                    sent, heard = probe.wire_stamps()
                    if sent is not None and heard is not None:
                        width.append(heard - sent)
                main_cpu.append((time.thread_time() - thread0) / args.reads)
                process_cpu.append((time.process_time() - process0) / args.reads)
                calls.append(statistics.median(call))
                widths.append(statistics.median(width))
    finally:
        server.stop()
    port = ("pyserial's socket:// (in_waiting 0 or 1)" if args.pyserial_socket
            else "meterbench's socket:// (in_waiting counts the bytes)" if transport == "socket"
            else "in process (emulated://)")
    print(f"{port}; {args.runs} runs of {args.reads} clock reads, medians, microseconds")
    print(f"  read call (round trip)      {statistics.median(calls) * 1e6:7.0f}")
    print(f"  width at the port (stamps)  {statistics.median(widths) * 1e6:7.0f}")
    print(f"  CPU per read: probe thread  {statistics.median(main_cpu) * 1e6:7.0f}, process "
          f"{statistics.median(process_cpu) * 1e6:.0f}")
    for name, sleep in (("time.sleep", time.sleep), ("precise_sleep", precise_sleep)):
        late = []
        for _ in range(200):
            start = time.monotonic()
            sleep(0.002)
            late.append(time.monotonic() - start - 0.002)
        print(f"  a 2 ms wait by {name:13} wakes late by {statistics.median(late) * 1e6:5.0f} "
              f"(median of 200)")


if __name__ == "__main__":
    main()
