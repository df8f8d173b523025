"""A SCPI power supply over pyvisa (pyvisa-py): TCPIP sockets, serial or USB VISA resources.

Commands are the common SCPI subset (``*IDN?``, ``INST:NSEL``, ``OUTP``, ``VOLT``, ``CURR``,
``MEAS:VOLT?``, ``MEAS:CURR?``) and the error queue (``SYST:ERR?``) is read after every
command, so a refused command fails where it was sent rather than three steps later.
"""

from __future__ import annotations

import math
import re
import select
import socket
import time
from typing import Any

import pyvisa
from pyvisa import constants as visa_constants
from pyvisa.errors import VisaIOError

from harness.drivers.power.base import PowerSupply
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError

_MAX_ERRORS = 20  # bound the error-queue drain: a broken supply must not loop us forever
_MAX_REPLY = 4096  # default bound on one answer: SCPI answers here are tens of bytes
_CHUNK = 4096
_ERROR_CODE = re.compile(r"[+-]?[0-9]{1,6}")
_DECIMAL = re.compile(r"[+-]?([0-9]{1,30}(\.[0-9]{0,30})?|\.[0-9]{1,30})([eE][+-]?[0-9]{1,3})?")
_SCPI_OVERFLOW = 9.9e37  # SCPI's "overflow" (9.9E37) and "not a number" (9.91E37) marks


