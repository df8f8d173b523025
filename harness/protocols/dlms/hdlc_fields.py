"""HDLC address and control fields of IEC 62056-46 (frame format type 3).

An address byte carries 7 address bits above an extension bit (1 = last byte).  The client
address is one byte; the server address is the upper HDLC address (logical device) and,
optionally, the lower HDLC address (physical device), in 1 byte (upper only), 2 bytes (7 bits
each) or 4 bytes (14 bits each).  The control field names the frame kind and carries the
send/receive sequence numbers N(S)/N(R) (modulo 8) and the poll/final bit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.protocols.dlms.errors import HdlcError, fail

__all__ = ["Control", "FrameKind", "HdlcAddress", "decode_address"]

_ADDRESS_SIZES = (1, 2, 4)


@dataclass(frozen=True)
class HdlcAddress:
    """An HDLC address: ``upper`` (client address, or the server's logical device) and, for a
    server, ``lower`` (physical device) or None; ``size`` is the wire size 1, 2 or 4
    (default: the smallest that holds the values).

    ``HdlcAddress(0x10)`` is the public client; ``HdlcAddress(1)`` a server's management
    logical device in one byte; ``HdlcAddress(1, 17, size=4)`` the 4-byte form.
    """

    upper: int
    lower: int | None = None
    size: int = 0

    def __post_init__(self) -> None:
        size = self.size or (1 if self.lower is None
                             else 2 if max(self.upper, self.lower) <= 0x7F else 4)
        object.__setattr__(self, "size", size)
        if size not in _ADDRESS_SIZES:
            raise HdlcError(f"hdlc: address size {size} is not 1, 2 or 4 bytes",
                            expected="1, 2 or 4")
        if (size == 1) != (self.lower is None):
            raise HdlcError(f"hdlc: a {size}-byte address needs "
                            f"{'no' if size == 1 else 'a'} lower HDLC address",
                            expected="upper only (1 byte) or upper and lower (2 or 4 bytes)")
        limit = 0x7F if size <= 2 else 0x3FFF
        for name, value in (("upper", self.upper), ("lower", self.lower)):
            if value is not None and not 0 <= value <= limit:
                raise HdlcError(f"hdlc: {name} HDLC address {value} does not fit {size} bytes",
                                expected=f"0..{limit}")

    def encode(self) -> bytes:
        """The address bytes, extension bit set on the last one only."""
        parts = [self.upper] if self.lower is None else [self.upper, self.lower]
        per_part = 1 if self.size <= 2 else 2
        out = bytearray()
        for value in parts:
            out += bytes(((value >> (7 * (per_part - 1 - i))) & 0x7F) << 1
                         for i in range(per_part))
        out[-1] |= 1
        return bytes(out)

    def __str__(self) -> str:
        return f"{self.upper}" if self.lower is None else f"{self.upper}/{self.lower}"


def decode_address(data: bytes, offset: int) -> tuple[HdlcAddress, int]:
    """Read one address at ``offset``: (the address, the offset after it)."""
    for size in _ADDRESS_SIZES:
        end = offset + size
        if end > len(data):
            break
        if data[end - 1] & 1:
            if any(data[i] & 1 for i in range(offset, end - 1)):
                break  # a 3-byte address: an extension bit in the wrong place
            chunks = [byte >> 1 for byte in data[offset:end]]
            if size == 1:
                return HdlcAddress(chunks[0]), end
            if size == 2:
                return HdlcAddress(chunks[0], chunks[1], 2), end
            return HdlcAddress((chunks[0] << 7) | chunks[1], (chunks[2] << 7) | chunks[3], 4), end
    raise fail(HdlcError, "bad address field", offset,
               "1, 2 or 4 address bytes, the last with its extension bit set")


class FrameKind(enum.Enum):
    """The frame kinds of IEC 62056-46 (numbered I, supervisory RR/RNR, unnumbered others)."""

    I = "I"  # noqa: E741 - the standard's name
    RR = "RR"
    RNR = "RNR"
    SNRM = "SNRM"
    DISC = "DISC"
    UA = "UA"
    DM = "DM"
    FRMR = "FRMR"
    UI = "UI"


_UNNUMBERED = {FrameKind.SNRM: 0x83, FrameKind.DISC: 0x43, FrameKind.UA: 0x63,
               FrameKind.DM: 0x0F, FrameKind.FRMR: 0x87, FrameKind.UI: 0x03}
_UNNUMBERED_BY_BYTE = {value: kind for kind, value in _UNNUMBERED.items()}
_SUPERVISORY = {FrameKind.RR: 0x01, FrameKind.RNR: 0x05}


@dataclass(frozen=True)
class Control:
    """A control field: the frame ``kind``, ``ns`` = N(S) (I frames), ``nr`` = N(R) (I, RR,
    RNR) and the poll/final bit ``pf`` (set on every frame a DLMS client sends as a command)."""

    kind: FrameKind
    ns: int = 0
    nr: int = 0
    pf: bool = True

    def __post_init__(self) -> None:
        for name, value in (("N(S)", self.ns), ("N(R)", self.nr)):
            if not 0 <= value <= 7:
                raise HdlcError(f"hdlc: {name} {value} is not a sequence number",
                                expected="0..7")
        if self.ns and self.kind is not FrameKind.I:
            raise HdlcError(f"hdlc: a {self.kind.value} frame has no N(S)", expected="ns=0")
        if self.nr and self.kind not in (FrameKind.I, FrameKind.RR, FrameKind.RNR):
            raise HdlcError(f"hdlc: a {self.kind.value} frame has no N(R)", expected="nr=0")

    def encode(self) -> int:
        """The control byte."""
        pf = 0x10 if self.pf else 0
        if self.kind is FrameKind.I:
            return (self.nr << 5) | pf | (self.ns << 1)
        if self.kind in _SUPERVISORY:
            return (self.nr << 5) | pf | _SUPERVISORY[self.kind]
        return _UNNUMBERED[self.kind] | pf

    @classmethod
    def decode(cls, byte: int, offset: int | None = None) -> Control:
        """Read a control byte; an unknown one is an HdlcError naming ``offset``."""
        pf = bool(byte & 0x10)
        if not byte & 1:
            return cls(FrameKind.I, (byte >> 1) & 7, byte >> 5, pf)
        if byte & 3 == 1:
            kind = {0x01: FrameKind.RR, 0x05: FrameKind.RNR}.get(byte & 0x0F)
            if kind is None:
                raise fail(HdlcError, f"unknown supervisory control byte 0x{byte:02X}", offset,
                           "RR or RNR")
            return cls(kind, 0, byte >> 5, pf)
        kind = _UNNUMBERED_BY_BYTE.get(byte & ~0x10)
        if kind is None:
            raise fail(HdlcError, f"unknown control byte 0x{byte:02X}", offset,
                       "I, RR, RNR, SNRM, DISC, UA, DM, FRMR or UI")
        return cls(kind, pf=pf)
