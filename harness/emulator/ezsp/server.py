"""The emulated EZSP NCP on loopback: a TCP listener a host opens as ``socket://host:port``.

One host at a time (as one USB serial port; the newest connection takes it over, see
:class:`~harness.emulator.guard.OneHostPort`): the bytes the host writes go to the
:class:`~harness.emulator.ezsp.engine.EzspNcpEngine`, its answer goes back at once, and every
``tick_s`` its due callbacks (and ASH retransmissions) are sent.
"""

from __future__ import annotations

import select
import socket
import time

from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.guard import OneHostPort, report_unexpected


class EzspNcpServer:
    """An EZSP NCP behind a loopback TCP port."""

    def __init__(self, engine: EzspNcpEngine, host: str = "127.0.0.1", port: int = 0,
                 tick_s: float = 0.01) -> None:
        self.engine = engine
        self.host = host
        self.tick_s = tick_s
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(16)
        self._port = OneHostPort("ezsp ncp", [(self._listener, self._serve)])
        self._stopped = False

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

    def _serve(self, client: socket.socket) -> None:
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a frame goes at once
        while not self._stopped:
            readable, _, _ = select.select([client], [], [], self.tick_s)
            now = time.monotonic()
            out = b""
            try:
                if readable:
                    data = client.recv(4096)
                    if not data:
                        return
                    out += self.engine.receive(data, now)
                out += self.engine.due(now)
            except Exception as exc:  # an engine bug must not kill the port silently
                report_unexpected("ezsp ncp (engine)", exc)
                return
            if out:
                client.sendall(out)
