"""A-XDR encoding of the COSEM data types (IEC 62056-6-2 4.1.5, Green Book 9.5): ``Data``.

A value is a :class:`Data`: its :class:`DataType` tag and a Python value (None, bool, int,
float, bytes, str, a tuple of bools for a bit-string, a tuple of Data for an array or a
structure).  ``encode_data`` / ``decode_data`` convert whole values, ``decode_data_at`` reads
one inside a larger APDU.  date-time, date and time travel as their octet strings (12, 5, 4
bytes; see :mod:`.cosem_time`).  compact-array is not supported (an AxdrError says so).
Decoding is bounded: nesting deeper than ``max_depth`` or more than ``max_items`` values is
an AxdrError, and no count is trusted beyond the bytes actually present.
"""

from __future__ import annotations

import enum
import math
import struct
from dataclasses import dataclass
from typing import Any

from harness.protocols.dlms.errors import AxdrError, fail

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_ITEMS", "Data", "DataType", "decode_data",
           "decode_data_at", "decode_length", "encode_data", "encode_length"]

DEFAULT_MAX_DEPTH = 16
"""Deepest nesting of arrays/structures accepted (profile buffers need 2 or 3)."""
DEFAULT_MAX_ITEMS = 100_000
"""Most values accepted in one decode (a large profile buffer fits, a bomb does not)."""


class DataType(enum.IntEnum):
    """The tags of the COSEM ``Data`` CHOICE."""

    NULL_DATA = 0
    ARRAY = 1
    STRUCTURE = 2
    BOOLEAN = 3
    BIT_STRING = 4
    DOUBLE_LONG = 5
    DOUBLE_LONG_UNSIGNED = 6
    OCTET_STRING = 9
    VISIBLE_STRING = 10
    UTF8_STRING = 12
    BCD = 13
    INTEGER = 15
    LONG = 16
    UNSIGNED = 17
    LONG_UNSIGNED = 18
    COMPACT_ARRAY = 19
    LONG64 = 20
    LONG64_UNSIGNED = 21
    ENUM = 22
    FLOAT32 = 23
    FLOAT64 = 24
    DATE_TIME = 25
    DATE = 26
    TIME = 27


_INTS: dict[DataType, tuple[int, bool]] = {  # fixed size, signed
    DataType.DOUBLE_LONG: (4, True), DataType.DOUBLE_LONG_UNSIGNED: (4, False),
    DataType.BCD: (1, True), DataType.INTEGER: (1, True), DataType.LONG: (2, True),
    DataType.UNSIGNED: (1, False), DataType.LONG_UNSIGNED: (2, False),
    DataType.LONG64: (8, True), DataType.LONG64_UNSIGNED: (8, False), DataType.ENUM: (1, False),
}
_FIXED_OCTETS = {DataType.DATE_TIME: 12, DataType.DATE: 5, DataType.TIME: 4}
_FLOATS = {DataType.FLOAT32: ">f", DataType.FLOAT64: ">d"}
_STRINGS = {DataType.VISIBLE_STRING: "ascii", DataType.UTF8_STRING: "utf-8"}


@dataclass(frozen=True)
class Data:
    """One COSEM value: ``type`` and ``value`` (checked against the type when built)."""

    type: DataType
    value: Any = None

    def __post_init__(self) -> None:
        _check(self.type, self.value)

    @classmethod
    def structure(cls, *items: Data) -> Data:
        """A structure of ``items``."""
        return cls(DataType.STRUCTURE, tuple(items))

    @classmethod
    def array(cls, *items: Data) -> Data:
        """An array of ``items`` (of one type, which is not checked)."""
        return cls(DataType.ARRAY, tuple(items))

    def plain(self) -> Any:
        """The value without type tags: arrays and structures become lists, the rest stays
        (None, bool, int, float, bytes, str, tuple of bools) -- for reports and comparisons."""
        if self.type in (DataType.ARRAY, DataType.STRUCTURE):
            return [item.plain() for item in self.value]
        return self.value

    def __repr__(self) -> str:
        return f"Data({self.type.name}, {self.value!r})"


def _bad(data_type: DataType, value: Any, wanted: str) -> AxdrError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return AxdrError(f"a-xdr: {shown} is not a valid {data_type.name.lower()}: expected "
                     f"{wanted}", expected=wanted)


