"""From an xDLMS/ACSE APDU to the I frames that carry it (LLC header, segmentation, N(S)/N(R)).

The inverse is :class:`~.hdlc_reader.Reassembler` followed by :func:`~.hdlc.strip_llc`.
"""

from __future__ import annotations

from harness.protocols.dlms.hdlc import HdlcFrame, add_llc, segment
from harness.protocols.dlms.hdlc_fields import HdlcAddress
from harness.protocols.dlms.hdlc_reader import SequenceNumbers

__all__ = ["apdu_frames"]


def apdu_frames(apdu: bytes, *, destination: HdlcAddress, source: HdlcAddress,
                sequence: SequenceNumbers, max_information_length: int,
                response: bool) -> list[HdlcFrame]:
    """The I frames carrying ``apdu`` (LLC header first), each at most
    ``max_information_length`` bytes of information (the negotiated value), numbered by
    ``sequence`` (advanced here).  With a window of 1 the sender waits for the peer's RR
    after each segment but the last; a repeat after a lost RR re-sends the same frame.
    """
    pieces = segment(add_llc(apdu, response=response), max_information_length)
    return [HdlcFrame(destination, source, sequence.next_i(), piece,
                      segmented=n < len(pieces) - 1) for n, piece in enumerate(pieces)]
