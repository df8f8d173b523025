"""The BLE optical probe's IEC 62056-21 client against an emulated BLE IR head, over GATT.

The head is a bumble peripheral on the in-process virtual air; the driver reaches it through
bleak with our bumble backend, so every byte crosses a real ATT link (writes, notifications,
MTU exchange) without a Bluetooth adapter.
"""

from __future__ import annotations

import importlib
import sys
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("bleak")
pytest.importorskip("bumble")

from _sample_meter import sample_meter

from harness.config.models import InstrumentConfig
from harness.drivers.optical.ble_probe import BleOpticalProbe
from harness.emulator.optical.ble_peripheral import BleOpticalPortServer, HeadUuids
from harness.emulator.optical.registers import DictRegisters, PortBehaviour
from harness.errors import (
    InstrumentConnectError,
    InstrumentTimeoutError,
    OperationError,
    ProtocolError,
)
from harness.protocols.ble_uart import LineCoding, decode_line_coding, encode_line_coding


@pytest.fixture
def registers() -> DictRegisters:
    return sample_meter()


@pytest.fixture
def server(registers: DictRegisters) -> Iterator[BleOpticalPortServer]:
    srv = BleOpticalPortServer(registers)
    srv.start()
    yield srv
    srv.stop()


def probe(address: str, sleeps: list[float] | None = None, **options: object) -> BleOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="ble", address=address,
                              timeout_s=0.4, options=options)
    sleep = sleeps.append if sleeps is not None else (lambda s: None)
    return BleOpticalProbe("probe", config, sleep=sleep)


def test_readout_over_the_emulated_ble_link(server: BleOpticalPortServer) -> None:
    assert server.resource.startswith("ble-emulated:")
    with probe(server.resource) as p:
        started = time.perf_counter()
        readout = p.readout()
        elapsed = time.perf_counter() - started
    assert readout.identification.manufacturer == "EMh"
    assert readout.identification.fast_reaction
    assert readout.value("1.8.0") == "001234.5"
    assert [d.unit for d in readout.datasets if d.address == "1.8.0"] == ["kWh"]
    assert elapsed < 2.0  # a few ms in practice; generous for a loaded CI machine


def test_the_published_sign_on_bytes_go_on_the_wire(server: BleOpticalPortServer) -> None:
    with probe(server.resource) as p:
        with p.programming("00000000", baud=9600) as session:
            assert session.read("0.0.0") == "00DB123456789012"
        text = p.transcript.render()
    assert "> 2f 3f 21 0d 0a" in text  # sign-on
    assert "> 06 30 35 31 0d 0a" in text  # ACK programming at 9600
    assert "> 01 50 31 02 28 2a 2a 2a 2a 2a 2a 2a 2a 29 03" in text  # P1, masked
    assert "30 30 30 30 30 30 30 30" not in text
    assert "> 01 42 30 03 71" in text  # B0
    # What the head received over GATT: the real bytes, the password in clear.
    wire = b"".join(server.rx_log)
    assert wire.startswith(b"/?!\r\n\x06051\r\n")
    assert bytes.fromhex("01 50 31 02 28 30 30 30 30 30 30 30 30 29 03 61") in wire
    assert wire.endswith(bytes.fromhex("01 42 30 03 71"))


@pytest.mark.usefixtures("permit")
def test_programming_reads_writes_and_executes(server: BleOpticalPortServer,
                                               registers: DictRegisters) -> None:
    with probe(server.resource) as p, p.programming("00000000") as session:
        session.write("1.8.0", "000000.0")
        assert session.read("1.8.0") == "000000.0"
        session.execute("RST", "consumer")
        with pytest.raises(OperationError, match="read 'nope' refused: ERROR"):
            session.read("nope")
    assert registers.values["1.8.0"] == "000000.0"
    assert registers.executed == [("RST", "consumer")]


def test_baud_changes_reach_the_head_and_the_meter(server: BleOpticalPortServer) -> None:
    with probe(server.resource) as p:
        with p.programming("00000000", baud=9600) as session:
            assert server.line is not None and server.line.baudrate == 9600
            assert (server.line.bytesize, server.line.parity) == (7, "E")
            session.read("1.8.0")
        assert p.readout(baud=4800).value("1.8.0") == "001234.5"
    # 300 when opening, 9600 for the session, back to 300; 4800 for the readout, back to 300.
    assert server.baud_changes == [300, 9600, 300, 4800, 300]
    assert server.line is not None and server.line.baudrate == 300


def test_a_probe_that_never_switches_baud_gets_garbage(server: BleOpticalPortServer) -> None:
    # The driver ignores the head's line control: the head stays at 300 Bd while the meter
    # answers at 9600, and the optical line turns the answer into garbage.
    with probe(server.resource, line_control_uuid="", retries=1) as p, \
            pytest.raises((ProtocolError, InstrumentTimeoutError)):
        p.readout(baud=9600)
    assert server.baud_changes == []


def test_a_head_without_line_control_passes_bytes_through(registers: DictRegisters) -> None:
    srv = BleOpticalPortServer(registers, uuids=HeadUuids(line_control=None))
    srv.start()
    try:
        with probe(srv.resource) as p:
            assert p.readout(baud=9600).value("0.9.1") == "12:00:00"
    finally:
        srv.stop()