def _check(data_type: DataType, value: Any) -> None:
    """Raise an AxdrError if ``value`` cannot be encoded as ``data_type``."""
    if not isinstance(data_type, DataType):
        raise AxdrError(f"a-xdr: unknown data type {data_type!r}", expected="a DataType")
    if data_type is DataType.NULL_DATA:
        if value is not None:
            raise _bad(data_type, value, "None")
    elif data_type in (DataType.ARRAY, DataType.STRUCTURE):
        if not isinstance(value, tuple) or not all(isinstance(v, Data) for v in value):
            raise _bad(data_type, value, "a tuple of Data")
    elif data_type is DataType.BOOLEAN:
        if not isinstance(value, bool):
            raise _bad(data_type, value, "a bool")
    elif data_type is DataType.BIT_STRING:
        if not isinstance(value, tuple) or not all(isinstance(v, bool) for v in value):
            raise _bad(data_type, value, "a tuple of bools")
    elif data_type in _INTS:
        size, signed = _INTS[data_type]
        low, high = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if signed else (
            0, (1 << (8 * size)) - 1)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _bad(data_type, value, f"an integer in {low}..{high}")
    elif data_type in _FLOATS:
        if isinstance(value, bool) or not isinstance(value, float | int):
            raise _bad(data_type, value, "a float")
        if data_type is DataType.FLOAT32 and math.isfinite(value) and abs(value) > 3.4028235e38:
            raise _bad(data_type, value, "a float32 value")
    elif data_type in (DataType.OCTET_STRING, *_FIXED_OCTETS):
        if not isinstance(value, bytes):
            raise _bad(data_type, value, "bytes")
        fixed = _FIXED_OCTETS.get(data_type)
        if fixed is not None and len(value) != fixed:
            raise _bad(data_type, value, f"{fixed} bytes")
    elif data_type in _STRINGS:
        if not isinstance(value, str):
            raise _bad(data_type, value, "a str")
        try:
            value.encode(_STRINGS[data_type])
        except UnicodeEncodeError:
            raise _bad(data_type, value, f"{_STRINGS[data_type]} text") from None
    else:
        raise AxdrError(f"a-xdr: {data_type.name.lower()} is not supported",
                        expected="a COSEM data type other than compact-array")


def encode_length(length: int) -> bytes:
    """A-XDR length: one byte below 0x80, else 0x80 + count followed by the length bytes."""
    if length < 0:
        raise AxdrError(f"a-xdr: negative length {length}", expected="a length >= 0")
    if length < 0x80:
        return bytes((length,))
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def decode_length(data: bytes, offset: int) -> tuple[int, int]:
    """Read an A-XDR length at ``offset``: (the length, the offset after it)."""
    if offset >= len(data):
        raise fail(AxdrError, "missing length", offset, "a length byte")
    first = data[offset]
    if first < 0x80:
        return first, offset + 1
    count = first & 0x7F
    if not 1 <= count <= 4:
        raise fail(AxdrError, f"length of {count} bytes", offset, "1..4 length bytes")
    if offset + 1 + count > len(data):
        raise fail(AxdrError, "truncated length", offset, f"{count} length bytes")
    return int.from_bytes(data[offset + 1:offset + 1 + count], "big"), offset + 1 + count


def encode_data(value: Data) -> bytes:
    """The A-XDR bytes of one ``Data`` value, its tag first."""
    out = bytearray()
    _encode(value, out)
    return bytes(out)


