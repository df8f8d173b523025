"""HDLC frame format type 3 of IEC 62056-46 (the DLMS/COSEM data link layer), encode and decode.

A frame is ``7E | format (type 3, segmentation bit, 11-bit length) | destination | source |
control | HCS | information | FCS | 7E``; a frame without information has no HCS, only the
FCS.  The length counts every byte between the flags.  No byte stuffing: the length says where
a frame ends (see :mod:`.hdlc_reader`).  The LLC header (``E6 E6 00`` for a request,
``E6 E7 00`` for a response) starts the information of the first I frame of an APDU.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.protocols.dlms.crc import fcs16, fcs16_bytes
from harness.protocols.dlms.errors import HdlcError, fail
from harness.protocols.dlms.hdlc_fields import Control, FrameKind, HdlcAddress, decode_address

__all__ = ["FLAG", "LLC_REQUEST", "LLC_RESPONSE", "MAX_FRAME_LENGTH", "HdlcFrame", "add_llc",
           "segment", "strip_llc"]

FLAG = 0x7E
MAX_FRAME_LENGTH = 0x7FF
"""The largest value of the 11-bit length field: bytes between the flags."""
LLC_REQUEST = bytes((0xE6, 0xE6, 0x00))
LLC_RESPONSE = bytes((0xE6, 0xE7, 0x00))
_FORMAT_TYPE_3 = 0xA000
_SEGMENTED = 0x0800


@dataclass(frozen=True)
class HdlcFrame:
    """One HDLC frame: addresses, control, information field and the segmentation bit.

    ``segmented`` is set on every frame of a segmented APDU but the last.
    """

    destination: HdlcAddress
    source: HdlcAddress
    control: Control
    information: bytes = b""
    segmented: bool = False

    @property
    def kind(self) -> FrameKind:
        """The frame kind (shortcut for ``control.kind``)."""
        return self.control.kind

    def encode(self) -> bytes:
        """The frame with its flags, HCS (when there is information) and FCS."""
        header_length = 2 + self.destination.size + self.source.size + 1
        length = header_length + 2 + (len(self.information) + 2 if self.information else 0)
        if length > MAX_FRAME_LENGTH:
            raise HdlcError(f"hdlc: a frame of {length} bytes exceeds the 11-bit length field",
                            expected=f"at most {MAX_FRAME_LENGTH} bytes between the flags")
        fmt = _FORMAT_TYPE_3 | (_SEGMENTED if self.segmented else 0) | length
        header = (fmt.to_bytes(2, "big") + self.destination.encode() + self.source.encode()
                  + bytes((self.control.encode(),)))
        body = header + fcs16_bytes(header)
        if self.information:
            body += self.information
            body += fcs16_bytes(body)
        return bytes((FLAG,)) + body + bytes((FLAG,))

    @classmethod
    def decode(cls, data: bytes, *, base_offset: int = 0) -> HdlcFrame:
        """Parse one whole frame, flags included.

        Errors are HdlcErrors whose ``offset`` is ``base_offset`` plus the byte in ``data``.
        """
        def at(i: int) -> int:
            return base_offset + i

        if len(data) < 9:
            raise fail(HdlcError, f"frame of {len(data)} bytes is too short", at(len(data)),
                       "at least 9 bytes (flag, format, 2 addresses, control, FCS, flag)")
        if data[0] != FLAG:
            raise fail(HdlcError, f"frame starts with 0x{data[0]:02X}", at(0), "flag 0x7E")
        fmt = int.from_bytes(data[1:3], "big")
        if fmt & 0xF000 != _FORMAT_TYPE_3:
            raise fail(HdlcError, f"frame format 0x{fmt:04X} is not type 3", at(1),
                       "format type 0xA")
        length = fmt & MAX_FRAME_LENGTH
        if length + 2 != len(data):
            raise fail(HdlcError, f"length field says {length} bytes but the frame has "
                       f"{len(data) - 2}", at(1), "the length field to match the frame")
        if data[-1] != FLAG:
            raise fail(HdlcError, f"frame ends with 0x{data[-1]:02X}", at(len(data) - 1),
                       "closing flag 0x7E")
        destination, i = decode_address(data, 3)
        source, i = decode_address(data, i)
        if i >= len(data) - 3:
            raise fail(HdlcError, "frame ends inside its header", at(i),
                       "control field and check sequence")
        control = Control.decode(data[i], at(i))
        i += 1
        end = len(data) - 3  # where the FCS starts
        information = b""
        if i < end:  # the header is checked first: it says who the frame is for
            if end - i < 2:
                raise fail(HdlcError, "truncated header check sequence", at(i), "2 HCS bytes")
            if fcs16(data[1:i]) != int.from_bytes(data[i:i + 2], "little"):
                raise fail(HdlcError, "HCS mismatch", at(i), f"0x{fcs16(data[1:i]):04X}")
            information = bytes(data[i + 2:end])
        if fcs16(data[1:end]) != int.from_bytes(data[end:end + 2], "little"):
            raise fail(HdlcError, "FCS mismatch", at(end), f"0x{fcs16(data[1:end]):04X}")
        return cls(destination, source, control, information, bool(fmt & _SEGMENTED))


def add_llc(apdu: bytes, *, response: bool) -> bytes:
    """Prefix an APDU with the LLC header: ``E6 E6 00`` (request) or ``E6 E7 00`` (response)."""
    return (LLC_RESPONSE if response else LLC_REQUEST) + apdu


def strip_llc(information: bytes, *, response: bool) -> bytes:
    """Remove the LLC header a request (``response=False``) or response must start with."""
    want = LLC_RESPONSE if response else LLC_REQUEST
    if information[:3] != want:
        raise fail(HdlcError, f"LLC header {information[:3].hex(' ')}", 0, want.hex(" "))
    return information[3:]


def segment(information: bytes, max_information_length: int) -> list[bytes]:
    """Split an information field into pieces of at most ``max_information_length`` bytes.

    Send each in its own I frame, ``segmented=True`` on all but the last (IEC 62056-46 8.4.2).
    """
    if max_information_length < 1:
        raise HdlcError(f"hdlc: maximum information length {max_information_length} is too "
                        "small", expected="at least 1")
    if not information:
        return [b""]
    step = max_information_length
    return [information[i:i + step] for i in range(0, len(information), step)]
