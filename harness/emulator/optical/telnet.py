"""pyserial's RFC 2217 PortManager, made to survive whatever a client sends.

pyserial's ``PortManager.filter`` raises on a stray ``IAC SE`` (``FF F0``: no subnegotiation
open), on a short option value (``FF FA 2C 01 00 FF F0``: ``struct.error``), and grows a
subnegotiation without bound until ``IAC SE`` comes.  Like a robust port server, this one
ignores a malformed or over-long option (logged at debug) and carries on with the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from serial.rfc2217 import (
    DO,
    DONT,
    IAC,
    M_IAC_SEEN,
    M_NEGOTIATE,
    M_NORMAL,
    SB,
    SE,
    WILL,
    WONT,
    PortManager,
)

log = logging.getLogger("meterbench.emulator.optical")

MAX_SUBOPTION_BYTES = 64
"""Longest RFC 2217 subnegotiation kept (the longest real one, SET-BAUDRATE, is 6 bytes)."""


class TolerantPortManager(PortManager):
    """A PortManager whose ``filter`` ignores malformed Telnet instead of raising."""

    _oversized = False
    suboption: bytearray | None  # type: ignore[assignment]  # pyserial's filter keeps a bytearray

    if TYPE_CHECKING:  # pyserial's private Telnet handlers, which its stubs leave out
        def _telnet_process_command(self, command: bytes) -> None: ...
        def _telnet_negotiate_option(self, command: bytes, option: bytes) -> None: ...
        def _telnet_process_subnegotiation(self, suboption: bytes) -> None: ...

    def __init__(self, serial_port: Any, connection: Any,
                 logger: logging.Logger | None = None) -> None:
        """As PortManager's: ``serial_port`` and ``connection`` need only be duck-typed
        stand-ins for ``serial.Serial`` (pyserial uses just the attributes it touches)."""
        super().__init__(serial_port, connection, logger)

    def filter(self, data: bytes) -> Generator[bytes, None, None]:
        """Yield the line data in ``data``; act on Telnet commands, skipping broken ones."""
        for value in data:
            byte = bytes((value,))
            if self.mode == M_NORMAL:
                if byte == IAC:
                    self.mode = M_IAC_SEEN
                elif self.suboption is not None:
                    self._keep(byte)
                else:
                    yield byte
            elif self.mode == M_IAC_SEEN:
                self.mode = M_NORMAL
                if byte == IAC:  # a doubled IAC is the data byte 0xFF
                    if self.suboption is not None:
                        self._keep(byte)
                    else:
                        yield byte
                elif byte == SB:
                    self.suboption, self._oversized = bytearray(), False
                elif byte == SE:
                    self._end_subnegotiation()
                elif byte in (DO, DONT, WILL, WONT):
                    self.telnet_command = byte
                    self.mode = M_NEGOTIATE
                else:
                    self._tolerate(self._telnet_process_command, byte)
            elif self.mode == M_NEGOTIATE:
                self.mode = M_NORMAL
                self._tolerate(self._telnet_negotiate_option, self.telnet_command, byte)

    def _keep(self, byte: bytes) -> None:
        assert self.suboption is not None  # called only inside a subnegotiation
        if len(self.suboption) < MAX_SUBOPTION_BYTES:
            self.suboption += byte
        else:
            self._oversized = True

    def _end_subnegotiation(self) -> None:
        suboption, self.suboption = self.suboption, None
        if suboption is None:
            log.debug("RFC 2217: IAC SE without IAC SB ignored")
        elif self._oversized:
            log.debug("RFC 2217: subnegotiation over %d bytes ignored", MAX_SUBOPTION_BYTES)
        else:
            self._tolerate(self._telnet_process_subnegotiation, bytes(suboption))

    def _tolerate(self, action: Callable[..., None], *args: bytes | None) -> None:
        """Run one Telnet action; a malformed option is ignored (a lost client raises)."""
        try:
            action(*args)
        except OSError:
            raise
        except Exception as exc:  # pyserial raises struct.error, TypeError, ValueError...
            log.debug("RFC 2217: malformed option %r ignored: %s: %s", args,
                      type(exc).__name__, exc)
