"""A TCP peer on loopback for driver tests: it plays the device end of a ``socket://`` link."""

from __future__ import annotations

import contextlib
import socket
import threading


class LoopbackPeer:
    """Serves one connection at a time on a free loopback port (``port``): every chunk it
    hears is added to the connection's buffer and handed to :meth:`received`, which answers
    on ``conn`` and returns what is left of the buffer; :meth:`connected` starts each one."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port: int = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def connected(self) -> None:
        """A new connection: reset what a peer keeps per connection."""

    def received(self, conn: socket.socket, buffer: bytes) -> bytes:
        """Answer what ``buffer`` holds; return what is left of it (the default keeps all)."""
        return buffer

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn, contextlib.suppress(OSError):
                conn.settimeout(0.05)
                self.connected()
                buffer = b""
                while not self.stop.is_set():
                    try:
                        data = conn.recv(4096)
                    except TimeoutError:
                        continue
                    if not data:
                        break
                    buffer = self.received(conn, buffer + data)

    def close(self) -> None:
        """Stop serving and wait for the server thread."""
        self.stop.set()
        self.listener.close()
        self.thread.join(timeout=5)
