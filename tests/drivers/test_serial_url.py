"""Serial ports by URL: ``socket://`` sends at once, and only an emulated port skips
pyserial's reconnect pause on close (a real ser2net keeps it)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import serial
from serial.urlhandler import protocol_socket

from harness.drivers.serial_url import open_port, serial_port


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
    assert type(real) is protocol_socket.Serial  # pyserial's own, with its pause on close
    emulated = serial_port(listener, emulated=True)
    assert type(emulated) is not protocol_socket.Serial
    open_port(emulated)
    emulated.close()
    emulated.close()  # twice is harmless
    assert not emulated.is_open
    with pytest.raises(serial.SerialException):
        emulated.write(b"x")


def test_a_device_path_is_left_to_pyserial() -> None:
    port = serial_port("/dev/ttyUSB-does-not-exist", emulated=True)
    assert isinstance(port, serial.Serial)
    with pytest.raises(serial.SerialException):
        open_port(port)
