"""The HDLC frame check sequence of IEC 62056-46: CRC-16/X.25, the FCS16 of RFC 1662.

Reflected polynomial 0x8408, initial value 0xFFFF, result complemented and sent low byte
first; its check value for ``b"123456789"`` is 0x906E.
"""

from __future__ import annotations

__all__ = ["fcs16", "fcs16_bytes"]


def _table() -> tuple[int, ...]:
    """The byte-wise lookup table of the reflected CCITT polynomial (RFC 1662 appendix C.2)."""
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0x8408 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_TABLE = _table()


def fcs16(data: bytes) -> int:
    """CRC-16/X.25 of ``data`` as an integer (0x906E for ``b"123456789"``)."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def fcs16_bytes(data: bytes) -> bytes:
    """The two check bytes as they go on the wire after ``data`` (low byte first)."""
    return fcs16(data).to_bytes(2, "little")
