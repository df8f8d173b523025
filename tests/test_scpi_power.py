"""The SCPI power driver against the emulated supply, over a real VISA TCPIP socket."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.domain.types import DeviceType
from harness.drivers.power.scpi import ScpiPowerSupply
from harness.emulator.power.scpi import ScpiSupplyServer, SupplyChannel, SupplyState
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.errors import InstrumentConnectError, InstrumentTimeoutError, OperationError

IDN = "meterbench,Emulated PSU 2CH,EMU-test,0.1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[ScpiSupplyServer]:
    esme = EmulatedDevice("esme", DeviceType.ESME, nominal_voltage=230.0, seed=7, clock=clock)
    state = SupplyState(IDN, {1: SupplyChannel(1, 300.0, 3.0, device=esme),
                              2: SupplyChannel(2, 300.0, 3.0)})
    srv = ScpiSupplyServer(state)
    srv.start()
    yield srv
    srv.stop()


def make_driver(address: str, **options: object) -> ScpiPowerSupply:
    config = InstrumentConfig(kind="power", backend="scpi", address=address, timeout_s=0.5,
                              options={"channels": 2, "max_voltage": 253.0, **options})
    return ScpiPowerSupply("psu", config)


@pytest.fixture
def psu(server: ScpiSupplyServer) -> Iterator[ScpiPowerSupply]:
    with make_driver(server.resource) as driver:
        yield driver


def test_identify_answers_idn(psu: ScpiPowerSupply) -> None:
    assert psu.identify() == IDN


def test_a_plain_tcp_client_can_query_the_emulated_supply(server: ScpiSupplyServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(b"*IDN?\nsyst:err?\n")
        data = b""
        while data.count(b"\n") < 2:
            data += sock.recv(1024)
    assert data.decode().splitlines() == [IDN, '+0,"No error"']


def test_measured_current_follows_the_device_through_inrush_boot_and_idle(
    psu: ScpiPowerSupply, clock: ManualClock
) -> None:
    ch = psu.channel(1)
    ch.set_voltage(230.0)
    ch.set_current_limit(2.0)
    assert ch.current() == 0.0
    ch.on()
    inrush = ch.current()
    clock.advance(0.1)
    boot = ch.current()
    clock.advance(2.0)
    idle = ch.current()
    assert inrush > 0.3 > boot > idle > 0.005
    assert ch.voltage() == pytest.approx(230.0)
    ch.off()
    assert ch.current() == 0.0 and not ch.is_on


def test_current_limit_sags_the_voltage(psu: ScpiPowerSupply) -> None:
    ch = psu.channel(1)
    ch.set_voltage(230.0)
    ch.set_current_limit(0.1)
    ch.on()  # the manual clock stands still: the device is in inrush (~0.6 A)
    assert ch.current() == pytest.approx(0.1)
    assert ch.voltage() < 230.0 * 0.5


def test_channels_are_independent(psu: ScpiPowerSupply) -> None:
    psu.set_voltage(12.0, channel=2)
    psu.output(True, channel=2)
    assert psu.output_state(2) and not psu.output_state(1)
    assert psu.measure_voltage(2) == pytest.approx(12.0)
    assert psu.measure_current(2) == 0.0  # nothing wired to channel 2


def test_refused_command_raises_with_the_instrument_error(psu: ScpiPowerSupply) -> None:
    with pytest.raises(OperationError, match=r'-222,"Data out of range"'):
        psu.write("VOLT 999")
    with pytest.raises(OperationError, match=r"-113"):
        psu.write("FROB 1")
    assert psu.query("SYST:ERR?") == '+0,"No error"'  # the queue was drained


def test_bench_limit_refuses_before_sending(psu: ScpiPowerSupply) -> None:
    before = psu.transcript.mark()
    with pytest.raises(OperationError, match=r"outside 0\.\.253\.0 V"):
        psu.set_voltage(254.0)
    assert psu.transcript.mark() == before
    with pytest.raises(OperationError, match="no channel 3"):
        psu.output(True, channel=3)


def test_close_switches_every_output_off(server: ScpiSupplyServer) -> None:
    driver = make_driver(server.resource).open()
    driver.output(True, 1)
    driver.output(True, 2)
    driver.close()
    driver.close()  # idempotent
    assert not any(ch.output for ch in server.state.channels.values())


def test_transcript_records_both_directions(psu: ScpiPowerSupply) -> None:
    mark = psu.transcript.mark()
    psu.identify()
    text = psu.transcript.render(since=mark)
    assert "> 2a 49 44 4e 3f 0a" in text and IDN in text


def test_silent_instrument_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    thread = threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True)
    thread.start()
    driver = make_driver(f"TCPIP::127.0.0.1::{listener.getsockname()[1]}::SOCKET")
    start = time.monotonic()
    with pytest.raises(InstrumentConnectError) as info:
        driver.open()  # open drains the error queue: the silent peer never answers
    assert isinstance(info.value.__cause__, InstrumentTimeoutError)
    assert time.monotonic() - start < 3
    listener.close()
    for sock in accepted:
        sock.close()


def test_nothing_listening_is_a_connect_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(InstrumentConnectError, match=f"psu: cannot connect to .*{port}"):
        make_driver(f"TCPIP::127.0.0.1::{port}::SOCKET").open()


def test_socket_sessions_run_without_nagle(psu: ScpiPowerSupply) -> None:
    """pyvisa-py leaves Nagle on (its NODELAY attribute has no setter): each command plus
    error-queue query would then wait ~40 ms for a delayed ACK."""
    import socket

    session = psu._res.visalib.sessions[psu._res.session]
    assert session.interface.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
