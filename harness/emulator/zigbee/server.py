"""The emulated Telegesis dongle on loopback: a TCP listener a driver opens as ``socket://``.

One host at a time (as one USB serial port), line-oriented: each CR- or LF-ended line goes to
the :class:`~harness.emulator.zigbee.engine.TelegesisEngine`, its answer goes back at once,
and every ``tick_s`` the engine's due prompts (joins, tables, ``LeftPAN``) are sent.  The
dongle keeps its network when the host reconnects, as the module does.

The newest connection takes the port over and the previous host's is closed
(:class:`~harness.emulator.guard.OneHostPort`), so an idle host never locks others out.  A
line longer than :data:`MAX_LINE_BYTES` is discarded up to its end and answered
``ERROR:0C`` (too many characters), as the module's small input buffer does.
"""

from __future__ import annotations

import logging
import re

from harness.emulator.guard import report_unexpected
from harness.emulator.loopback import LoopbackSerialServer
from harness.emulator.zigbee.engine import TelegesisEngine

log = logging.getLogger("meterbench.emulator.zigbee")
_EOL = re.compile(rb"[\r\n]")
MAX_LINE_BYTES = 1024
"""Longest command line the dongle takes (its input buffer); longer ones get ERROR:0C."""
TOO_LONG = "ERROR:0C"
"""Telegesis error 0x0C: too many characters."""


class LineBuffer:
    """CR/LF line splitting with a bounded buffer: linear time, at most ``limit`` bytes held."""

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._overflow = False  # discarding the rest of an over-long line

    def feed(self, data: bytes) -> list[bytes | None]:
        """The lines ``data`` completes; ``None`` stands for a line that was too long."""
        lines: list[bytes | None] = []
        start = 0
        for match in _EOL.finditer(data):
            piece = data[start:match.start()]
            start = match.end()
            if self._overflow or len(self._buffer) + len(piece) > self.limit:
                lines.append(None)
            else:
                lines.append(bytes(self._buffer + piece))
            self._buffer.clear()
            self._overflow = False
        rest = data[start:]
        if not self._overflow and len(self._buffer) + len(rest) > self.limit:
            self._overflow = True
            self._buffer.clear()
        elif not self._overflow:
            self._buffer += rest
        return lines


class TelegesisDongleServer(LoopbackSerialServer):
    """A Telegesis-compatible dongle behind a loopback TCP port."""

    name = "telegesis dongle"

    def __init__(self, engine: TelegesisEngine, host: str = "127.0.0.1", port: int = 0,
                 tick_s: float = 0.02) -> None:
        self.engine = engine
        self._lines = LineBuffer()
        super().__init__(host, port, tick_s)

    def connected(self) -> None:
        """A new host: the module's pending prompts and half-typed line are dropped (its
        network stays)."""
        self.engine.drop_pending()
        self._lines = LineBuffer()

    def received(self, data: bytes, now: float) -> bytes:
        """The answers to every line ``data`` completes (ERROR:0C for an over-long one)."""
        out: list[str] = []
        for raw in self._lines.feed(data):
            out += [TOO_LONG] if raw is None else self._receive(raw, now)
        return _wire(out)

    def due(self, now: float) -> bytes:
        """The prompts due by ``now`` (joins, tables, ``LeftPAN``)."""
        return _wire(self.engine.due(now))

    def _receive(self, raw: bytes, now: float) -> list[str]:
        """The engine's answer to one line; an engine bug answers ERROR:02, not a dead port."""
        try:
            return self.engine.receive(raw.decode("ascii", "replace"), now)
        except Exception as exc:
            report_unexpected("telegesis dongle (engine)", exc)
            return ["ERROR:02"]


def _wire(lines: list[str]) -> bytes:
    """Lines as the module sends them: ASCII, each ended CR LF."""
    return b"".join(text.encode("ascii", "replace") + b"\r\n" for text in lines)
