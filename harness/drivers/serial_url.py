"""Serial ports by URL for the drivers: pyserial's ``serial_for_url``, with ``socket://`` made
fit for a request and its answer.

Two things pyserial's ``socket://`` does are right for a terminal server and wrong for a
bench: Nagle's algorithm holds a small write back for the peer's delayed ACK (40 ms a
command), and every close sleeps 0.3 s so that a single-connection server (ser2net) can take
a quick reconnect. Every port gets ``TCP_NODELAY``; the close without the pause is only for
an emulated instrument, whose server accepts a reconnect at once (a real ser2net keeps it).
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any, cast

import serial
from serial.urlhandler import protocol_socket


class _PromptSocketSerial(protocol_socket.Serial):
    """pyserial's ``socket://`` port, closed without its 0.3 s reconnect pause."""

    def close(self) -> None:
        if not self.is_open:
            return
        sock: socket.socket | None = getattr(self, "_socket", None)
        self._socket = None
        if sock is not None:
            with contextlib.suppress(OSError):  # the peer went first
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.is_open = False


def serial_port(address: str, *, emulated: bool = False) -> serial.Serial:
    """An unopened port for ``address`` (a device path or any pyserial URL); configure it,
    then call :func:`open_port`."""
    if emulated and address.lower().startswith("socket://"):
        port = _PromptSocketSerial()
        port.port = address
        return cast(serial.Serial, port)  # the same interface, as serial_for_url's are
    return serial.serial_for_url(address, do_not_open=True)


def open_port(port: serial.Serial) -> None:
    """Open a configured port; on ``socket://``, send each write at once (no Nagle)."""
    port.open()
    sock: Any = getattr(port, "_socket", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
