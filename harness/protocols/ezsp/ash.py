"""ASH frames (Silicon Labs UG101, "UART-EZSP Gateway Protocol Reference"): encode and decode.

Pure: no I/O.  A frame on the wire is a control byte, a data field (DATA, RSTACK, ERROR only),
a CRC-CCITT of both (high byte first), byte-stuffed and closed by the Flag Byte 0x7E
(UG101 "Frames" and "Frame Formats").  A DATA frame's data field is the EZSP frame
exclusive-ORed with a pseudo-random sequence (UG101 "Frames", "Data Field").  The incremental
reader (``AshReader``) lives in ``ash_reader.py`` and the link state machine (frame numbers,
acks, retransmission) in ``ash_link.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from harness.protocols.ezsp.errors import AshFrameError

__all__ = [
    "ASH_VERSION",
    "CANCEL",
    "ESCAPE",
    "FLAG",
    "MAX_DATA_FIELD",
    "MAX_FRAME_BODY",
    "RESERVED",
    "RESET_CODES",
    "SUBSTITUTE",
    "XOFF",
    "XON",
    "AckFrame",
    "AshFrame",
    "DataFrame",
    "ErrorFrame",
    "NakFrame",
    "RstAckFrame",
    "RstFrame",
    "crc_ccitt",
    "decode_frame",
    "encode_frame",
    "pseudo_random",
    "randomise",
    "stuff",
    "unstuff",
]

FLAG: Final = 0x7E
"""Flag Byte: ends a frame (UG101 "Frames", reserved bytes)."""
ESCAPE: Final = 0x7D
"""Escape Byte: the next byte has bit 5 complemented."""
XON: Final = 0x11
"""Resume transmission (software flow control); never part of a frame."""
XOFF: Final = 0x13
"""Stop transmission (software flow control); never part of a frame."""
SUBSTITUTE: Final = 0x18
"""Replaces a byte received with a low-level error: the frame it is in is discarded."""
CANCEL: Final = 0x1A
"""Cancel Byte: terminates a frame in progress; the host sends one before RST."""
RESERVED: Final = frozenset({FLAG, ESCAPE, XON, XOFF, SUBSTITUTE, CANCEL})
"""The bytes stuffed (escaped) inside a frame."""
_FLIP: Final = 0x20

ASH_VERSION: Final = 0x02
"""The ASH version RSTACK and ERROR carry (UG101 "Frame Formats")."""
MAX_DATA_FIELD: Final = 128
"""Largest DATA field (UG101 "Frames": "varies: 3-128")."""
MIN_DATA_FIELD: Final = 3
"""Smallest DATA field: the shortest EZSP frame (sequence, frame control, frame id)."""
MAX_FRAME_BODY: Final = 1 + MAX_DATA_FIELD + 2
"""Largest unstuffed frame before its flag: control byte, data field, CRC."""

RESET_CODES: Final[dict[int, str]] = {
    0x00: "unknown reason",
    0x01: "external",
    0x02: "power on",
    0x03: "watchdog",
    0x06: "assert",
    0x09: "boot loader",
    0x0B: "software",
    0x51: "error: exceeded maximum ACK timeout count",
    0x80: "chip-specific error reset code",
}
"""Reset and error codes of RSTACK and ERROR frames (UG101 table "Reset and Error
Codes"); a code outside the table is still decoded, named "unlisted"."""

_RANDOM_SEED: Final = 0x42
_RANDOM_TAP: Final = 0xB8


# --- checksums and transforms ------------------------------------------------------------


def crc_ccitt(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, not reflected, no final xor).

    UG101 "Frames": the CRC of the control byte and data field; check value
    ``crc_ccitt(b"123456789") == 0x29B1``.
    """
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def pseudo_random(length: int) -> bytes:
    """The first ``length`` bytes of UG101's data randomization sequence ("Frames", "Data Field").

    An 8-bit LFSR seeded 0x42: each output byte ``r`` is followed by ``r >> 1``, exclusive-ORed
    with 0xB8 when ``r``'s low bit was set (0x42, 0x21, 0xA8, 0x54, 0x2A, ...).
    """
    out = bytearray()
    rand = _RANDOM_SEED
    for _ in range(length):
        out.append(rand)
        rand = (rand >> 1) ^ _RANDOM_TAP if rand & 1 else rand >> 1
    return bytes(out)


def randomise(data: bytes) -> bytes:
    """``data`` exclusive-ORed with the pseudo-random sequence; its own inverse."""
    return bytes(a ^ b for a, b in zip(data, pseudo_random(len(data)), strict=True))


def stuff(data: bytes) -> bytes:
    """Byte stuffing (UG101 "Frames"): each reserved byte becomes 0x7D then byte ^ 0x20."""
    out = bytearray()
    for byte in data:
        if byte in RESERVED:
            out += bytes((ESCAPE, byte ^ _FLIP))
        else:
            out.append(byte)
    return bytes(out)


def unstuff(data: bytes) -> bytes:
    """Undo ``stuff``; a trailing Escape Byte or a bare reserved byte is an ``AshFrameError``."""
    out = bytearray()
    escaped = False
    for offset, byte in enumerate(data):
        if escaped:
            out.append(byte ^ _FLIP)
            escaped = False
        elif byte == ESCAPE:
            escaped = True
        elif byte in RESERVED:
            raise AshFrameError(
                f"ASH: unescaped reserved byte 0x{byte:02X} at offset {offset}", offset=offset
            )
        else:
            out.append(byte)
    if escaped:
        raise AshFrameError(
            f"ASH: Escape Byte at offset {len(data) - 1} ends the data with nothing to escape",
            offset=len(data) - 1,
        )
    return bytes(out)


# --- frames --------------------------------------------------------------------------------


def _check_num(name: str, value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 7:
        raise AshFrameError(f"ASH: {name} must be 0..7 (3 bits), got {value!r}", field=name)
    return value


def _check_byte(name: str, value: int) -> int:
    if not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise AshFrameError(f"ASH: {name} must be one byte (0..255), got {value!r}", field=name)
    return value


@dataclass(frozen=True)
class DataFrame:
    """DATA(frmNum, ackNum, reTx) carrying one EZSP frame, held here *un*-randomised.

    Control byte ``0 frmNum(3) reTx(1) ackNum(3)`` (UG101 "Frame Formats").
    """

    frm_num: int
    ack_num: int
    re_tx: bool
    payload: bytes

    def __post_init__(self) -> None:
        _check_num("frmNum", self.frm_num)
        _check_num("ackNum", self.ack_num)
        if not MIN_DATA_FIELD <= len(self.payload) <= MAX_DATA_FIELD:
            raise AshFrameError(
                f"ASH: a DATA field is {MIN_DATA_FIELD}..{MAX_DATA_FIELD} bytes, got "
                f"{len(self.payload)}",
                field="data",
            )

    def control(self) -> int:
        """The control byte."""
        return (self.frm_num << 4) | (int(self.re_tx) << 3) | self.ack_num

    def data_field(self) -> bytes:
        """The data field as sent: the payload randomised."""
        return randomise(self.payload)


@dataclass(frozen=True)
class AckFrame:
    """ACK(ackNum) with nRdy: control ``1 0 0 res nRdy ackNum(3)`` (UG101 "Frame Formats")."""

    ack_num: int
    n_rdy: bool = False

    def __post_init__(self) -> None:
        _check_num("ackNum", self.ack_num)

    def control(self) -> int:
        """The control byte."""
        return 0x80 | (int(self.n_rdy) << 3) | self.ack_num

    def data_field(self) -> bytes:
        """ACK has no data field."""
        return b""


@dataclass(frozen=True)
class NakFrame:
    """NAK(ackNum) with nRdy: control ``1 0 1 res nRdy ackNum(3)`` (UG101 "Frame Formats")."""

    ack_num: int
    n_rdy: bool = False

    def __post_init__(self) -> None:
        _check_num("ackNum", self.ack_num)

    def control(self) -> int:
        """The control byte."""
        return 0xA0 | (int(self.n_rdy) << 3) | self.ack_num

    def data_field(self) -> bytes:
        """NAK has no data field."""
        return b""


@dataclass(frozen=True)
class RstFrame:
    """RST: the host asks the NCP to reset (control 0xC0, UG101 "Frame Formats")."""

    def control(self) -> int:
        """The control byte."""
        return 0xC0

    def data_field(self) -> bytes:
        """RST has no data field."""
        return b""


@dataclass(frozen=True)
class RstAckFrame:
    """RSTACK(version, resetCode): the NCP has reset (control 0xC1, UG101 "Frame Formats")."""

    reset_code: int
    version: int = ASH_VERSION

    def __post_init__(self) -> None:
        _check_byte("version", self.version)
        _check_byte("reset code", self.reset_code)

    def control(self) -> int:
        """The control byte."""
        return 0xC1

    def data_field(self) -> bytes:
        """Version then reset code."""
        return bytes((self.version, self.reset_code))

    @property
    def reason(self) -> str:
        """The reset code's name from UG101's table."""
        return RESET_CODES.get(self.reset_code, f"unlisted (0x{self.reset_code:02X})")


@dataclass(frozen=True)
class ErrorFrame:
    """ERROR(version, errorCode): the NCP is in the FAILED state (control 0xC2, UG101)."""

    error_code: int
    version: int = ASH_VERSION

    def __post_init__(self) -> None:
        _check_byte("version", self.version)
        _check_byte("error code", self.error_code)

    def control(self) -> int:
        """The control byte."""
        return 0xC2

    def data_field(self) -> bytes:
        """Version then error code."""
        return bytes((self.version, self.error_code))

    @property
    def reason(self) -> str:
        """The error code's name from UG101's table."""
        return RESET_CODES.get(self.error_code, f"unlisted (0x{self.error_code:02X})")


AshFrame = DataFrame | AckFrame | NakFrame | RstFrame | RstAckFrame | ErrorFrame
"""Any ASH frame."""


def encode_frame(frame: AshFrame, *, cancel: bool = False) -> bytes:
    """The bytes to send for ``frame``: stuffed control, data field and CRC, then the flag.

    ``cancel=True`` puts a Cancel Byte first, as a host does before RST (UG101 "Frame Formats",
    RST) to end whatever partial frame the NCP holds.
    """
    body = bytes((frame.control(),)) + frame.data_field()
    body += crc_ccitt(body).to_bytes(2, "big")
    return (bytes((CANCEL,)) if cancel else b"") + stuff(body) + bytes((FLAG,))


def _expect_length(kind: str, body: bytes, want: int) -> None:
    if len(body) != want:
        raise AshFrameError(
            f"ASH: {kind} frame is {want} bytes with its CRC, got {len(body)}",
            offset=min(len(body), want),
            kind=kind,
        )


def decode_frame(body: bytes) -> AshFrame:
    """Decode one frame from its unstuffed bytes (control, data field, CRC; no flag).

    Raises ``AshFrameError`` naming the fault: too short or long, CRC mismatch, unknown
    control byte, or a length the frame type does not have.
    """
    if len(body) < 3:
        raise AshFrameError(
            f"ASH: a frame is at least 3 bytes (control and CRC), got {len(body)}",
            offset=len(body),
        )
    if len(body) > MAX_FRAME_BODY:
        raise AshFrameError(
            f"ASH: a frame is at most {MAX_FRAME_BODY} bytes before its flag, got {len(body)}",
            offset=MAX_FRAME_BODY,
        )
    found = int.from_bytes(body[-2:], "big")
    expected = crc_ccitt(body[:-2])
    if found != expected:
        raise AshFrameError(
            f"ASH: CRC mismatch: computed 0x{expected:04X}, frame carries 0x{found:04X}",
            offset=len(body) - 2,
            expected=expected,
            found=found,
        )
    control, data = body[0], body[1:-2]
    if not control & 0x80:
        if not MIN_DATA_FIELD <= len(data) <= MAX_DATA_FIELD:
            raise AshFrameError(
                f"ASH: DATA field is {MIN_DATA_FIELD}..{MAX_DATA_FIELD} bytes, got {len(data)}",
                offset=1,
                kind="DATA",
            )
        return DataFrame(
            frm_num=(control >> 4) & 7,
            ack_num=control & 7,
            re_tx=bool(control & 0x08),
            payload=randomise(data),
        )
    kind = control & 0xE0
    if kind in (0x80, 0xA0):
        name = "ACK" if kind == 0x80 else "NAK"
        _expect_length(name, body, 3)
        cls = AckFrame if kind == 0x80 else NakFrame
        return cls(ack_num=control & 7, n_rdy=bool(control & 0x08))
    if control == 0xC0:
        _expect_length("RST", body, 3)
        return RstFrame()
    if control in (0xC1, 0xC2):
        name = "RSTACK" if control == 0xC1 else "ERROR"
        _expect_length(name, body, 5)
        if control == 0xC1:
            return RstAckFrame(version=data[0], reset_code=data[1])
        return ErrorFrame(version=data[0], error_code=data[1])
    raise AshFrameError(f"ASH: unknown control byte 0x{control:02X}", offset=0, control=control)
