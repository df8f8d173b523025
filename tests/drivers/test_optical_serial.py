"""The serial optical probe's IEC 62056-21 client against the emulated meter port, on the wire."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _sample_meter import sample_meter

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.emulator.optical.registers import DictRegisters, PortBehaviour
from harness.emulator.optical.server import OpticalPortServer
from harness.errors import InstrumentTimeoutError, OperationError


@pytest.fixture
def registers() -> DictRegisters:
    return sample_meter()


@pytest.fixture
def server(registers: DictRegisters) -> Iterator[OpticalPortServer]:
    srv = OpticalPortServer(registers)
    srv.start()
    yield srv
    srv.stop()


def probe(address: str, sleeps: list[float] | None = None, **options: object
          ) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=address,
                              timeout_s=0.4, options=options)
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return SerialOpticalProbe("probe", config, sleep=sleep)


@pytest.mark.parametrize("transport", ["socket", "rfc2217"])
def test_readout_over_both_transports(server: OpticalPortServer, transport: str) -> None:
    with probe(server.addresses[transport]) as p:
        readout = p.readout()
    assert readout.identification.manufacturer == "EMh"
    assert readout.identification.fast_reaction
    assert readout.value("1.8.0") == "001234.5"
    assert [d.unit for d in readout.datasets if d.address == "1.8.0"] == ["kWh"]


def test_the_published_sign_on_bytes_go_on_the_wire(server: OpticalPortServer) -> None:
    with probe(server.addresses["rfc2217"]) as p:
        with p.programming("00000000", baud=9600) as session:
            assert session.read("0.0.0") == "00DB123456789012"
        text = p.transcript.render()
    assert "> 2f 3f 21 0d 0a" in text  # sign-on
    assert "> 06 30 35 31 0d 0a" in text  # ACK programming at 9600
    # P1 went out (the meter accepted it) but the transcript shows it masked.
    assert "> 01 50 31 02 28 2a 2a 2a 2a 2a 2a 2a 2a 29 03" in text
    assert "30 30 30 30 30 30 30 30" not in text
    assert "> 01 42 30 03 71" in text  # B0


@pytest.mark.usefixtures("permit")
def test_programming_reads_writes_and_executes(server: OpticalPortServer,
                                               registers: DictRegisters) -> None:
    with probe(server.resource) as p, p.programming("00000000") as session:
        session.write("1.8.0", "000000.0")
        assert session.read("1.8.0") == "000000.0"
        session.execute("RST", "consumer")
        with pytest.raises(OperationError, match="read 'nope' refused: ERROR"):
            session.read("nope")
    assert registers.values["1.8.0"] == "000000.0"
    assert registers.executed == [("RST", "consumer")]


def test_addressed_request_only_wakes_the_named_meter(server: OpticalPortServer) -> None:
    with probe(server.resource, retries=1) as p:
        assert p.sign_on("00DB123456789012").identification == "EMU-ESME-1"
        with pytest.raises(InstrumentTimeoutError):
            p.sign_on("0000000000000000")


def test_wrong_password_is_refused_and_repeated_ones_lock_the_port(
    server: OpticalPortServer,
) -> None:
    with probe(server.resource) as p:
        for _ in range(3):
            with pytest.raises(OperationError, match="password refused"), \
                    p.programming("11111111"):
                pass
        with pytest.raises(OperationError, match="ER-LOCKED"), p.programming("00000000"):
            pass
    assert server.engine.locked


def test_8n1_probe_without_software_parity_gets_nothing_sensible(
    server: OpticalPortServer,
) -> None:
    with probe(server.addresses["rfc2217"], retries=2) as p:
        port = p._serial()
        port.bytesize, port.parity = 8, "N"  # a misconfigured head
        with pytest.raises((InstrumentTimeoutError, OperationError)):
            p.sign_on()


def test_8n1_head_with_software_parity_works(server: OpticalPortServer) -> None:
    with probe(server.addresses["rfc2217"], software_parity=True) as p:
        assert p.readout().value("1.8.0") == "001234.5"


def test_dead_port_times_out_after_the_retry_policy(server: OpticalPortServer,
                                                    registers: DictRegisters) -> None:
    registers.port = PortBehaviour(dead=True)
    sleeps: list[float] = []
    with probe(server.resource, sleeps, retries=3, retry_wait_s=0.5) as p, \
            pytest.raises(InstrumentTimeoutError, match="no complete identification"):
        p.sign_on()
    assert sleeps == [0.5, 0.5]  # three attempts, two injected waits


def test_battery_meter_wake_up_sends_nuls_then_pauses(server: OpticalPortServer) -> None:
    sleeps: list[float] = []
    with probe(server.resource, sleeps, wakeup=True) as p:
        assert p.sign_on().manufacturer == "EMh"
        sent = b"".join(e.data for e in p.transcript.entries if e.direction == ">")
    assert sent.startswith(b"\x00" * 66) and sent[66:] == b"/?!\r\n"
    assert sleeps == [1.6]


def test_intermittent_port_recovers_with_retries(server: OpticalPortServer,
                                                 registers: DictRegisters) -> None:
    registers.port = PortBehaviour(drop_fraction=0.5)
    successes = 0
    with probe(server.resource, retries=6) as p:
        for _ in range(5):
            p.sign_on()
            successes += 1
    assert successes == 5
