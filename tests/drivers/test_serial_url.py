"""Serial ports by URL: ``socket://`` sends at once and counts the bytes waiting, and only
an emulated port skips
pyserial's reconnect pause on close (a real ser2net keeps it); an ``rfc2217://`` settings
change returns when the server has acknowledged it, not at pyserial's next 50 ms look."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import cast

import pytest
import serial
from serial import rfc2217
from serial.urlhandler import protocol_socket

from harness.drivers.serial_url import open_port, serial_port
from harness.emulator.optical.line import VirtualSerial


@pytest.fixture
def listener() -> Iterator[str]:
    """A loopback TCP server that takes connections and echoes, as a terminal server would."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(0.1)
                while not stop.is_set():
                    try:
                        data = conn.recv(64)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"socket://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.mark.parametrize("emulated", [False, True])
def test_a_socket_port_sends_each_write_at_once(listener: str, emulated: bool) -> None:
    port = serial_port(listener, emulated=emulated)
    port.timeout = 1.0
    open_port(port)
    try:
        sock = port._socket  # the option is the point of the test
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        port.write(b"/?!\r\n")
        assert port.read(5) == b"/?!\r\n"
    finally:
        port.close()
    assert not port.is_open


def test_only_an_emulated_socket_port_closes_without_the_reconnect_pause(listener: str) -> None:
    real = serial_port(listener)
    assert type(real).close is protocol_socket.Serial.close  # pyserial's, with its pause
    emulated = serial_port(listener, emulated=True)
    assert type(emulated).close is not protocol_socket.Serial.close
    open_port(emulated)
    emulated.close()
    emulated.close()  # twice is harmless
    assert not emulated.is_open
    with pytest.raises(serial.SerialException):
        emulated.write(b"x")


@pytest.mark.parametrize("emulated", [False, True])
def test_a_socket_port_counts_the_bytes_waiting(listener: str, emulated: bool) -> None:
    """pyserial's ``socket://`` says 0 or 1, so a driver reading what is waiting took an
    answer a byte at a time; here a whole answer is one read, and none waiting is 0."""
    port = serial_port(listener, emulated=emulated)
    port.timeout = 1.0
    open_port(port)
    try:
        assert port.in_waiting == 0
        port.write(b"0.9.0(2026-12-05T18:00:00Z)\r\n")
        deadline = time.monotonic() + 2.0
        while port.in_waiting < 29 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert port.in_waiting == 29
        assert port.read(port.in_waiting) == b"0.9.0(2026-12-05T18:00:00Z)\r\n"
        assert port.in_waiting == 0
    finally:
        port.close()
    with pytest.raises(serial.PortNotOpenError):
        _ = port.in_waiting


def test_a_socket_port_the_peer_closed_is_readable_and_the_read_says_so() -> None:
    """At the peer's close something is 'waiting' (the end), and the read raises, as
    pyserial's own port does: a driver never spins on a dead connection."""
    server = socket.create_server(("127.0.0.1", 0))
    port = serial_port(f"socket://127.0.0.1:{server.getsockname()[1]}", emulated=True)
    port.timeout = 1.0
    open_port(port)
    conn, _ = server.accept()
    conn.close()
    server.close()
    try:
        deadline = time.monotonic() + 2.0
        while not port.in_waiting and time.monotonic() < deadline:
            time.sleep(0.005)
        assert port.in_waiting == 1
        with pytest.raises(serial.SerialException, match="disconnected"):
            port.read(1)
    finally:
        port.close()


def test_a_device_path_is_left_to_pyserial() -> None:
    port = serial_port("/dev/ttyUSB-does-not-exist", emulated=True)
    assert isinstance(port, serial.Serial)
    with pytest.raises(serial.SerialException):
        open_port(port)


