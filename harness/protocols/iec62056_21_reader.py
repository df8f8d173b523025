"""IEC 62056-21 mode C byte stream: split received bytes into messages, and 7E1 parity.

Pure, no I/O: a driver reads whatever the transport gives (with its own timeouts), feeds it
to a :class:`FrameReader` and gets back whole messages to pass to the ``iec62056_21`` and
``iec62056_21_programming`` parsers.  The parity helpers are for transports that deliver
8-bit bytes while the line carries 7 data bits with even parity.
"""

from __future__ import annotations

from harness.errors import ProtocolError
from harness.protocols.iec62056_21 import ACK, CRLF, ETX, NAK, SOH, STX, _fail

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_MAX_LINE_LENGTH", "FrameReader", "add_even_parity",
           "strip_even_parity"]

DEFAULT_MAX_LENGTH = 16384
"""Longest SOH/STX block accepted, in bytes: a full readout fits, endless garbage does not."""
DEFAULT_MAX_LINE_LENGTH = 256
"""Longest request/identification/option select line; the longest legal one is under 40."""
_STARTS = bytes([ord("/"), ACK, NAK, SOH, STX])
_START_TEXT = "a message start ('/', ACK, NAK, SOH or STX)"


def add_even_parity(data: bytes) -> bytes:
    """Turn 7-bit characters into 7E1 bytes: bit 7 set where it makes the byte's parity even.

    For transports that carry 8-bit bytes where the meter expects 7 data bits, even parity.
    """
    out = bytearray(len(data))
    for i, byte in enumerate(data):
        if byte > 0x7F:
            raise ValueError(f"byte {i} (0x{byte:02X}) is not a 7-bit character")
        out[i] = byte | 0x80 if byte.bit_count() & 1 else byte
    return bytes(out)


def strip_even_parity(data: bytes) -> bytes:
    """Check the even parity bit of 7E1 bytes carried as 8 bits and clear it.

    A byte with odd parity was corrupted on the line: ProtocolError naming its offset.
    """
    out = bytearray(len(data))
    for i, byte in enumerate(data):
        if byte.bit_count() & 1:
            raise _fail(f"parity error in byte 0x{byte:02X}", i, "even parity (7E1)")
        out[i] = byte & 0x7F
    return bytes(out)


class FrameReader:
    """Incremental splitter: ``feed(bytes)`` returns the messages completed so far.

    A line starting with ``/`` (request, identification) ends at CR LF; an SOH or STX block
    ends one byte (the BCC) after ETX; NAK is a message on its own.  ACK is a message on its
    own too, unless ``ack_starts_line`` is set (a meter-side reader expecting option select
    ``ACK V Z Y CR LF``).  NUL bytes between messages (the battery wake-up) are skipped.

    Errors are ProtocolErrors whose ``offset`` counts bytes from the start of the stream:
    a byte that cannot start a message (it is dropped, up to the next possible start), or a
    message longer than its limit (everything buffered is dropped), so garbage never grows
    the buffer without end.  Messages completed before the error are returned first and the
    error is raised by the next ``feed`` (``feed(b"")`` to drain).  The reader does not check
    BCCs or content: the parsers do.
    """

    def __init__(self, *, max_length: int = DEFAULT_MAX_LENGTH,
                 max_line_length: int = DEFAULT_MAX_LINE_LENGTH,
                 ack_starts_line: bool = False) -> None:
        if max_length < 3 or max_line_length < 3:
            raise ValueError("message length limits must be at least 3 bytes")
        self.max_length = max_length
        self.max_line_length = max_line_length
        self.ack_starts_line = ack_starts_line
        self._buffer = bytearray()
        self._offset = 0  # stream offset of self._buffer[0]
        self._deferred: ProtocolError | None = None

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet form a whole message (say what a timeout cut off)."""
        return bytes(self._buffer)

    @property
    def offset(self) -> int:
        """Stream offset of the next byte to be taken into a message."""
        return self._offset

    def reset(self) -> None:
        """Drop the partial message and any pending error, e.g. after a timeout or baud change."""
        self._consume(len(self._buffer))
        self._deferred = None

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every message they complete, in order."""
        self._buffer += data
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        messages: list[bytes] = []
        while self._buffer:
            try:
                message = self._next_message()
            except ProtocolError as error:
                if messages:
                    self._deferred = error  # raised by the next feed
                    return messages
                raise
            if message is None:
                break
            messages.append(message)
        return messages

    def _consume(self, count: int) -> bytes:
        taken = bytes(self._buffer[:count])
        del self._buffer[:count]
        self._offset += count
        return taken

    def _next_message(self) -> bytes | None:
        """Take one whole message off the buffer; None if it is not complete yet."""
        buffer = self._buffer
        if buffer[:1] == b"\x00":
            self._consume(len(buffer) - len(buffer.lstrip(b"\x00")))
        if not buffer:
            return None
        head = buffer[0]
        if head == NAK or (head == ACK and not self.ack_starts_line):
            return self._consume(1)
        if head in (ord("/"), ACK):
            limit = self.max_line_length
            end = buffer.find(CRLF, 0, limit)
            if end >= 0:
                return self._consume(end + 2)
            expected = "CR LF"
        elif head in (SOH, STX):
            limit = self.max_length
            etx = buffer.find(ETX, 1, limit - 1)
            if etx >= 0:
                return self._consume(etx + 2) if len(buffer) >= etx + 2 else None
            expected = "ETX"
        else:
            skip = next((i for i in range(1, len(buffer)) if buffer[i] in _STARTS), len(buffer))
            start = self._offset
            self._consume(skip)
            raise _fail(f"garbage byte 0x{head:02X}", start, _START_TEXT)
        if len(buffer) < limit:
            return None
        start = self._offset
        self._consume(len(buffer))
        raise _fail(f"message longer than {limit} bytes", start + limit, expected)
