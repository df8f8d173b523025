"""Hostile bytes against an emulated optical port: its RFC 2217 and socket listeners survive."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given

from harness.emulator.fuzz import TELNET_TOKENS, probe_optical, tcp_address
from harness.emulator.optical.line import VirtualSerial
from harness.emulator.optical.registers import DictRegisters
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.optical.telnet import MAX_SUBOPTION_BYTES, TolerantPortManager
from harness.protocols.iec62056_21 import Identification
from tests.emulator._hostile import (
    FUZZ,
    PROBE_TIMEOUT_S,
    closed_by_peer,
    hostile,
    send_in_background,
    survives,
    traced_peak,
)

KILLERS = [b"\xff\xfa\x2c\x01\x00\xff\xf0", b"\xff\xf0"]
"""The 7-byte and 2-byte packets that killed the RFC 2217 listener for good."""


@pytest.fixture(scope="module")
def port() -> Iterator[OpticalPortServer]:
    regs = DictRegisters(Identification("EMU", "5", "M1"), values={"1.8.0": "42"})
    server = OpticalPortServer(regs)
    server.start()
    yield server
    server.stop()


def address(port: OpticalPortServer, kind: str) -> tuple[str, int]:
    return tcp_address(port.addresses[kind])


class _Sink:
    def __init__(self) -> None:
        self.sent = b""

    def write(self, data: bytes) -> None:
        self.sent += data


@pytest.mark.parametrize("packet", KILLERS, ids=["short-set-baud", "stray-se"])
def test_known_killer_packets_leave_the_rfc2217_listener_serving(
        port: OpticalPortServer, packet: bytes, server_errors: list) -> None:
    for _ in range(3):  # "permanently": it must survive every time, not once
        assert survives(address(port, "rfc2217"), packet, probe_optical)
    assert server_errors == []


@pytest.mark.parametrize("packet", KILLERS, ids=["short-set-baud", "stray-se"])
def test_a_killer_packet_mid_stream_is_skipped_and_the_data_after_it_passes(
        packet: bytes) -> None:
    manager = TolerantPortManager(VirtualSerial(), _Sink())
    assert b"".join(manager.filter(b"/?" + packet + b"!\r\n")) == b"/?!\r\n"


def test_an_endless_subnegotiation_is_bounded_and_ends_at_iac_se() -> None:
    manager = TolerantPortManager(VirtualSerial(), _Sink())
    assert b"".join(manager.filter(b"\xff\xfa\x2c\x01" + b"\x00" * 100_000)) == b""
    assert len(manager.suboption) <= MAX_SUBOPTION_BYTES
    assert b"".join(manager.filter(b"\xff\xf0/?!\r\n")) == b"/?!\r\n"
    assert manager.serial.baudrate == 300  # the over-long SET-BAUDRATE was ignored


def test_a_well_formed_set_baudrate_still_works() -> None:
    line = VirtualSerial()
    manager = TolerantPortManager(line, _Sink())
    list(manager.filter(b"\xff\xfa\x2c\x01\x00\x00\x25\x80\xff\xf0"))
    assert line.baudrate == 9600


@pytest.mark.parametrize("kind", ["rfc2217", "socket"])
def test_an_idle_client_does_not_block_the_next_one_and_is_closed(
        port: OpticalPortServer, kind: str) -> None:
    idle = socket.create_connection(address(port, kind))
    try:
        assert probe_optical(address(port, kind), PROBE_TIMEOUT_S)
        assert closed_by_peer(idle)  # the newest connection took the port over
    finally:
        idle.close()


def test_an_idle_socket_client_does_not_block_an_rfc2217_client(
        port: OpticalPortServer) -> None:
    with socket.create_connection(address(port, "socket")):
        assert probe_optical(address(port, "rfc2217"), PROBE_TIMEOUT_S)


def test_four_mib_of_subnegotiation_keep_the_port_small(port: OpticalPortServer) -> None:
    data = b"\xff\xfa\x2c\x01" + b"\x00" * (4 * 1024 * 1024)

    def flood() -> None:
        send_in_background(address(port, "rfc2217"), data).join(timeout=20)

    assert traced_peak(flood) < 1024 * 1024
    assert probe_optical(address(port, "rfc2217"), PROBE_TIMEOUT_S)


@FUZZ
@given(data=hostile(TELNET_TOKENS))
def test_fuzz_rfc2217_listener(port: OpticalPortServer, data: bytes,
                               server_errors: list) -> None:
    assert survives(address(port, "rfc2217"), data, probe_optical)
    assert server_errors == []


@FUZZ
@given(data=hostile(TELNET_TOKENS))
def test_fuzz_socket_listener(port: OpticalPortServer, data: bytes,
                              server_errors: list) -> None:
    assert survives(address(port, "socket"), data, probe_optical)
    assert server_errors == []
