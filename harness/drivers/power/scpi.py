"""A SCPI power supply over pyvisa (pyvisa-py): TCPIP sockets, serial or USB VISA resources.

Commands are the common SCPI subset (``*IDN?``, ``INST:NSEL``, ``OUTP``, ``VOLT``, ``CURR``,
``MEAS:VOLT?``, ``MEAS:CURR?``) and the error queue (``SYST:ERR?``) is read after every
command, so a refused command fails where it was sent rather than three steps later.
"""

from __future__ import annotations

import socket
from typing import Any

import pyvisa
from pyvisa import constants as visa_constants
from pyvisa.errors import VisaIOError

from harness.drivers.power.base import PowerSupply
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError

_MAX_ERRORS = 20  # bound the error-queue drain: a broken supply must not loop us forever


class ScpiPowerSupply(PowerSupply):
    """SCPI supply; bench options: ``channels``, ``max_voltage``, ``visa_library`` (``@py``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rm: pyvisa.ResourceManager | None = None
        self._res: Any = None
        self._selected: int | None = None

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
        """Send one query and return its answer (stripped)."""
        self._raw_write(command)
        try:
            answer = self._res.read()
        except VisaIOError as exc:
            raise self._visa_error(exc, command) from None
        self.transcript.record("<", answer.encode() + b"\n")
        return answer.strip()

    def _raw_write(self, command: str) -> None:
        self.transcript.record(">", command.encode() + b"\n")
        try:
            self._res.write(command)
        except VisaIOError as exc:
            raise self._visa_error(exc, command) from None

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
            try:
                code = int(code_text)
            except ValueError:
                raise ProtocolError(
                    f"{self.name}: SYST:ERR? answered {answer!r}, expected '<code>,\"<message>\"'",
                    instrument=self.name,
                ) from None
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
        try:
            return float(text)
        except ValueError:
            raise ProtocolError(
                f"{self.name}: {command} answered {text!r}, expected a number",
                instrument=self.name,
                command=command,
            ) from None


def _no_nagle(resource: Any) -> None:
    """Turn Nagle off on a pyvisa-py raw SOCKET session, as NI-VISA does by default.

    Each command is followed by an error-queue query; with Nagle on, the query waits for the
    instrument's delayed ACK of the command (~40 ms per write on Linux). pyvisa-py registers
    VI_ATTR_TCPIP_NODELAY without a setter (it raises UnknownAttribute), so the socket is
    reached directly; other backends and interfaces are left alone.
    """
    sessions = getattr(resource.visalib, "sessions", None)
    session = sessions.get(resource.session) if isinstance(sessions, dict) else None
    sock = getattr(session, "interface", None)
    if isinstance(sock, socket.socket) and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
