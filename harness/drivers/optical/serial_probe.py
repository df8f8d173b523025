"""An optical probe on a serial URL: ``/dev/ttyUSB0``, ``rfc2217://host:port``, ``socket://``.

pyserial's ``serial_for_url`` opens any of them; over RFC 2217 the baud and 7E1 framing
reach the far end (ser2net on a bench host, or the emulated meter). Heads that only do 8N1
can set ``software_parity = true``: the driver then adds and checks the parity bit itself.
"""

from __future__ import annotations

from typing import Any

import serial

from harness.drivers.optical.base import OpticalProbe
from harness.drivers.serial_url import open_port, serial_port
from harness.errors import InstrumentConnectError, OperationError
from harness.protocols.iec62056_21 import INITIAL_BAUD
from harness.protocols.iec62056_21_reader import add_even_parity, strip_even_parity


class SerialOpticalProbe(OpticalProbe):
    """IEC 62056-21 over pyserial."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._port: serial.Serial | None = None

    @property
    def software_parity(self) -> bool:
        """Whether the driver does the 7E1 parity itself over an 8N1 line."""
        return bool(self._option("software_parity", False))

    def _open_internal(self) -> None:
        try:
            port = serial_port(self.address, emulated=self.config.emulated)
            port.baudrate = INITIAL_BAUD
            port.bytesize = serial.EIGHTBITS if self.software_parity else serial.SEVENBITS
            port.parity = serial.PARITY_NONE if self.software_parity else serial.PARITY_EVEN
            port.stopbits = serial.STOPBITS_ONE
            port.timeout = 0.05
            open_port(port)
        except (serial.SerialException, ValueError, OSError) as exc:
            raise InstrumentConnectError(f"{self.name}: cannot open {self.address}: {exc}",
                                         instrument=self.name, address=self.address) from None
        self._port = port
        self.baud = INITIAL_BAUD

    def _close_internal(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                self.log.debug("ignoring error while closing", exc_info=True)
            self._port = None

    def _peer_in_thread(self) -> bool:
        """An ``emulated://`` port says so (``peer_in_thread``); any other port has its
        meter elsewhere."""
        return bool(getattr(self._port, "peer_in_thread", False))

    def _serial(self) -> serial.Serial:
        if self._port is None:
            raise OperationError(f"{self.name}: not open", instrument=self.name)
        return self._port

    def _write(self, data: bytes) -> None:
        port = self._serial()
        try:
            port.write(add_even_parity(data) if self._parity_by_hand else data)
            port.flush()
        except (serial.SerialException, OSError) as exc:
            raise OperationError(f"{self.name}: write failed: {exc}",
                                 instrument=self.name) from None

    def _read(self, timeout: float) -> bytes:
        # The port's own timeout stays fixed: changing it makes pyserial reconfigure the port,
        # which over RFC 2217 is a round trip per setting.
        port = self._serial()
        try:
            waiting = port.in_waiting
            if waiting:
                data = port.read(waiting)
            elif timeout <= 0:
                return b""
            else:
                data = port.read(1)
                if data and port.in_waiting:
                    data += port.read(port.in_waiting)
        except (serial.SerialException, OSError) as exc:
            raise OperationError(f"{self.name}: read failed: {exc}",
                                 instrument=self.name) from None
        return strip_even_parity(data) if self._parity_by_hand else data

    @property
    def _parity_by_hand(self) -> bool:
        """Software parity applies to mode C's 7E1 only: HDLC is 8N1 on the wire."""
        return self.software_parity and self.framing == "7E1"

    def _set_baud(self, baud: int) -> None:
        port = self._serial()
        eight = self.software_parity or self.framing == "8N1"
        try:
            bits, parity = ((serial.EIGHTBITS, serial.PARITY_NONE) if eight
                            else (serial.SEVENBITS, serial.PARITY_EVEN))
            if (port.baudrate, port.bytesize, port.parity) == (baud, bits, parity):
                return
            # One reconfiguration for all three (over RFC 2217 each is a round trip that
            # resends every setting): pyserial's apply_settings would reconfigure per key.
            # pyserial's own fields (SerialBase), set without their property's reconfiguration:
            setattr(port, "_bytesize", bits)  # noqa: B010
            setattr(port, "_parity", parity)  # noqa: B010
            if port.baudrate != baud:
                port.baudrate = baud
            else:
                getattr(port, "_reconfigure_port")()  # noqa: B009
        except (serial.SerialException, ValueError) as exc:
            raise OperationError(f"{self.name}: cannot switch to {baud} Bd: {exc}",
                                 instrument=self.name) from None