class _Sock:
    """The ``connection`` a PortManager writes its Telnet answers to."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)


@pytest.fixture
def port_server() -> Iterator[tuple[str, list[VirtualSerial], set[int]]]:
    """A loopback RFC 2217 server (pyserial's PortManager) acknowledging at once; a baud in
    the returned set is never answered (a server that ignores the change). Yields the URL (a
    0.5 s network timeout), each connection's line and that set."""
    server = socket.create_server(("127.0.0.1", 0))
    lines: list[VirtualSerial] = []
    ignored: set[int] = set()
    stop = threading.Event()

    class Manager(rfc2217.PortManager):
        def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
            if (suboption[1:2] == rfc2217.SET_BAUDRATE
                    and struct.unpack("!I", suboption[2:6])[0] in ignored):
                return
            getattr(super(), "_telnet_process_subnegotiation")(suboption)  # noqa: B009

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            line = VirtualSerial()
            lines.append(line)
            manager = Manager(cast(rfc2217.Serial, line), cast(rfc2217.Serial, _Sock(conn)))
            with conn:
                conn.settimeout(0.1)
                while not stop.is_set():
                    try:
                        data = conn.recv(256)
                    except TimeoutError:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    for _byte in manager.filter(data):
                        pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"rfc2217://127.0.0.1:{server.getsockname()[1]}?timeout=0.5", lines, ignored
    stop.set()
    thread.join(timeout=2)
    server.close()


def _changed_in(port: serial.Serial, baud: int, parity: str, bytesize: int) -> float:
    start = time.perf_counter()
    setattr(port, "_parity", parity)  # noqa: B010  # one change for all three, as the probe does
    setattr(port, "_bytesize", bytesize)  # noqa: B010
    port.baudrate = baud
    return time.perf_counter() - start


def test_an_rfc2217_settings_change_returns_as_soon_as_the_server_acknowledges(
        port_server: tuple[str, list[VirtualSerial], set[int]]) -> None:
    """pyserial's client looks for the acknowledgements every 50 ms (100 ms a change with the
    flow control's): a DLMS session changes twice. Ours wakes on each answer, and returns
    only once the server has the new settings."""
    url, lines, _ignored = port_server
    port = serial_port(url)
    port.baudrate, port.bytesize, port.parity = 300, serial.SEVENBITS, serial.PARITY_EVEN
    open_port(port)
    try:
        took = []
        for _ in range(3):
            took.append(_changed_in(port, 9600, serial.PARITY_NONE, serial.EIGHTBITS))
            line = lines[-1]
            assert (line.baudrate, line.bytesize, line.parity) == (9600, 8, serial.PARITY_NONE)
            took.append(_changed_in(port, 300, serial.PARITY_EVEN, serial.SEVENBITS))
            assert (line.baudrate, line.bytesize, line.parity) == (300, 7, serial.PARITY_EVEN)
        assert min(took) < 0.05, f"settings changes took {took}"
    finally:
        port.close()


def test_an_rfc2217_change_the_server_ignores_fails_within_the_network_timeout(
        port_server: tuple[str, list[VirtualSerial], set[int]]) -> None:
    url, lines, ignored = port_server
    ignored.add(4800)
    port = serial_port(url)
    open_port(port)
    try:
        start = time.perf_counter()
        with pytest.raises(serial.SerialException, match="baudrate"):
            port.baudrate = 4800
        assert 0.4 < time.perf_counter() - start < 2.0
        port.baudrate = 9600  # the link still works for a change the server answers
        assert lines[-1].baudrate == 9600
    finally:
        port.close()


def test_an_rfc2217_purge_returns_as_soon_as_the_server_acknowledges(
        port_server: tuple[str, list[VirtualSerial], set[int]]) -> None:
    """pyserial's client sleeps 50 ms before it looks for a purge's acknowledgement, and every
    open purges twice; ours wakes on the answer."""
    url, _lines, _ignored = port_server
    port = serial_port(url)
    open_port(port)
    try:
        took = []
        for _ in range(3):
            start = time.perf_counter()
            port.reset_input_buffer()
            took.append(time.perf_counter() - start)
        assert min(took) < 0.05, f"purges took {took}"
    finally:
        port.close()


def test_only_an_emulated_rfc2217_port_closes_without_the_reconnect_pause(
        port_server: tuple[str, list[VirtualSerial], set[int]]) -> None:
    url, _lines, _ignored = port_server
    assert type(serial_port(url)).close is rfc2217.Serial.close  # pyserial's, with its pause
    port = serial_port(url, emulated=True)
    open_port(port)
    port.baudrate = 9600  # the link works as the real one's
    start = time.perf_counter()
    port.close()
    assert time.perf_counter() - start < 0.25  # pyserial's sleeps 0.3 s
    port.close()  # twice is harmless
    assert not port.is_open
    with pytest.raises(serial.SerialException):
        port.write(b"x")
    again = serial_port(url, emulated=True)  # and the server takes a new connection at once
    open_port(again)
    again.close()
