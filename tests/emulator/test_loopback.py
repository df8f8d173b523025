"""The loopback serial server both Zigbee NCP emulations are built on: a host's bytes get the
device's answer, unasked bytes are polled out, the newest host takes over (the device told so),
and a device bug closes one connection, reported, never the port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.emulator.loopback import LoopbackSerialServer
from tests.emulator._hostile import closed_by_peer


class Shouter(LoopbackSerialServer):
    """A device that answers in capitals, greets each new host once, and fails on ``boom``."""

    name = "shouter"

    def __init__(self) -> None:
        self.hosts = 0
        self._greet = False
        super().__init__(tick_s=0.01)

    def connected(self) -> None:
        self.hosts += 1
        self._greet = True

    def received(self, data: bytes, now: float) -> bytes:
        if data.startswith(b"boom"):
            raise RuntimeError("device bug")
        return data.upper()

    def due(self, now: float) -> bytes:
        greet, self._greet = self._greet, False
        return f"hello {self.hosts}\n".encode() if greet else b""


@pytest.fixture
def shouter() -> Iterator[Shouter]:
    server = Shouter()
    server.start()
    yield server
    server.stop()
    server.stop()  # safe twice


def _connect(server: Shouter) -> socket.socket:
    host, port = server.resource.removeprefix("socket://").split(":")
    return socket.create_connection((host, int(port)), timeout=2)


def _read(sock: socket.socket, want: bytes) -> bytes:
    got = b""
    while want not in got:
        chunk = sock.recv(64)
        assert chunk, f"closed before {want!r}; got {got!r}"
        got += chunk
    return got


def test_answers_and_unasked_bytes_reach_the_host(shouter: Shouter) -> None:
    assert shouter.resource.startswith("socket://127.0.0.1:")
    with _connect(shouter) as host:
        assert _read(host, b"hello 1\n") == b"hello 1\n"  # polled out, unasked
        host.sendall(b"abc")
        assert _read(host, b"ABC") == b"ABC"


def test_the_newest_host_takes_over_and_the_device_hears_of_it(shouter: Shouter) -> None:
    with _connect(shouter) as first:
        _read(first, b"hello 1\n")
        with _connect(shouter) as second:
            assert _read(second, b"hello 2\n") == b"hello 2\n"
            assert closed_by_peer(first)
            second.sendall(b"xyz")
            assert _read(second, b"XYZ") == b"XYZ"


def test_a_device_bug_ends_that_connection_only_and_is_reported(
        shouter: Shouter, server_errors: list[tuple[str, BaseException]]) -> None:
    with _connect(shouter) as bad:
        _read(bad, b"hello 1\n")
        bad.sendall(b"boom")
        assert closed_by_peer(bad)
    assert [(name, str(exc)) for name, exc in server_errors] == [
        ("shouter (engine)", "device bug")]
    with _connect(shouter) as good:
        _read(good, b"hello 2\n")
        good.sendall(b"ok")
        assert _read(good, b"OK") == b"OK"