def _encode(value: Data, out: bytearray) -> None:
    data_type, raw = value.type, value.value
    out.append(data_type)
    if data_type in (DataType.ARRAY, DataType.STRUCTURE):
        out += encode_length(len(raw))
        for item in raw:
            _encode(item, out)
    elif data_type is DataType.BOOLEAN:
        out.append(0xFF if raw else 0x00)
    elif data_type is DataType.BIT_STRING:
        out += encode_length(len(raw))
        packed = bytearray((len(raw) + 7) // 8)
        for i, bit in enumerate(raw):
            if bit:
                packed[i // 8] |= 0x80 >> (i % 8)
        out += packed
    elif data_type in _INTS:
        size, signed = _INTS[data_type]
        out += raw.to_bytes(size, "big", signed=signed)
    elif data_type in _FLOATS:
        out += struct.pack(_FLOATS[data_type], raw)
    elif data_type in _FIXED_OCTETS:
        out += raw
    elif data_type is DataType.OCTET_STRING:
        out += encode_length(len(raw)) + raw
    elif data_type in _STRINGS:
        body = raw.encode(_STRINGS[data_type])
        out += encode_length(len(body)) + body


def decode_data(data: bytes, *, max_depth: int = DEFAULT_MAX_DEPTH,
                max_items: int = DEFAULT_MAX_ITEMS) -> Data:
    """Decode exactly one value filling ``data``; trailing bytes are an AxdrError."""
    value, end = decode_data_at(data, 0, max_depth=max_depth, max_items=max_items)
    if end != len(data):
        raise fail(AxdrError, f"{len(data) - end} bytes after the value", end, "end of data")
    return value


def decode_data_at(data: bytes, offset: int, *, max_depth: int = DEFAULT_MAX_DEPTH,
                   max_items: int = DEFAULT_MAX_ITEMS) -> tuple[Data, int]:
    """Decode one value at ``offset``: (the value, the offset after it)."""
    budget = [max_items]
    return _decode(data, offset, max_depth, budget)


def _take(data: bytes, offset: int, size: int, what: str) -> bytes:
    if offset + size > len(data):
        raise fail(AxdrError, f"truncated {what}", len(data),
                   f"{size} bytes from byte {offset}")
    return bytes(data[offset:offset + size])


def _decode(data: bytes, offset: int, depth: int, budget: list[int]) -> tuple[Data, int]:
    budget[0] -= 1
    if budget[0] < 0:
        raise fail(AxdrError, "too many values", offset, "fewer values (max_items)")
    if offset >= len(data):
        raise fail(AxdrError, "missing data", offset, "a data type tag")
    tag = data[offset]
    try:
        data_type = DataType(tag)
    except ValueError:
        raise fail(AxdrError, f"unknown data type tag {tag}", offset,
                   "a COSEM data type tag") from None
    i = offset + 1
    if data_type in (DataType.ARRAY, DataType.STRUCTURE):
        if depth <= 0:
            raise fail(AxdrError, "nesting too deep", offset, "shallower data (max_depth)")
        count, i = decode_length(data, i)
        if count > len(data) - i:  # each element takes at least one byte
            raise fail(AxdrError, f"{data_type.name.lower()} of {count} elements in "
                       f"{len(data) - i} bytes", i - 1, "a count the data can hold")
        items = []
        for _ in range(count):
            item, i = _decode(data, i, depth - 1, budget)
            items.append(item)
        return Data(data_type, tuple(items)), i
    if data_type is DataType.NULL_DATA:
        return Data(data_type), i
    if data_type is DataType.BOOLEAN:
        return Data(data_type, _take(data, i, 1, "boolean") != b"\x00"), i + 1
    if data_type is DataType.BIT_STRING:
        bits, i = decode_length(data, i)
        packed = _take(data, i, (bits + 7) // 8, "bit-string")
        value = tuple(bool(packed[n // 8] & (0x80 >> (n % 8))) for n in range(bits))
        return Data(data_type, value), i + len(packed)
    if data_type in _INTS:
        size, signed = _INTS[data_type]
        raw = _take(data, i, size, data_type.name.lower())
        return Data(data_type, int.from_bytes(raw, "big", signed=signed)), i + size
    if data_type in _FLOATS:
        size = 4 if data_type is DataType.FLOAT32 else 8
        (number,) = struct.unpack(_FLOATS[data_type], _take(data, i, size, "float"))
        return Data(data_type, number), i + size
    if data_type in _FIXED_OCTETS:
        size = _FIXED_OCTETS[data_type]
        return Data(data_type, _take(data, i, size, data_type.name.lower())), i + size
    if data_type is DataType.COMPACT_ARRAY:
        raise fail(AxdrError, "compact-array is not supported", offset,
                   "a data type other than compact-array")
    length, i = decode_length(data, i)
    raw = _take(data, i, length, data_type.name.lower())
    if data_type is DataType.OCTET_STRING:
        return Data(data_type, raw), i + length
    try:
        text = raw.decode(_STRINGS[data_type])
    except UnicodeDecodeError as error:
        raise fail(AxdrError, f"{data_type.name.lower()} is not {_STRINGS[data_type]}",
                   i + error.start, f"{_STRINGS[data_type]} text") from None
    return Data(data_type, text), i + length
