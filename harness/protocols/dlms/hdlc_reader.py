"""HDLC byte stream: split received bytes into frames, reassemble segmented APDUs, keep the
send/receive sequence numbers.  Pure, no I/O: a driver feeds what its transport gives.
"""

from __future__ import annotations

from harness.protocols.dlms.errors import HdlcError, fail
from harness.protocols.dlms.hdlc import FLAG, MAX_FRAME_LENGTH, HdlcFrame
from harness.protocols.dlms.hdlc_fields import Control, FrameKind

__all__ = ["DEFAULT_MAX_APDU_LENGTH", "HdlcReader", "Reassembler", "SequenceNumbers"]

DEFAULT_MAX_APDU_LENGTH = 65535
"""Longest reassembled information accepted: the largest max-PDU-size an xDLMS peer may state."""


class HdlcReader:
    """Incremental frame splitter: ``feed(bytes)`` returns the frames completed so far.

    Frames are found by their opening flag and the length in their format field (IEC 62056-46
    uses no byte stuffing); consecutive frames may share one flag, and extra flags between
    frames are idle fill.  Errors are HdlcErrors whose ``offset`` counts bytes from the start
    of the stream: garbage outside a frame (dropped up to the next flag), a format field that
    is not type 3 or a length beyond ``max_length`` (dropped likewise, so garbage never grows
    the buffer), or a frame whose flags, HCS or FCS are wrong.  Frames completed before an
    error are returned first; the error is raised by the next ``feed`` (``feed(b"")`` drains).
    """

    def __init__(self, *, max_length: int = MAX_FRAME_LENGTH) -> None:
        if not 9 <= max_length <= MAX_FRAME_LENGTH:
            raise HdlcError(f"hdlc: reader length limit {max_length} out of range",
                            expected=f"9..{MAX_FRAME_LENGTH}")
        self.max_length = max_length
        self._buffer = bytearray()
        self._offset = 0  # stream offset of self._buffer[0]
        self._after_flag = False  # the last byte consumed was a flag (may open the next frame)
        self._deferred: HdlcError | None = None

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet form a whole frame (what a timeout cut off)."""
        return bytes(self._buffer)

    @property
    def offset(self) -> int:
        """Stream offset of the next byte to be taken into a frame."""
        return self._offset

    def reset(self) -> None:
        """Drop the partial frame and any pending error, e.g. after a timeout."""
        self._consume(len(self._buffer))
        self._after_flag = False
        self._deferred = None

    def feed(self, data: bytes) -> list[HdlcFrame]:
        """Add received bytes; return every frame they complete, in order."""
        self._buffer += data
        if self._deferred is not None:
            error, self._deferred = self._deferred, None
            raise error
        frames: list[HdlcFrame] = []
        while self._buffer:
            try:
                frame = self._next_frame()
            except HdlcError as error:
                if frames:
                    self._deferred = error
                    return frames
                raise
            if frame is None:
                break
            frames.append(frame)
        return frames

    def _consume(self, count: int) -> None:
        del self._buffer[:count]
        self._offset += count

    def _drop_to_flag(self, start: int) -> None:
        """Drop bytes up to (not including) the next flag at or after ``start``."""
        end = self._buffer.find(FLAG, start)
        self._consume(len(self._buffer) if end < 0 else end)
        self._after_flag = False

    def _next_frame(self) -> HdlcFrame | None:
        buffer = self._buffer
        while buffer[:1] == bytes((FLAG,)) and (len(buffer) == 1 or buffer[1] == FLAG):
            if len(buffer) == 1:  # a lone flag: wait for what follows it
                return None
            self._consume(1)  # idle fill between frames
        opened = buffer[0] == FLAG
        if not opened and not self._after_flag:
            start, byte = self._offset, buffer[0]
            self._drop_to_flag(1)
            raise fail(HdlcError, f"garbage byte 0x{byte:02X}", start, "an opening flag 0x7E")
        head = 1 if opened else 0  # bytes of the opening flag present in the buffer
        if len(buffer) < head + 2:
            return None
        fmt = (buffer[head] << 8) | buffer[head + 1]
        length = fmt & MAX_FRAME_LENGTH
        if fmt & 0xF000 != 0xA000 or not 7 <= length <= self.max_length:
            start = self._offset + head
            self._drop_to_flag(head)
            what = (f"frame format 0x{fmt:04X} is not type 3" if fmt & 0xF000 != 0xA000
                    else f"frame length {length}")
            raise fail(HdlcError, what, start,
                       f"format type 0xA and a length of 7..{self.max_length}")
        total = head + length + 1
        if len(buffer) < total:
            return None
        raw = bytes((FLAG,)) + bytes(buffer[head:total])
        start = self._offset - (1 - head)
        try:
            frame = HdlcFrame.decode(raw, base_offset=start)
        except HdlcError:
            if buffer[total - 1] == FLAG:
                self._consume(total)
                self._after_flag = True
            else:
                self._drop_to_flag(head)
            raise
        self._consume(total)
        self._after_flag = True
        return frame


class Reassembler:
    """Joins the information fields of a segmented APDU (IEC 62056-46 8.4.2).

    ``add(frame)`` returns the whole information once the last segment (segmentation bit clear)
    arrives, else None.  More than ``max_length`` bytes is an HdlcError (and a fresh start).
    """

    def __init__(self, *, max_length: int = DEFAULT_MAX_APDU_LENGTH) -> None:
        self.max_length = max_length
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def in_progress(self) -> bool:
        """True between the first and the last segment."""
        return bool(self._parts)

    def reset(self) -> None:
        """Forget a partial APDU."""
        self._parts, self._size = [], 0

    def add(self, frame: HdlcFrame) -> bytes | None:
        """Take the information of an I or UI frame; the whole APDU when it is complete."""
        if frame.kind not in (FrameKind.I, FrameKind.UI):
            raise HdlcError(f"hdlc: a {frame.kind.value} frame carries no APDU segment",
                            expected="an I or UI frame")
        self._size += len(frame.information)
        if self._size > self.max_length:
            self.reset()
            raise HdlcError(f"hdlc: reassembled information exceeds {self.max_length} bytes",
                            expected=f"at most {self.max_length} bytes")
        self._parts.append(frame.information)
        if frame.segmented:
            return None
        whole = b"".join(self._parts)
        self.reset()
        return whole


class SequenceNumbers:
    """The send and receive state variables V(S), V(R) of one station (modulo 8).

    ``next_i()`` gives the control field of the next I frame to send, ``rr()`` an RR
    acknowledging what was received; ``receive(frame)`` checks an incoming I frame's N(S):
    True for the expected frame, False for a repeat of the previous one (the peer retransmits
    because our acknowledgement was lost: answer with ``rr()`` again, deliver nothing), an
    HdlcError otherwise.  ``unacknowledged(frame)`` says whether the peer's N(R) asks for our
    last I frame again (retransmission).
    """

    def __init__(self) -> None:
        self.vs = 0
        self.vr = 0

    def reset(self) -> None:
        """Both variables back to 0, as after SNRM/UA."""
        self.vs = self.vr = 0

    def next_i(self, *, pf: bool = True) -> Control:
        """Control field of the next I frame; advances V(S)."""
        control = Control(FrameKind.I, self.vs, self.vr, pf)
        self.vs = (self.vs + 1) % 8
        return control

    def rr(self, *, pf: bool = True) -> Control:
        """An RR control field acknowledging every I frame received so far."""
        return Control(FrameKind.RR, 0, self.vr, pf)

    def receive(self, frame: HdlcFrame) -> bool:
        """Check an incoming I frame's N(S) and advance V(R); see the class docstring."""
        if frame.kind is not FrameKind.I:
            raise HdlcError(f"hdlc: {frame.kind.value} is not an I frame", expected="I frame")
        ns = frame.control.ns
        if ns == self.vr:
            self.vr = (self.vr + 1) % 8
            return True
        if ns == (self.vr - 1) % 8:
            return False
        raise HdlcError(f"hdlc: I frame N(S)={ns} out of sequence", expected=f"N(S)={self.vr}")

    def unacknowledged(self, frame: HdlcFrame) -> bool:
        """True if the peer's N(R) does not acknowledge our last I frame (send it again)."""
        if frame.kind not in (FrameKind.I, FrameKind.RR, FrameKind.RNR):
            return False
        return frame.control.nr != self.vs
