"""The optical probe on an ``emulated://`` port: the meter's port in the probe's own process,
the same line as a plain socket's without the socket (the fast bench's)."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial
from _sample_meter import sample_meter
from test_optical_serial import probe

from harness.config.loader import load_bench
from harness.config.models import InstrumentConfig
from harness.drivers.optical.base import MIN_TIMEOUT_S
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.serial_url import open_port, serial_port
from harness.emulator.bench import EmulatedBench
from harness.emulator.optical.registers import DictRegisters, PortBehaviour
from harness.emulator.optical.server import OpticalPortServer
from harness.errors import InstrumentConnectError, InstrumentTimeoutError

REQUEST = b"/?!\r\n"
BITS = 10  # 7E1 with start and stop bits
REACTION_S = 0.02  # the sample meter's flag has a lower-case third letter


@pytest.fixture
def registers() -> DictRegisters:
    return sample_meter()


@pytest.fixture
def server(registers: DictRegisters) -> Iterator[OpticalPortServer]:
    srv = OpticalPortServer(registers, transport="inprocess")
    srv.start()
    yield srv
    srv.stop()


def raw_port(address: str, timeout: float = 0.2) -> serial.Serial:
    port = serial_port(address, emulated=True)
    port.timeout = timeout
    open_port(port)
    return port


def test_the_port_is_an_emulated_url_of_this_process(server: OpticalPortServer) -> None:
    assert server.resource.startswith("emulated://")
    assert server.addresses["socket"].startswith("socket://")  # its listeners stay up


def test_a_probe_reads_the_same_answers_in_process_as_over_a_socket(
        server: OpticalPortServer) -> None:
    answers = {}
    for address in (server.resource, server.addresses["socket"]):
        with probe(address) as p:
            readout = p.readout()
            with p.programming("00000000", baud=9600) as session:
                clock = session.read("0.9.1")
            received = [e.data for e in p.transcript.entries if e.direction == "<"]
        answers[address.partition(":")[0]] = (readout.value("1.8.0"), clock, b"".join(received))
    assert answers["emulated"] == answers["socket"]
    assert answers["emulated"][:2] == ("001234.5", "12:00:00")


def test_an_answer_is_in_as_soon_as_the_write_returns(server: OpticalPortServer) -> None:
    port = raw_port(server.resource, timeout=0)
    try:
        port.write(REQUEST)
        assert port.in_waiting > 0  # the meter acted on the write: nothing to wait for
        assert port.read(port.in_waiting).startswith(b"/EMh5")
    finally:
        port.close()


def test_a_baud_accurate_answer_keeps_the_lines_times(registers: DictRegisters) -> None:
    server = OpticalPortServer(registers, transport="inprocess", baud_accurate=True)
    server.start()
    port = raw_port(server.resource, timeout=0)
    try:
        sent = time.monotonic()
        port.write(REQUEST)
        assert port.in_waiting == 0  # still on the line, then the meter's reaction time
        port.timeout = 1.0
        answer = b""
        while not answer.endswith(b"\r\n"):
            chunk = port.read(1)
            assert chunk, "the answer never came"
            answer += chunk
        took = time.monotonic() - sent
    finally:
        port.close()
        server.stop()
    request_s, answer_s = len(REQUEST) * BITS / 300, len(answer) * BITS / 300
    assert took >= request_s + REACTION_S + answer_s - 0.004
    assert took <= request_s + REACTION_S + answer_s + 0.25


def test_a_dead_port_is_silent_for_the_ports_whole_timeout(
        server: OpticalPortServer, registers: DictRegisters) -> None:
    registers.port = PortBehaviour(dead=True)
    port = raw_port(server.resource, timeout=0.1)
    try:
        port.write(REQUEST)
        started = time.monotonic()
        assert port.read(1) == b""
        assert time.monotonic() - started >= 0.095
    finally:
        port.close()
    with probe(server.resource, retries=1) as p, \
            pytest.raises(InstrumentTimeoutError, match="no complete identification"):
        p.sign_on()


@pytest.mark.parametrize("dead", [True, False], ids=["dead", "answering"])
def test_a_busy_host_does_not_make_an_in_process_meter_wait_the_floor(
        server: OpticalPortServer, registers: DictRegisters, dead: bool) -> None:
    """The meter answers inside the probe's own calls, so the host's load cannot hold its
    answer up: a dead port is judged at the meter's own (scaled) timeout though every task
    waited for a CPU the whole time, and a live one is read as ever."""
    registers.port = PortBehaviour(dead=dead)
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=server.resource,
                              timeout_s=1.0, emulated=True, options={"retries": 1})
    p = SerialOpticalProbe("probe", config, stall_clock=time.monotonic)  # a saturated host
    p.time_scale = 100.0  # the meter's timeout: 10 ms of wall time; the floor is 1 s
    with p.open():
        started = time.monotonic()
        if dead:
            with pytest.raises(InstrumentTimeoutError, match="no complete identification"):
                p.sign_on()
            assert time.monotonic() - started < MIN_TIMEOUT_S / 4
        else:
            assert p.readout().identification.manufacturer == "EMh"


def test_an_unknown_or_stopped_port_cannot_be_opened(registers: DictRegisters) -> None:
    with pytest.raises(InstrumentConnectError, match=r"emulated://optical-0.*no emulated"):
        probe("emulated://optical-0").open()
    server = OpticalPortServer(registers, transport="inprocess")
    server.start()
    url = server.resource
    server.stop()
    with pytest.raises(InstrumentConnectError, match="only by the process that runs"):
        probe(url).open()


def test_the_newest_probe_takes_the_port_over(server: OpticalPortServer) -> None:
    first = raw_port(server.resource)
    second = raw_port(server.resource)
    try:
        second.write(REQUEST)
        assert second.read(64).startswith(b"/EMh5")
        with pytest.raises(serial.SerialException, match="no longer this probe's"):
            first.write(REQUEST)
    finally:
        first.close()
        second.close()


def test_any_bytes_leave_the_port_serving(server: OpticalPortServer) -> None:
    rng = random.Random(20)
    port = raw_port(server.resource, timeout=0)
    try:
        for _ in range(300):
            port.write(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
            port.read(port.in_waiting)
    finally:
        port.close()
    with probe(server.resource) as p:  # a fresh probe: the meter listens afresh
        assert p.readout().value("1.8.0") == "001234.5"


def test_the_fast_bench_hands_its_own_process_the_port_and_others_the_socket() -> None:
    """benches/emulated-fast.toml's probes are in process: its own drivers open emulated://,
    while what ``meterbench emulate`` prints for another process is the plain socket, which
    another process reads the same meter through."""
    config = load_bench(Path(__file__).parents[2] / "benches" / "emulated-fast.toml")
    with EmulatedBench(config) as bench:
        assert bench.addresses["probe_esme"].startswith("emulated://")
        shared = bench.describe()["instruments"]["probe_esme"]["address"]
        assert shared.startswith("socket://")
        bench.devices["esme"].supply(230.0)
        time.sleep(0.5)  # its boot, at the bench's x10
        done = subprocess.run([sys.executable, "-m", "harness", "optical", "readout", shared],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "0.9.0=" in done.stdout
        with probe(bench.addresses["probe_esme"]) as p:  # and in process, the same meter
            assert p.readout().identification.manufacturer == done.stdout.split()[0]


def test_a_probe_that_never_reads_loses_the_oldest_bytes_not_memory(
        server: OpticalPortServer) -> None:
    from harness.emulator.optical.protocol_emulated import INPUT_BUFFER

    port = raw_port(server.resource, timeout=0)
    try:
        for _ in range(2000):  # each sign-on request answered with an identification
            port.write(REQUEST)
        assert 0 < port.in_waiting <= INPUT_BUFFER
        assert port.read(port.in_waiting).endswith(b"\r\n")  # the newest answer is whole
    finally:
        port.close()
