"""EZSP manufacturing tokens: ``getMfgToken`` and the install code a stick holds.  Pure.

``getMfgToken`` (0x0B, UG100 "Configuration Frames") takes an EzspMfgTokenId and answers its
length and bytes.  ``MFG_INSTALLATION_CODE`` (0x0A) is 20 bytes, little-endian as the chip
stores it (Silicon Labs AN1089, as Simplicity Commander writes it): a 16-bit flags word whose
bits 1-2 give the code's length (0: 6, 1: 8, 2: 12, 3: 16 bytes), the code in a 16-byte field,
then its CRC-16/X-25, low byte first.  An erased token reads all 0xFF: the stick holds none.
The code is a secret: the token's bytes are never shown by ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.messages import cursor
from harness.protocols.ezsp.types import u8
from harness.protocols.installcode import InstallCode

MFG_INSTALLATION_CODE = 0x0A
"""EzspMfgTokenId of the install code (20 bytes)."""
INSTALLATION_CODE_TOKEN_LENGTH = 20
_SIZES = (6, 8, 12, 16)


@dataclass(frozen=True)
class TokenId:
    """getMfgToken (0x0B): which manufacturing token (an EzspMfgTokenId)."""

    token_id: int

    def encode(self, version: int) -> bytes:
        """The token id byte."""
        return u8(self.token_id, "tokenId")

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the token id."""
        cur = cursor(params, "getMfgToken")
        out = cls(cur.u8("tokenId"))
        cur.end()
        return out


@dataclass(frozen=True)
class MfgToken:
    """getMfgToken response: the token's bytes (tokenDataLength, then tokenData)."""

    data: bytes = field(repr=False)

    def encode(self, version: int) -> bytes:
        """Length byte, then the bytes."""
        return u8(len(self.data), "tokenDataLength") + bytes(self.data)

    @classmethod
    def decode(cls, params: bytes, version: int) -> Self:
        """Read the length and that many bytes."""
        cur = cursor(params, "getMfgToken response")
        length = cur.u8("tokenDataLength")
        out = cls(cur.take(length, "tokenData"))
        cur.end()
        return out


def installation_code_token(code: InstallCode | None) -> bytes:
    """The 20 token bytes that hold ``code`` (all 0xFF for None: an erased token)."""
    if code is None:
        return b"\xff" * INSTALLATION_CODE_TOKEN_LENGTH
    raw = code.with_crc
    value, crc = raw[:-2], raw[-2:]
    flags = _SIZES.index(len(value)) << 1
    return flags.to_bytes(2, "little") + value.ljust(16, b"\xff") + crc


def install_code_from_token(data: bytes) -> InstallCode | None:
    """The install code in an MFG_INSTALLATION_CODE token, None when it is erased; a token
    that is too short, of an unknown length or whose CRC fails is an EzspFrameError (which
    never shows the code)."""
    if len(data) < INSTALLATION_CODE_TOKEN_LENGTH:
        raise EzspFrameError(f"EZSP MFG_INSTALLATION_CODE token: {len(data)} bytes, expected "
                             f"{INSTALLATION_CODE_TOKEN_LENGTH}", field="tokenData")
    if set(data[:INSTALLATION_CODE_TOKEN_LENGTH]) == {0xFF}:
        return None
    flags = int.from_bytes(data[:2], "little")
    if flags & ~0x0006:
        raise EzspFrameError(f"EZSP MFG_INSTALLATION_CODE token: flags 0x{flags:04X} are not a "
                             "code length", field="flags")
    size = _SIZES[flags >> 1 & 3]
    try:
        return InstallCode.parse((data[2:2 + size] + data[18:20]).hex(), has_crc=True)
    except ValueError as exc:  # InstallCodeError: its message never holds the code
        raise EzspFrameError(f"EZSP MFG_INSTALLATION_CODE token: {exc}",
                             field="tokenData") from None
