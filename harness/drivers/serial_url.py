"""Serial ports by URL for the drivers: pyserial's ``serial_for_url``, with ``socket://`` and
``rfc2217://`` made fit for a request and its answer.

pyserial's ``socket://`` says only whether something is waiting (``in_waiting`` 0 or 1), so
a driver reading what is waiting took every answer a byte at a time, a pass of its receive
loop each (30 for a register read: half its round trip on an emulated bench, where that
round trip bounds TRI-DIAG-01's reads). Every ``socket://`` port here counts the bytes, as a
serial port does. Two more things it does are right for a terminal server and wrong for a
bench: Nagle's algorithm holds a small write back for the peer's delayed ACK (40 ms a
command), and every close sleeps 0.3 s so that a single-connection server (ser2net) can take
a quick reconnect. Every port gets ``TCP_NODELAY``; the close without the pause is only for
an emulated instrument, whose server accepts a reconnect at once (a real ser2net keeps it).

pyserial's ``rfc2217://`` client waits for the server's acknowledgement of a settings change
(baud, data bits, parity, stop bits, then flow control) by sleeping 50 ms and looking again:
at least 100 ms a change however soon the acknowledgements came, which a DLMS session pays
twice (to HDLC's 9600 Bd 8N1 and back to 300 Bd 7E1), and for each purge (two an open).
Every ``rfc2217://`` port here waits for the same acknowledgements, with the same time limit,
but wakes as each one arrives.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import serial
from serial import rfc2217
from serial.urlhandler import protocol_socket

try:  # POSIX: the kernel's count of the bytes a socket holds; elsewhere, a peek
    import fcntl
    import termios

    def _waiting(sock: socket.socket) -> int:
        count = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        return max(1, int.from_bytes(count, sys.byteorder))  # readable at EOF: 1, as pyserial
except ImportError:  # pragma: no cover - Windows
    def _waiting(sock: socket.socket) -> int:
        return max(1, len(sock.recv(_PEEK_BYTES, socket.MSG_PEEK)))

_PEEK_BYTES = 4096


class _CountingSocketSerial(protocol_socket.Serial):
    """pyserial's ``socket://`` port whose ``in_waiting`` counts the bytes waiting."""

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read without waiting (0: none); pyserial's says 0 or 1."""
        sock: socket.socket | None = getattr(self, "_socket", None)
        if not self.is_open or sock is None:
            raise serial.PortNotOpenError()
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return 0
        try:
            return _waiting(sock)
        except OSError:
            return 1  # let the read itself meet the error, as pyserial's would


def _shut(sock: socket.socket) -> None:
    """Shut a port's socket down and close it; a peer that went first is no error."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class _PromptSocketSerial(_CountingSocketSerial):
    """pyserial's ``socket://`` port, closed without its 0.3 s reconnect pause."""

    def close(self) -> None:
        if not self.is_open:
            return
        sock: socket.socket | None = getattr(self, "_socket", None)
        self._socket = None
        if sock is not None:
            _shut(sock)
        self.is_open = False


