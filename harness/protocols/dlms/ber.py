"""The little BER (X.690) the ACSE APDUs need: one-byte tags, definite lengths, TLV lists."""

from __future__ import annotations

from harness.protocols.dlms.errors import XdlmsError, fail

__all__ = ["encode_tlv", "read_tlvs"]


def encode_tlv(tag: int, value: bytes) -> bytes:
    """``tag | length | value`` with a short or long definite length."""
    length = len(value)
    if length < 0x80:
        head = bytes((length,))
    else:
        body = length.to_bytes((length.bit_length() + 7) // 8, "big")
        head = bytes((0x80 | len(body),)) + body
    return bytes((tag,)) + head + value


def read_tlvs(data: bytes, offset: int = 0, end: int | None = None, *,
              base: int = 0) -> list[tuple[int, bytes, int]]:
    """Every TLV from ``offset`` to ``end``: (tag, value, offset of the value).

    ``base`` is added to every offset reported (where ``data`` sits in the whole APDU).
    """
    end = len(data) if end is None else end
    out = []
    i = offset
    while i < end:
        tag = data[i]
        if tag & 0x1F == 0x1F:
            raise fail(XdlmsError, f"multi-byte BER tag 0x{tag:02X}", base + i,
                       "a one-byte tag")
        if i + 1 >= end:
            raise fail(XdlmsError, "missing BER length", base + i + 1, "a length byte")
        length = data[i + 1]
        i += 2
        if length & 0x80:
            count = length & 0x7F
            if not 1 <= count <= 3 or i + count > end:
                raise fail(XdlmsError, f"BER length of {count} bytes", base + i - 1,
                           "a definite length of 1..3 bytes")
            length = int.from_bytes(data[i:i + count], "big")
            i += count
        if i + length > end:
            raise fail(XdlmsError, f"BER value of {length} bytes runs past the end", base + i,
                       f"at most {end - i} bytes")
        out.append((tag, bytes(data[i:i + length]), base + i))
        i += length
    return out
