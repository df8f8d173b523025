"""The meter side of the HDLC data link (IEC 62056-46) on an emulated optical port.

SNRM opens the link (UA with the negotiated parameters), DISC closes it (UA with them again,
or DM when no link was open). I frames are numbered and checked, segmented APDUs are joined
(RR for each segment) and long answers are sent segment by segment, the next one on the client's RR.
A frame for another server address is not ours: silence, as on a multi-drop line. A frame
with a bad HCS/FCS is dropped (the client's timeout repeats it); a repeated I frame is
acknowledged again and its answer repeated. Pure: bytes in, frames out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from harness.errors import ProtocolError
from harness.protocols.dlms import (
    Control,
    FrameKind,
    HdlcAddress,
    HdlcFrame,
    HdlcParameters,
    HdlcReader,
    Reassembler,
    SequenceNumbers,
    apdu_frames,
    strip_llc,
)

log = logging.getLogger("meterbench.emulator.optical")

SERVER_LIMITS = HdlcParameters(max_info_tx=128, max_info_rx=128, window_tx=1, window_rx=1)
"""What the meter's link layer can do (it negotiates down to these)."""

ApduHandler = Callable[[int, bytes], bytes]
"""(client address, request APDU) -> response APDU."""


class HdlcLink:
    """One optical port's HDLC link; ``feed`` returns the encoded frames to send."""

    def __init__(self, handler: ApduHandler, *, server_upper: int = 1,
                 on_close: Callable[[], None] | None = None) -> None:
        self.handler = handler
        self.server_upper = server_upper
        self.on_close = on_close
        self.reader = HdlcReader()
        self.connected = False
        self.closed = False  # DISC seen: the port goes back to mode C
        self.params = HdlcParameters()
        self.sequence = SequenceNumbers()
        self.reassembler = Reassembler()
        self.client: HdlcAddress | None = None
        self.server: HdlcAddress | None = None
        self._outbox: list[HdlcFrame] = []  # segments of an answer still to send
        self._last: HdlcFrame | None = None  # what we last sent, for a repeated I frame

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes off the line; the frames to answer with, encoded."""
        out: list[bytes] = []
        while True:
            try:
                frames = self.reader.feed(data)
            except ProtocolError as exc:
                log.debug("meter drops a bad HDLC frame: %s", exc)
                data = b""
                continue
            break
        for frame in frames:
            out.extend(frame.encode() for frame in self._frame(frame))
        return out

    def _frame(self, frame: HdlcFrame) -> list[HdlcFrame]:
        if frame.destination.upper != self.server_upper:
            return []
        kind = frame.kind
        if kind is FrameKind.SNRM:
            return self._snrm(frame)
        if kind is FrameKind.DISC:
            return self._disc(frame)
        if not self.connected or frame.source != self.client:
            return [self._reply(frame, Control(FrameKind.DM))]
        if kind is FrameKind.I:
            return self._information(frame)
        if kind in (FrameKind.RR, FrameKind.RNR):
            return self._poll(frame)
        return []

    def _reply(self, frame: HdlcFrame, control: Control, information: bytes = b"") -> HdlcFrame:
        return HdlcFrame(frame.source, frame.destination, control, information)

    def _snrm(self, frame: HdlcFrame) -> list[HdlcFrame]:
        try:
            proposed = HdlcParameters.decode(frame.information)
        except ProtocolError:
            return [self._reply(frame, Control(FrameKind.FRMR))]
        self.params = SERVER_LIMITS.negotiate(proposed)
        self.connected = True
        self.closed = False
        self.client, self.server = frame.source, frame.destination
        self.sequence.reset()
        self.reassembler.reset()
        self._outbox, self._last = [], None
        return [self._reply(frame, Control(FrameKind.UA), self.params.encode())]

    def _disc(self, frame: HdlcFrame) -> list[HdlcFrame]:
        was = self.connected
        self.connected = False
        self.closed = True
        if self.on_close is not None:
            self.on_close()
        if not was:
            return [self._reply(frame, Control(FrameKind.DM))]
        # The UA repeats the link parameters, as many meters do: an empty UA is as valid, but
        # dlms-cosem 21.3.2 reads a UA only with an information field (and so its HCS).
        return [self._reply(frame, Control(FrameKind.UA), self.params.encode())]

    def _information(self, frame: HdlcFrame) -> list[HdlcFrame]:
        try:
            fresh = self.sequence.receive(frame)
        except ProtocolError:
            return [self._reply(frame, Control(FrameKind.FRMR))]
        if not fresh:  # our acknowledgement or answer was lost: say it again
            return [self._last or self._reply(frame, self.sequence.rr())]
        try:
            information = self.reassembler.add(frame)
        except ProtocolError:
            return [self._reply(frame, Control(FrameKind.FRMR))]
        if information is None:
            self._last = self._reply(frame, self.sequence.rr())
            return [self._last]
        try:
            apdu = strip_llc(information, response=False)
        except ProtocolError:
            return [self._reply(frame, Control(FrameKind.FRMR))]
        assert self.client is not None and self.server is not None  # set by SNRM
        answer = self.handler(self.client.upper, apdu)
        frames = apdu_frames(answer, destination=self.client, source=self.server,
                             sequence=self.sequence, max_information_length=self.params.max_info_tx,
                             response=True)
        self._outbox = frames[1:]
        self._last = frames[0]
        return [frames[0]]

    def _poll(self, frame: HdlcFrame) -> list[HdlcFrame]:
        """An RR from the client: the next segment of our answer if it acknowledges the last
        one, the last one again if it does not, else our own RR."""
        last = self._last
        if last is not None and last.kind is FrameKind.I:
            if frame.control.nr != (last.control.ns + 1) % 8:
                return [last]  # our segment was lost: send it again
            if self._outbox:
                self._last = self._outbox.pop(0)
                return [self._last]
        return [self._reply(frame, self.sequence.rr())]
