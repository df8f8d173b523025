"""Hostile bytes against the emulated SCPI supply: bounded lines, errors queued, no lost client."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from hypothesis import given

from harness.emulator.fuzz import SCPI_TOKENS, probe_scpi, tcp_address
from harness.emulator.power.scpi import (
    MAX_CLIENTS,
    ScpiSupplyServer,
    SupplyChannel,
    SupplyState,
)
from tests.emulator._hostile import (
    FUZZ,
    PROBE_TIMEOUT_S,
    hostile,
    send_in_background,
    survives,
    traced_peak,
)

IDN = "meterbench,EMU-PSU,0,1.0"


@pytest.fixture(scope="module")
def supply() -> Iterator[ScpiSupplyServer]:
    server = ScpiSupplyServer(SupplyState(IDN, {1: SupplyChannel(1, 30.0, 3.0),
                                                2: SupplyChannel(2, 30.0, 3.0)}))
    server.start()
    yield server
    server.stop()


def address(supply: ScpiSupplyServer) -> tuple[str, int]:
    return tcp_address(supply.resource)


def ask(sock: socket.socket, *lines: bytes) -> list[bytes]:
    """Send ``lines``; read one answer line per query among them."""
    sock.sendall(b"".join(line + b"\n" for line in lines))
    wanted = sum(line.rstrip().endswith(b"?") for line in lines)
    received = b""
    while received.count(b"\n") < wanted:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed after {received!r}"
        received += chunk
    return received.splitlines()


def test_a_20_mib_line_is_discarded_with_input_buffer_overrun(supply: ScpiSupplyServer) -> None:
    supply.state.errors.clear()
    line = b"VOLT " + b"1" * (20 * 1024 * 1024) + b"\n"
    with socket.create_connection(address(supply), timeout=10) as sock:
        peak = traced_peak(lambda: sock.sendall(line))
        assert ask(sock, b"*IDN?", b"SYST:ERR?", b"SYST:ERR?") == [
            IDN.encode(), b'-363,"Input buffer overrun"', b'+0,"No error"']
    assert peak < 1024 * 1024
    assert supply.state.channels[1].voltage == 0.0  # nothing of the long line was executed


def test_an_unterminated_flood_keeps_the_server_small(supply: ScpiSupplyServer) -> None:
    data = b"*IDN?" * (4 * 1024 * 1024)  # 20 MiB, no newline
    peak = traced_peak(lambda: send_in_background(address(supply), data).join(timeout=30))
    assert peak < 1024 * 1024
    assert probe_scpi(address(supply), PROBE_TIMEOUT_S)


@pytest.mark.parametrize("command", [b"INST:NSEL " + b"1" * 5000, b"INST:NSEL \xc2\xb2"])
def test_a_number_python_cannot_convert_is_an_scpi_error_not_a_lost_client(
        supply: ScpiSupplyServer, command: bytes, server_errors: list) -> None:
    supply.state.errors.clear()
    with socket.create_connection(address(supply), timeout=PROBE_TIMEOUT_S) as sock:
        answers = ask(sock, command, b"SYST:ERR?", b"INST:NSEL?")
    assert answers[0] in (b'-222,"Data out of range"', b'-104,"Data type error"',
                          b'-363,"Input buffer overrun"')
    assert answers[1] == b"1"
    assert server_errors == []


def test_idle_clients_do_not_block_another(supply: ScpiSupplyServer) -> None:
    idle = [socket.create_connection(address(supply)) for _ in range(3)]
    try:
        assert probe_scpi(address(supply), PROBE_TIMEOUT_S)
    finally:
        for sock in idle:
            sock.close()


def test_clients_over_the_limit_are_closed_and_the_server_recovers(
        supply: ScpiSupplyServer) -> None:
    extra = [socket.create_connection(address(supply)) for _ in range(MAX_CLIENTS + 4)]
    try:
        extra[-1].settimeout(PROBE_TIMEOUT_S)
        assert extra[-1].recv(10) == b""  # refused with a clear close
    finally:
        for sock in extra:
            sock.close()
    assert probe_scpi(address(supply), PROBE_TIMEOUT_S)


@FUZZ
@given(data=hostile(SCPI_TOKENS))
def test_fuzz_supply(supply: ScpiSupplyServer, data: bytes, server_errors: list) -> None:
    assert survives(address(supply), data, probe_scpi)
    assert server_errors == []
