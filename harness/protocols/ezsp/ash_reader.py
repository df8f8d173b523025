"""An incremental ASH reader: bytes in, whole frames (or the reason one was lost) out.

Pure and bounded: it holds at most one frame's bytes (``MAX_FRAME_BODY``), however long a
stream without a Flag Byte runs.  The reserved bytes act as UG101 "Frames" says: the Flag
Byte ends a frame, the Cancel Byte drops the frame in progress, the Substitute Byte marks it
bad, XON/XOFF are flow control and never part of a frame, and the Escape Byte complements
bit 5 of the byte after it (and has no effect before a reserved byte).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.protocols.ezsp.ash import (
    CANCEL,
    ESCAPE,
    FLAG,
    MAX_FRAME_BODY,
    SUBSTITUTE,
    XOFF,
    XON,
    AshFrame,
    decode_frame,
)
from harness.protocols.ezsp.errors import AshFrameError

__all__ = ["AshReader", "BadFrame"]


@dataclass(frozen=True)
class BadFrame:
    """A frame that ended with a flag but could not be used: why, and at which stream byte.

    The link answers one with a NAK (UG101 "reject condition"), so it is reported, not raised.
    """

    error: AshFrameError
    stream_offset: int

    @property
    def reason(self) -> str:
        """The error's message."""
        return str(self.error)


class AshReader:
    """Feed it bytes as they arrive; each ``feed`` returns the frames the bytes completed."""

    def __init__(self, max_body: int = MAX_FRAME_BODY) -> None:
        if max_body < 3:
            raise AshFrameError(f"ASH reader: max_body must be at least 3, got {max_body}")
        self._max = max_body
        self._buf = bytearray()
        self._escaped = False
        self._fault: str | None = None
        self._offset = 0  # bytes consumed so far, for error positions
        self.discarded = 0
        """Frames dropped by a Cancel Byte, for diagnostics."""

    @property
    def pending(self) -> int:
        """Bytes of the frame in progress (never more than ``max_body``)."""
        return len(self._buf)

    def _reset(self) -> None:
        self._buf.clear()
        self._escaped = False
        self._fault = None

    def _finish(self) -> AshFrame | BadFrame | None:
        if not self._buf and self._fault is None:
            return None  # back-to-back flags: nothing between them
        at = self._offset
        try:
            if self._fault is not None:
                raise AshFrameError(f"ASH: {self._fault}", offset=len(self._buf))
            return decode_frame(bytes(self._buf))
        except AshFrameError as error:
            return BadFrame(error=error, stream_offset=at)
        finally:
            self._reset()

    def feed(self, data: bytes) -> list[AshFrame | BadFrame]:
        """Consume ``data``; return each frame it completed, in order, good or bad."""
        out: list[AshFrame | BadFrame] = []
        for byte in data:
            if byte == FLAG:
                done = self._finish()
                if done is not None:
                    out.append(done)
            elif byte == CANCEL:
                if self._buf or self._fault is not None:
                    self.discarded += 1
                self._reset()
            elif byte in (XON, XOFF):
                self._escaped = False  # an Escape before a reserved byte has no effect
            elif byte == SUBSTITUTE:
                self._escaped = False
                self._fault = self._fault or "Substitute Byte: a byte of the frame was lost"
            elif byte == ESCAPE:
                self._escaped = True
            elif self._fault is None:
                value = byte ^ 0x20 if self._escaped else byte
                self._escaped = False
                if len(self._buf) >= self._max:
                    self._fault = f"frame longer than {self._max} bytes before its flag"
                    self._buf.clear()
                else:
                    self._buf.append(value)
            else:
                self._escaped = False
            self._offset += 1
        return out