class _PromptRfc2217Serial(rfc2217.Serial):
    """pyserial's ``rfc2217://`` port, woken by each acknowledgement of a settings change
    instead of looking every 50 ms; what it sends, waits for and raises is pyserial's."""

    if TYPE_CHECKING:  # pyserial's private state, which its stubs leave out
        _socket: socket.socket | None
        _network_timeout: float
        _write_timeout: float | None
        _baudrate: int
        _bytesize: int
        _parity: str
        _stopbits: float
        _rtscts: bool
        _xonxoff: bool
        _ignore_set_control_answer: bool
        _rfc2217_port_settings: dict[str, rfc2217.TelnetSubnegotiation]
        _rfc2217_options: dict[str, rfc2217.TelnetSubnegotiation]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._acknowledged = threading.Condition()
        super().__init__(*args, **kwargs)

    def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
        """pyserial's (on its reader thread), then wake whoever waits for an answer."""
        try:
            # pyserial's private handler, which its stubs leave out:
            getattr(super(), "_telnet_process_subnegotiation")(suboption)  # noqa: B009
        finally:
            with self._acknowledged:
                self._acknowledged.notify_all()

    def _await(self, done: Callable[[], bool], failure: str) -> None:
        """Until ``done()`` (the server answered) or pyserial's network timeout, which raises
        ``failure`` (pyserial's own message for what was awaited)."""
        with self._acknowledged:
            if not self._acknowledged.wait_for(done, timeout=self._network_timeout):
                raise serial.SerialException(failure)

    def _reconfigure_port(self) -> None:
        """pyserial's settings change (all four sent first, then their answers awaited; a
        refused value raises ValueError), then the flow control, acknowledged too."""
        if self._socket is None:
            raise serial.SerialException("Can only operate on open ports")
        if self._write_timeout is not None:
            # pyserial's client raises NotImplementedError here, which no driver catches: a
            # value the port refuses is a ValueError, as the baud check below (drivers say so
            # in our own words).
            raise ValueError("an rfc2217:// port takes no write_timeout")
        if not 0 < self._baudrate < 2 ** 32:
            raise ValueError(f"invalid baudrate: {self._baudrate!r}")
        settings = self._rfc2217_port_settings
        settings["baudrate"].set(struct.pack(b"!I", self._baudrate))
        settings["datasize"].set(struct.pack(b"!B", self._bytesize))
        settings["parity"].set(struct.pack(b"!B",
                                                   rfc2217.RFC2217_PARITY_MAP[self._parity]))
        settings["stopsize"].set(struct.pack(
            b"!B", rfc2217.RFC2217_STOPBIT_MAP[self._stopbits]))
        items = list(settings.values())
        self._await(lambda: all(item.active for item in items),
                    f"Remote does not accept parameter change (RFC2217): {items!r}")
        if self._rtscts and self._xonxoff:
            raise ValueError("xonxoff and rtscts together are not supported")
        self.rfc2217_set_control(rfc2217.SET_CONTROL_USE_HW_FLOW_CONTROL if self._rtscts
                                 else rfc2217.SET_CONTROL_USE_SW_FLOW_CONTROL if self._xonxoff
                                 else rfc2217.SET_CONTROL_USE_NO_FLOW_CONTROL)

    def rfc2217_set_control(self, value: bytes) -> None:
        """Send a control change and await its acknowledgement (pyserial's own way, a fixed
        pause, where the URL says ``ign_set_control``: a server that answers wrongly)."""
        if self._ignore_set_control_answer:
            super().rfc2217_set_control(value)
            return
        item = self._rfc2217_options["control"]
        item.set(value)
        self._await(item.is_ready, f"Remote does not accept parameter change (RFC2217): {item!r}")

    def rfc2217_send_purge(self, value: bytes) -> None:
        """Send a purge (every open sends two: ``reset_input_buffer``, ``reset_output_buffer``)
        and await its acknowledgement; pyserial's looks every 50 ms, 100 ms an open."""
        item = self._rfc2217_options["purge"]
        item.set(value)
        self._await(item.is_ready, f"timeout while waiting for option {item.name!r}")


class _PromptEmulatedRfc2217Serial(_PromptRfc2217Serial):
    """An emulated meter's ``rfc2217://`` port, closed without pyserial's 0.3 s reconnect
    pause: the emulated server takes a new connection at once."""

    if TYPE_CHECKING:
        _thread: threading.Thread | None

    def close(self) -> None:
        self.is_open = False
        sock, self._socket = self._socket, None
        if sock is not None:
            _shut(sock)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(7)  # its read ends with the socket (pyserial's bound)


def serial_port(address: str, *, emulated: bool = False) -> serial.Serial:
    """An unopened port for ``address`` (a device path or any pyserial URL); configure it,
    then call :func:`open_port`."""
    scheme = address.lower().partition("://")[0]
    ours: Callable[[], Any] | None = {
        "socket": _PromptSocketSerial if emulated else _CountingSocketSerial,
        "rfc2217": _PromptEmulatedRfc2217Serial if emulated else _PromptRfc2217Serial,
    }.get(scheme)
    if ours is not None:
        port = ours()
        port.port = address
        return cast(serial.Serial, port)  # the same interface, as serial_for_url's are
    return serial.serial_for_url(address, do_not_open=True)


def open_port(port: serial.Serial) -> None:
    """Open a configured port; on ``socket://``, send each write at once (no Nagle)."""
    port.open()
    sock: Any = getattr(port, "_socket", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