class ScpiPowerSupply(PowerSupply):
    """SCPI supply; bench options: ``channels``, ``max_voltage``, ``visa_library`` (``@py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rm: pyvisa.ResourceManager | None = None
        self._res: Any = None
        self._selected: int | None = None
        self._rx = bytearray()  # bytes received and not yet part of an answer

    # -- link ----------------------------------------------------------------------------------

    def _open_internal(self) -> None:
        self._rm = pyvisa.ResourceManager(self.config.options.get("visa_library", "@py"))
        self._res = self._rm.open_resource(
            self.address,
            read_termination="\n",
            write_termination="\n",
            timeout=int(self.config.timeout_s * 1000),
        )
        _no_nagle(self._res)
        self._selected = None
        self._drain_errors()  # start from an empty error queue

    def _close_internal(self) -> None:
        # Only the resource: pyvisa shares one ResourceManager per library in a process, and
        # closing it would close every other instrument's session too.
        try:
            if self._res is not None:
                self._res.close()
        except Exception:  # closing must not raise; the link may already be gone
            self.log.debug("ignoring error while closing", exc_info=True)
        self._res = self._rm = None

    def write(self, command: str) -> None:
        """Send one command and check the error queue."""
        self._raw_write(command)
        self._drain_errors(after=command)

    def query(self, command: str) -> str:
        """Send one query and return its answer (stripped), all within ``timeout_s``.

        The whole query (write, then every read up to the newline) shares one deadline, so a
        peer trickling bytes cannot stretch it; an answer over ``max_reply_bytes`` or with a
        byte that is not ASCII is a ``ProtocolError`` naming the instrument and the offset.
        """
        deadline = time.monotonic() + self.config.timeout_s
        self._discard_stale()
        self._raw_write(command)
        raw = self._read_reply(command, deadline)
        self.transcript.record("<", raw + b"\n")
        try:
            answer = raw.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ProtocolError(
                f"{self.name}: answer to {command!r} has byte 0x{raw[exc.start]:02X} at offset "
                f"{exc.start}, expected ASCII",
                instrument=self.name, command=command, offset=exc.start,
            ) from None
        return answer.strip()

    @property
    def max_reply_bytes(self) -> int:
        """Longest answer accepted (option ``max_reply_bytes``, default 4096)."""
        return int(self.config.options.get("max_reply_bytes", _MAX_REPLY))

    def _read_reply(self, command: str, deadline: float) -> bytes:
        """Bytes up to the newline (not included), or our error by ``deadline``."""
        sock = _raw_socket(self._res)
        limit = self.max_reply_bytes
        while True:
            end = self._rx.find(b"\n")
            if 0 <= end <= limit:
                raw = bytes(self._rx[:end])
                del self._rx[: end + 1]
                return raw.removesuffix(b"\r")
            if len(self._rx) > limit:
                self._rx.clear()
                raise ProtocolError(
                    f"{self.name}: answer to {command!r} longer than {limit} bytes without a "
                    "newline", instrument=self.name, command=command, offset=limit)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._rx.clear()
                raise InstrumentTimeoutError(
                    f"{self.name}: no complete answer to {command!r} within "
                    f"{self.config.timeout_s} s", instrument=self.name, command=command)
            chunk = (self._recv_socket(sock, remaining, command) if sock is not None
                     else self._recv_visa(remaining, command))
            self._rx += chunk

    def _recv_socket(self, sock: socket.socket, remaining: float, command: str) -> bytes:
        """What the socket has within ``remaining`` seconds (b"" if nothing came)."""
        try:
            ready, _, _ = select.select([sock], [], [], remaining)
            if not ready:
                return b""
            data = sock.recv(_CHUNK)
        except (OSError, ValueError) as exc:  # ValueError: a socket closed under us
            raise OperationError(f"{self.name}: link failed reading the answer to {command!r}: "
                                 f"{exc}", instrument=self.name, command=command) from None
        if not data:
            raise OperationError(f"{self.name}: connection closed before the answer to "
                                 f"{command!r}", instrument=self.name, command=command)
        return data

    def _recv_visa(self, remaining: float, command: str) -> bytes:
        """One byte through VISA (serial, USB), waiting at most ``remaining`` seconds.

        One byte at a time so that the deadline is checked between bytes whatever the
        backend does with a longer count; SCPI answers are short.
        """
        self._res.timeout = max(1, int(remaining * 1000))
        try:
            data, _status = self._res.visalib.read(self._res.session, 1)
        except VisaIOError as exc:
            if exc.error_code == visa_constants.StatusCode.error_timeout:
                return b""
            raise self._visa_error(exc, command) from None
        return bytes(data)

    def _discard_stale(self) -> None:
        """Drop what a peer sent after an earlier answer (or after a timed-out query)."""
        self._rx.clear()
        sock = _raw_socket(self._res)
        if sock is None:
            return
        try:
            for _ in range(64):  # bounded: a peer streaming forever fails the next read
                ready, _, _ = select.select([sock], [], [], 0)
                if not ready or not sock.recv(_CHUNK):
                    return
        except (OSError, ValueError):
            return

    def _raw_write(self, command: str) -> None:
        self.transcript.record(">", command.encode() + b"\n")
        try:
            self._res.write(command)
        except VisaIOError as exc:
            raise self._visa_error(exc, command) from None
        except (OSError, ValueError) as exc:  # the socket under pyvisa-py failed or closed
            raise OperationError(f"{self.name}: write of {command!r} failed: {exc}",
                                 instrument=self.name, command=command) from None

    def _visa_error(self, exc: VisaIOError, command: str) -> Exception:
        if exc.error_code == visa_constants.StatusCode.error_timeout:
            return InstrumentTimeoutError(
                f"{self.name}: no answer to {command!r} within {self.config.timeout_s} s",
                instrument=self.name,
                command=command,
            )
        return OperationError(
            f"{self.name}: VISA error on {command!r}: {exc.description}",
            instrument=self.name,
            command=command,
        )

    def _drain_errors(self, after: str | None = None) -> None:
        """Read ``SYST:ERR?`` until it reports 0; raise the first error found."""
        errors: list[str] = []
        for _ in range(_MAX_ERRORS):
            answer = self.query("SYST:ERR?")
            code_text, _, message = answer.partition(",")
            if not _ERROR_CODE.fullmatch(code_text.strip()):
                raise ProtocolError(
                    f"{self.name}: SYST:ERR? answered {answer!r}, expected '<code>,\"<message>\"'",
                    instrument=self.name,
                )
            code = int(code_text)
            if code == 0:
                break
            errors.append(f"{code},{message}")
        if errors and after is not None:
            raise OperationError(
                f"{self.name}: {after!r} refused: {'; '.join(errors)}",
                instrument=self.name,
                command=after,
                errors=errors,
            )

    def _select(self, channel: int) -> None:
        if self.channels > 1 and self._selected != channel:
            self.write(f"INST:NSEL {channel}")
            self._selected = channel

    # -- hooks ----------------------------------------------------------------------------------

    def _identify_internal(self) -> str:
        return self.query("*IDN?")

    def _set_output(self, channel: int, on: bool) -> None:
        self._select(channel)
        self.write(f"OUTP {'ON' if on else 'OFF'}")

    def _get_output(self, channel: int) -> bool:
        self._select(channel)
        return self.query("OUTP?") in ("1", "ON")

    def _set_voltage(self, channel: int, volts: float) -> None:
        self._select(channel)
        self.write(f"VOLT {volts:.4f}")

    def _set_current_limit(self, channel: int, amps: float) -> None:
        self._select(channel)
        self.write(f"CURR {amps:.5f}")

    def _measure_voltage(self, channel: int) -> float:
        self._select(channel)
        return self._number(self.query("MEAS:VOLT?"), "MEAS:VOLT?")

    def _measure_current(self, channel: int) -> float:
        self._select(channel)
        return self._number(self.query("MEAS:CURR?"), "MEAS:CURR?")

    def _number(self, text: str, command: str) -> float:
        """A SCPI decimal (NR1/NR2/NR3) that is finite and not SCPI's 9.9E37 overflow mark."""
        value = float(text) if _DECIMAL.fullmatch(text) else math.nan
        if not math.isfinite(value) or abs(value) >= _SCPI_OVERFLOW:
            shown = text if len(text) <= 40 else f"{text[:40]}..."
            raise ProtocolError(
                f"{self.name}: {command} answered {shown!r}, expected a finite number",
                instrument=self.name,
                command=command,
            )
        return value


def _raw_socket(resource: Any) -> socket.socket | None:
    """The TCP socket of a pyvisa-py raw SOCKET session, or None for any other session."""
    sessions = getattr(getattr(resource, "visalib", None), "sessions", None)
    session = sessions.get(resource.session) if isinstance(sessions, dict) else None
    sock = getattr(session, "interface", None)
    if isinstance(sock, socket.socket) and sock.type == socket.SOCK_STREAM:
        return sock
    return None


def _no_nagle(resource: Any) -> None:
    """Turn Nagle off on a pyvisa-py raw SOCKET session, as NI-VISA does by default.

    Each command is followed by an error-queue query; with Nagle on, the query waits for the
    instrument's delayed ACK of the command (~40 ms per write on Linux). pyvisa-py registers
    VI_ATTR_TCPIP_NODELAY without a setter (it raises UnknownAttribute), so the socket is
    reached directly; other backends and interfaces are left alone.
    """
    sock = _raw_socket(resource)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
