"""xDLMS InitiateRequest / InitiateResponse (carried in AARQ/AARE user-information) and the
conformance block (Green Book 9.4.6.1: a BER BIT STRING [APPLICATION 31] of 24 bits).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.protocols.dlms.errors import XdlmsError, fail, uint_bytes

__all__ = ["INITIATE_REQUEST", "INITIATE_RESPONSE", "Conformance", "InitiateRequest",
           "InitiateResponse"]

INITIATE_REQUEST = 0x01
INITIATE_RESPONSE = 0x08
_CONFORMANCE_HEAD = bytes((0x5F, 0x1F, 0x04, 0x00))
LN_VAA_NAME = 0x0007
"""The vaa-name a logical-name referencing server answers with."""


class Conformance(enum.IntFlag):
    """Conformance block bits (bit 0 is the first bit on the wire, so 1 << (23 - n))."""

    GENERAL_PROTECTION = 1 << 22
    GENERAL_BLOCK_TRANSFER = 1 << 21
    READ = 1 << 20
    WRITE = 1 << 19
    UNCONFIRMED_WRITE = 1 << 18
    DELTA_VALUE_ENCODING = 1 << 17
    ATTRIBUTE0_SUPPORTED_WITH_SET = 1 << 15
    PRIORITY_MGMT_SUPPORTED = 1 << 14
    ATTRIBUTE0_SUPPORTED_WITH_GET = 1 << 13
    BLOCK_TRANSFER_WITH_GET_OR_READ = 1 << 12
    BLOCK_TRANSFER_WITH_SET_OR_WRITE = 1 << 11
    BLOCK_TRANSFER_WITH_ACTION = 1 << 10
    MULTIPLE_REFERENCES = 1 << 9
    INFORMATION_REPORT = 1 << 8
    DATA_NOTIFICATION = 1 << 7
    ACCESS = 1 << 6
    PARAMETERIZED_ACCESS = 1 << 5
    GET = 1 << 4
    SET = 1 << 3
    SELECTIVE_ACCESS = 1 << 2
    EVENT_NOTIFICATION = 1 << 1
    ACTION = 1 << 0


def _u(value: int, what: str, size: int = 1) -> bytes:
    return uint_bytes(XdlmsError, value, size, what)


def _conformance(value: Conformance | int) -> bytes:
    if not 0 <= int(value) < 1 << 24:
        raise XdlmsError(f"apdu: conformance 0x{int(value):X} is not 24 bits",
                         expected="a 24-bit conformance block")
    return _CONFORMANCE_HEAD + int(value).to_bytes(3, "big")


def _read_conformance(data: bytes, i: int) -> Conformance:
    if data[i:i + 4] != _CONFORMANCE_HEAD or len(data) < i + 7:
        raise fail(XdlmsError, f"conformance block {data[i:i + 7].hex(' ')}", i,
                   "5F 1F 04 00 and 3 conformance bytes")
    return Conformance(int.from_bytes(data[i + 4:i + 7], "big"))


def _byte(data: bytes, i: int, what: str) -> int:
    if i >= len(data):
        raise fail(XdlmsError, f"truncated {what}", i, what)
    return data[i]


@dataclass(frozen=True)
class InitiateRequest:
    """xDLMS InitiateRequest: what the client proposes (max receive PDU size, conformance)."""

    conformance: Conformance | int
    max_receive_pdu_size: int = 0xFFFF
    dlms_version: int = 6
    dedicated_key: bytes | None = None
    response_allowed: bool = True
    quality_of_service: int | None = None

    def encode(self) -> bytes:
        """The APDU bytes (tag 0x01)."""
        out = bytearray((INITIATE_REQUEST,))
        if self.dedicated_key is None:
            out.append(0)
        else:
            out += b"\x01" + _u(len(self.dedicated_key), "dedicated key length")
            out += self.dedicated_key
        out += b"\x00" if self.response_allowed else b"\x01\x00"
        out += b"\x00" if self.quality_of_service is None else b"\x01" + _u(
            self.quality_of_service, "quality of service")
        out += _u(self.dlms_version, "dlms version")
        out += _conformance(self.conformance)
        out += _u(self.max_receive_pdu_size, "max receive PDU size", 2)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> InitiateRequest:
        """Parse an InitiateRequest, tag included."""
        if _byte(data, 0, "tag") != INITIATE_REQUEST:
            raise fail(XdlmsError, f"tag 0x{data[0]:02X}", 0, "InitiateRequest tag 0x01")
        i = 1
        key = None
        if _byte(data, i, "dedicated-key flag"):
            size = _byte(data, i + 1, "dedicated-key length")
            if len(data) < i + 2 + size:
                raise fail(XdlmsError, "truncated dedicated key", i + 1, f"{size} bytes")
            key, i = bytes(data[i + 2:i + 2 + size]), i + 2 + size
        else:
            i += 1
        allowed = True
        if _byte(data, i, "response-allowed flag"):
            allowed, i = bool(_byte(data, i + 1, "response-allowed")), i + 2
        else:
            i += 1
        qos = None
        if _byte(data, i, "quality-of-service flag"):
            qos, i = _byte(data, i + 1, "quality-of-service"), i + 2
        else:
            i += 1
        version = _byte(data, i, "dlms version")
        conformance = _read_conformance(data, i + 1)
        if len(data) != i + 10:
            raise fail(XdlmsError, f"InitiateRequest of {len(data)} bytes",
                       min(i + 10, len(data)), f"{i + 10} bytes ending with the max PDU size")
        size = int.from_bytes(data[i + 8:i + 10], "big")
        return cls(conformance, size, version, key, allowed, qos)


@dataclass(frozen=True)
class InitiateResponse:
    """xDLMS InitiateResponse: the negotiated conformance and the server's max PDU size."""

    conformance: Conformance | int
    max_receive_pdu_size: int
    dlms_version: int = 6
    quality_of_service: int | None = None
    vaa_name: int = LN_VAA_NAME

    def encode(self) -> bytes:
        """The APDU bytes (tag 0x08)."""
        qos = b"\x00" if self.quality_of_service is None else b"\x01" + _u(
            self.quality_of_service, "quality of service")
        return (bytes((INITIATE_RESPONSE,)) + qos + _u(self.dlms_version, "dlms version")
                + _conformance(self.conformance)
                + _u(self.max_receive_pdu_size, "max receive PDU size", 2)
                + _u(self.vaa_name, "vaa-name", 2))

    @classmethod
    def decode(cls, data: bytes) -> InitiateResponse:
        """Parse an InitiateResponse, tag included."""
        if _byte(data, 0, "tag") != INITIATE_RESPONSE:
            raise fail(XdlmsError, f"tag 0x{data[0]:02X}", 0, "InitiateResponse tag 0x08")
        qos = None
        i = 1
        if _byte(data, i, "quality-of-service flag"):
            qos, i = _byte(data, i + 1, "quality-of-service"), i + 2
        else:
            i += 1
        version = _byte(data, i, "dlms version")
        conformance = _read_conformance(data, i + 1)
        if len(data) != i + 12:
            raise fail(XdlmsError, f"InitiateResponse of {len(data)} bytes",
                       min(i + 12, len(data)), f"{i + 12} bytes ending with the vaa-name")
        return cls(conformance, int.from_bytes(data[i + 8:i + 10], "big"), version, qos,
                   int.from_bytes(data[i + 10:i + 12], "big"))
