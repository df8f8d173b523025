"""The emulated Telegesis dongle on loopback: a TCP listener a driver opens as ``socket://``.

One host at a time (as one USB serial port), line-oriented: each CR- or LF-ended line goes to
the :class:`~harness.emulator.zigbee.engine.TelegesisEngine`, its answer goes back at once,
and every ``tick_s`` the engine's due prompts (joins, tables, ``LeftPAN``) are sent.  The
dongle keeps its network when the host reconnects, as the module does.
"""

from __future__ import annotations

import contextlib
import logging
import re
import select
import socket
import threading
import time

from harness.emulator.zigbee.engine import TelegesisEngine

log = logging.getLogger("meterbench.emulator.zigbee")
_EOL = re.compile(rb"[\r\n]")


class TelegesisDongleServer:
    """A Telegesis-compatible dongle behind a loopback TCP port."""

    def __init__(self, engine: TelegesisEngine, host: str = "127.0.0.1", port: int = 0,
                 tick_s: float = 0.02) -> None:
        self.engine = engine
        self.host = host
        self.tick_s = tick_s
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen(2)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._client: socket.socket | None = None

    @property
    def resource(self) -> str:
        """The serial URL a driver opens."""
        return f"socket://{self.host}:{self._listener.getsockname()[1]}"

    def start(self) -> None:
        """Accept hosts on a background thread."""
        self._thread = threading.Thread(target=self._accept_loop, daemon=True,
                                        name="telegesis-emulator")
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop the connected host; safe to call twice."""
        self._stop.set()
        for sock in (self._listener, self._client):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self._listener], [], [], 0.05)
                if not readable:
                    continue
                client, _ = self._listener.accept()
            except OSError:
                return
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._client = client
            self.engine.drop_pending()
            try:
                self._serve(client)
            except OSError as exc:
                log.debug("dongle host connection ended: %s", exc)
            finally:
                self._client = None
                with contextlib.suppress(OSError):
                    client.close()

    def _serve(self, client: socket.socket) -> None:
        buffer = b""
        while not self._stop.is_set():
            readable, _, _ = select.select([client], [], [], self.tick_s)
            now = time.monotonic()
            out: list[str] = []
            if readable:
                data = client.recv(4096)
                if not data:
                    return
                buffer += data
                *lines, buffer = _EOL.split(buffer)
                for raw in lines:
                    out += self.engine.receive(raw.decode("ascii", "replace"), now)
            out += self.engine.due(now)
            if out:
                client.sendall(b"".join(text.encode("ascii", "replace") + b"\r\n"
                                        for text in out))