@pytest.mark.usefixtures("permit")
def test_small_mtu_splits_writes_and_notifications(registers: DictRegisters) -> None:
    registers.values.update({f"1.8.{i}": f"{1000 + i:08.1f}" for i in range(1, 40)})
    srv = BleOpticalPortServer(registers)
    srv.start()
    try:
        with probe(srv.resource, mtu=23) as p:  # the BLE 4.0 minimum: 20-byte payloads
            assert p.readout().value("1.8.39") == "001039.0"
            with p.programming("00000000") as session:
                session.write("1.8.1", "123456789012.5")
    finally:
        srv.stop()
    assert max(len(w) for w in srv.rx_log) == 20
    assert registers.values["1.8.1"] == "123456789012.5"


def test_dead_port_times_out_after_the_retry_policy(server: BleOpticalPortServer,
                                                    registers: DictRegisters) -> None:
    registers.port = PortBehaviour(dead=True)
    sleeps: list[float] = []
    with probe(server.resource, sleeps, retries=3, retry_wait_s=0.5) as p, \
            pytest.raises(InstrumentTimeoutError, match="no complete identification"):
        p.sign_on()
    assert sleeps == [0.5, 0.5]  # three attempts, two injected waits
    assert b"".join(server.rx_log) == b"/?!\r\n" * 3  # the head got every request


def test_intermittent_port_recovers_with_retries(server: BleOpticalPortServer,
                                                 registers: DictRegisters) -> None:
    registers.port = PortBehaviour(drop_fraction=0.5)
    with probe(server.resource, retries=6) as p:
        for _ in range(5):
            assert p.sign_on().manufacturer == "EMh"


def test_wrong_password_is_refused_and_repeated_ones_lock_the_port(
    server: BleOpticalPortServer,
) -> None:
    with probe(server.resource) as p:
        for _ in range(3):
            with pytest.raises(OperationError, match="password refused"), \
                    p.programming("11111111"):
                pass
        with pytest.raises(OperationError, match="ER-LOCKED"), p.programming("00000000"):
            pass
    assert server.engine.locked


def test_unknown_emulated_id_is_a_clear_connect_error(server: BleOpticalPortServer) -> None:
    with pytest.raises(InstrumentConnectError,
                       match=r"ble-emulated:nope.*'nope'.*known: .*" + server.peripheral_id):
        probe("ble-emulated:nope").open()


@pytest.mark.parametrize("address", ["ble-emulated:", "bluetooth:AA:BB", "AA:BB:CC:DD:EE:FF"])
def test_malformed_address_is_a_connect_error(address: str) -> None:
    with pytest.raises(InstrumentConnectError, match="must be ble:<MAC>"):
        probe(address).open()


@pytest.mark.parametrize("address", ["ble:C0:DE:00:00:00:00", "ble-name:NO-SUCH-HEAD"])
def test_a_real_head_not_found_is_a_connect_error(address: str) -> None:
    # Without an adapter (CI) the stack is unreachable; with one, nothing answers in time.
    with pytest.raises(InstrumentConnectError, match=f"cannot connect to {address}"):
        probe(address, scan_timeout_s=0.5, connect_timeout_s=0.5).open()


def test_a_head_without_the_serial_service_is_a_connect_error(registers: DictRegisters) -> None:
    other = HeadUuids(service="0000ffe0-0000-1000-8000-00805f9b34fb",
                      rx="0000ffe1-0000-1000-8000-00805f9b34fb",
                      tx="0000ffe2-0000-1000-8000-00805f9b34fb")
    srv = BleOpticalPortServer(registers, uuids=other)
    srv.start()
    try:
        with pytest.raises(InstrumentConnectError, match="no serial service 6e400001"):
            probe(srv.resource).open()
        # ... and with the UUIDs overridden in the bench options, the same head works.
        with probe(srv.resource, service_uuid=other.service, rx_uuid=other.rx,
                   tx_uuid=other.tx) as p:
            assert p.readout().value("1.8.0") == "001234.5"
    finally:
        srv.stop()


def test_a_dropped_link_is_an_operation_error(registers: DictRegisters) -> None:
    srv = BleOpticalPortServer(registers)
    srv.start()
    p = probe(srv.resource).open()
    try:
        srv.stop()  # the head goes away under the probe
        with pytest.raises(OperationError, match="dropped"):
            p.sign_on()
    finally:
        p.close()
    assert not p.is_open


def test_line_coding_round_trip_and_bare_baud() -> None:
    value = encode_line_coding(LineCoding(9600))
    assert value == bytes.fromhex("80 25 00 00 00 02 07")  # 9600, 1 stop, even, 7 bits
    assert decode_line_coding(value) == LineCoding(9600, 7, "E", 1)
    assert decode_line_coding((19200).to_bytes(4, "little")) == LineCoding(19200)
    with pytest.raises(ProtocolError, match="4 or 7 bytes"):
        decode_line_coding(b"\x01\x02")


def test_importing_the_driver_without_bleak_names_bleak(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bleak", None)
    monkeypatch.delitem(sys.modules, "harness.drivers.optical.ble_probe")
    with pytest.raises(ModuleNotFoundError) as info:
        importlib.import_module("harness.drivers.optical.ble_probe")
    assert info.value.name == "bleak"
