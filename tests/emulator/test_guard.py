"""The server guard: a failing connection handler is counted and closes one connection only."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from harness.emulator.guard import OneHostPort, add_error_hook, remove_error_hook
from tests.emulator._hostile import closed_by_peer


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


@pytest.fixture
def echo_port() -> Iterator[tuple[OneHostPort, tuple[str, int]]]:
    """A one-host port whose host handler echoes a line, and fails on ``boom``."""
    def serve(sock: socket.socket) -> None:
        while data := sock.recv(1024):
            if data.startswith(b"boom"):
                raise RuntimeError("handler bug")
            sock.sendall(data)

    listener = _listener()
    port = OneHostPort("echo", [(listener, serve)])
    port.start()
    yield port, listener.getsockname()
    port.stop()


def test_a_handler_exception_is_counted_and_the_port_keeps_serving(
        echo_port: tuple[OneHostPort, tuple[str, int]]) -> None:
    _, address = echo_port
    seen: list[tuple[str, BaseException]] = []

    def hook(name: str, exc: BaseException) -> None:
        seen.append((name, exc))

    add_error_hook(hook)
    try:
        with socket.create_connection(address, timeout=2) as bad:
            bad.sendall(b"boom")
            assert closed_by_peer(bad)
    finally:
        remove_error_hook(hook)
    assert [(name, type(exc)) for name, exc in seen] == [("echo", RuntimeError)]
    with socket.create_connection(address, timeout=2) as good:
        good.sendall(b"hello")
        assert good.recv(16) == b"hello"


def test_the_newest_host_takes_over_and_the_old_one_is_closed(
        echo_port: tuple[OneHostPort, tuple[str, int]]) -> None:
    port, address = echo_port
    with socket.create_connection(address, timeout=2) as first:
        first.sendall(b"one")
        assert first.recv(16) == b"one"
        with socket.create_connection(address, timeout=2) as second:
            second.sendall(b"two")
            assert second.recv(16) == b"two"
            assert closed_by_peer(first)
    assert port.takeovers == 1


def test_a_broken_hook_does_not_break_the_guard(
        echo_port: tuple[OneHostPort, tuple[str, int]]) -> None:
    _, address = echo_port

    def broken(name: str, exc: BaseException) -> None:
        raise ValueError("hook bug")

    add_error_hook(broken)
    try:
        with socket.create_connection(address, timeout=2) as bad:
            bad.sendall(b"boom")
            assert closed_by_peer(bad)
    finally:
        remove_error_hook(broken)
    with socket.create_connection(address, timeout=2) as good:
        good.sendall(b"x")
        assert good.recv(4) == b"x"
