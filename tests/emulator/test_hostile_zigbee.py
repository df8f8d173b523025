"""Hostile bytes against the emulated Telegesis dongle: bounded lines, no blocking host."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import given

from harness.domain.types import DeviceType
from harness.emulator.fuzz import AT_TOKENS, probe_dongle, tcp_address
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld, TelegesisEngine
from harness.emulator.zigbee.server import (
    MAX_LINE_BYTES,
    TOO_LONG,
    LineBuffer,
    TelegesisDongleServer,
)
from tests.emulator._hostile import (
    FUZZ,
    PROBE_TIMEOUT_S,
    closed_by_peer,
    hostile,
    send_in_background,
    survives,
    traced_peak,
)


@pytest.fixture(scope="module")
def dongle() -> Iterator[TelegesisDongleServer]:
    clock = ManualClock()
    devices = {"esme": create_device("esme", DeviceType.ESME, seed=1, clock=clock)}
    server = TelegesisDongleServer(TelegesisEngine(RadioWorld(devices), "000D6F0000ABCDEF"))
    server.start()
    yield server
    server.stop()


def address(dongle: TelegesisDongleServer) -> tuple[str, int]:
    return tcp_address(dongle.resource)


def test_line_buffer_splits_on_cr_or_lf_across_chunks() -> None:
    lines = LineBuffer()
    assert lines.feed(b"AT") == []
    assert lines.feed(b"I\rAT\nATS") == [b"ATI", b"AT"]
    assert lines.feed(b"0A?\r\n") == [b"ATS0A?", b""]


def test_an_over_long_line_is_dropped_whole_and_marked() -> None:
    lines = LineBuffer(limit=8)
    assert lines.feed(b"A" * 5) == []
    assert lines.feed(b"A" * 5) == []  # over the limit: from here on, discarded
    assert lines.feed(b"A" * 100 + b"\rATI\r") == [None, b"ATI"]
    assert lines.feed(b"12345678\r") == [b"12345678"]


def test_an_unterminated_20_mib_line_takes_linear_time_and_bounded_memory(
        dongle: TelegesisDongleServer) -> None:
    data = b"A" * (20 * 1024 * 1024)
    started = time.monotonic()
    peak = traced_peak(lambda: send_in_background(address(dongle), data).join(timeout=30))
    assert time.monotonic() - started < 10
    assert peak < 1024 * 1024
    assert probe_dongle(address(dongle), PROBE_TIMEOUT_S)


def test_an_over_long_line_is_answered_too_many_characters_and_the_host_goes_on(
        dongle: TelegesisDongleServer) -> None:
    with socket.create_connection(address(dongle), timeout=PROBE_TIMEOUT_S) as sock:
        sock.sendall(b"AT" + b"9" * (MAX_LINE_BYTES + 10) + b"\rATI\r")
        received = b""
        while b"OK\r\n" not in received:
            received += sock.recv(4096)
    assert received.startswith(TOO_LONG.encode() + b"\r\n")
    assert b"ETRX357" in received


def test_an_idle_host_does_not_block_the_next_one_and_is_closed(
        dongle: TelegesisDongleServer) -> None:
    idle = socket.create_connection(address(dongle))
    try:
        assert probe_dongle(address(dongle), PROBE_TIMEOUT_S)
        assert closed_by_peer(idle)
    finally:
        idle.close()


@FUZZ
@given(data=hostile(AT_TOKENS))
def test_fuzz_dongle(dongle: TelegesisDongleServer, data: bytes, server_errors: list) -> None:
    assert survives(address(dongle), data, probe_dongle)
    assert server_errors == []
