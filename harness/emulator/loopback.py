"""An emulated serial device on loopback: the TCP listener, one-host port and polling loop
that the EZSP NCP and the Telegesis dongle share.

A :class:`LoopbackSerialServer` listens on ``host:port`` for a host opening
``socket://host:port``. One host at a time, as one USB serial port (the newest connection
takes it over, see :class:`~harness.emulator.guard.OneHostPort`, which also reports an
exception escaping a device's code and closes only that connection). While a host is
connected, the bytes it writes go to :meth:`received`, whose answer goes back at once, and
every ``tick_s`` whatever :meth:`due` has ready is sent. A device subclass says only how it
answers bytes and what it sends unasked.
"""

from __future__ import annotations

import abc
import select
import socket
import time

from harness.emulator.guard import OneHostPort, report_unexpected

__all__ = ["LoopbackSerialServer"]


class LoopbackSerialServer(abc.ABC):
    """A serial device behind a loopback TCP port; subclasses give ``received`` and ``due``."""

    name = "serial device"
    """How the one-host port and its error reports name the device."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, tick_s: float = 0.01) -> None:
        self.host = host
        self.tick_s = tick_s
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._port = OneHostPort(self.name, [(self._listener, self._serve)])
        self._stopped = False
        self.muted = False
        """Bench trouble a test may arm (never a device fault): the device hangs, taking the
        host's bytes and answering nothing, until cleared."""

    @property
    def resource(self) -> str:
        """The serial URL a host opens."""
        return f"socket://{self.host}:{self._listener.getsockname()[1]}"

    def start(self) -> None:
        """Accept hosts on a background thread."""
        self._port.start()

    def stop(self) -> None:
        """Stop listening and drop the connected host; safe to call twice."""
        self._stopped = True
        self._port.stop()

    def connected(self) -> None:  # noqa: B027 (optional: most devices keep no such state)
        """A new host has the port (before its first bytes): reset per-connection state."""

    @abc.abstractmethod
    def received(self, data: bytes, now: float) -> bytes:
        """What the device answers to ``data`` the host wrote at ``now`` (monotonic)."""

    @abc.abstractmethod
    def due(self, now: float) -> bytes:
        """What the device sends unasked by ``now`` (callbacks, prompts), polled every tick."""

    def _serve(self, client: socket.socket) -> None:
        """Serve one host until it closes or the server stops; an exception out of the
        device's code is reported and ends this connection only, never the port."""
        self.connected()
        while not self._stopped:
            readable, _, _ = select.select([client], [], [], self.tick_s)
            now = time.monotonic()
            data = client.recv(4096) if readable else None
            if data == b"":  # the host closed
                return
            if self.muted:  # a hung device: what the host writes is lost, nothing comes back
                continue
            try:
                out = self.received(data, now) if data else b""
                out += self.due(now)
            except Exception as exc:  # a device bug must not kill the port silently
                report_unexpected(f"{self.name} (engine)", exc)
                return
            if out:
                client.sendall(out)
