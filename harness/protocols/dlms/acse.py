"""ACSE APDUs of DLMS/COSEM (Green Book 9.4.2, BER encoded): AARQ, AARE, RLRQ, RLRE.

The application context name says logical-name referencing with or without ciphering; the
mechanism name says the authentication (lowest, low = password, high with GMAC = 5, ...).
``user_information`` holds the xDLMS APDU inside: an InitiateRequest/InitiateResponse, a
ConfirmedServiceError, or a CipheredApdu (glo-initiate...) to decipher with :mod:`.security`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.protocols.dlms.ber import encode_tlv, read_tlvs
from harness.protocols.dlms.errors import DlmsError, XdlmsError, fail, uint_bytes
from harness.protocols.dlms.initiate import (
    INITIATE_REQUEST,
    INITIATE_RESPONSE,
    InitiateRequest,
    InitiateResponse,
)
from harness.protocols.dlms.security import SERVICE_SPECIFIC_TAGS, CipheredApdu
from harness.protocols.dlms.xdlms import (
    CONFIRMED_SERVICE_ERROR,
    ConfirmedServiceError,
    decode_xdlms,
)

__all__ = ["AARE", "AARQ", "RLRE", "RLRQ", "ApplicationContext", "AssociationResult",
           "Mechanism", "UserInformation", "decode_acse"]

AARQ_TAG, AARE_TAG, RLRQ_TAG, RLRE_TAG = 0x60, 0x61, 0x62, 0x63
_CONTEXT_PREFIX = bytes((0x60, 0x85, 0x74, 0x05, 0x08, 0x01))
_MECHANISM_PREFIX = bytes((0x60, 0x85, 0x74, 0x05, 0x08, 0x02))
_AUTHENTICATION_REQUIREMENT = bytes((0x07, 0x80))  # BIT STRING: 7 unused bits, bit 0 set


class ApplicationContext(enum.IntEnum):
    """Application context names {2 16 756 5 8 1 x}."""

    LN = 1
    SN = 2
    LN_CIPHERED = 3
    SN_CIPHERED = 4


class Mechanism(enum.IntEnum):
    """Authentication mechanism names {2 16 756 5 8 2 x}."""

    LOWEST = 0
    LOW = 1
    HIGH = 2
    HIGH_MD5 = 3
    HIGH_SHA1 = 4
    HIGH_GMAC = 5
    HIGH_SHA256 = 6
    HIGH_ECDSA = 7


class AssociationResult(enum.IntEnum):
    """AARE result."""

    ACCEPTED = 0
    REJECTED_PERMANENT = 1
    REJECTED_TRANSIENT = 2


UserInformation = InitiateRequest | InitiateResponse | ConfirmedServiceError | CipheredApdu


def _byte(value: int, what: str) -> bytes:
    return uint_bytes(XdlmsError, int(value) if isinstance(value, enum.IntEnum) else value, 1,
                      what)


def _encode_user_information(content: UserInformation | None) -> bytes:
    if content is None:
        return b""
    return encode_tlv(0xBE, encode_tlv(0x04, content.encode()))


def _decode_user_information(value: bytes, at: int) -> UserInformation:
    items = read_tlvs(value, base=at)
    if len(items) != 1 or items[0][0] != 0x04 or not items[0][1]:
        raise fail(XdlmsError, "user-information is not one octet string", at,
                   "04 <length> <xDLMS APDU>")
    inner = items[0][1]
    try:
        if inner[0] == INITIATE_REQUEST:
            return InitiateRequest.decode(inner)
        if inner[0] == INITIATE_RESPONSE:
            return InitiateResponse.decode(inner)
        if inner[0] == CONFIRMED_SERVICE_ERROR:
            error = decode_xdlms(inner)
            if isinstance(error, ConfirmedServiceError):
                return error
        if inner[0] in SERVICE_SPECIFIC_TAGS:
            return CipheredApdu.decode(inner)
    except DlmsError as error:
        where = items[0][2] + (error.offset or 0)
        raise XdlmsError(f"apdu: user-information: {error}", offset=where,
                         expected=error.expected) from None
    raise fail(XdlmsError, f"user-information APDU tag 0x{inner[0]:02X}", items[0][2],
               "InitiateRequest/Response, confirmed-service-error or a glo-ciphered one")


def _oid(prefix: bytes, value: bytes, at: int, what: str) -> int:
    if len(value) != 7 or value[:6] != prefix:
        raise fail(XdlmsError, f"{what} {value.hex(' ')}", at,
                   f"{prefix.hex(' ')} <x> (an object identifier of DLMS UA)")
    return value[6]


def _context_tlv(tag: int, context: ApplicationContext | int) -> bytes:
    name = _CONTEXT_PREFIX + _byte(context, "application context")
    return encode_tlv(tag, encode_tlv(0x06, name))


def _read_context(value: bytes, at: int) -> int:
    items = read_tlvs(value, base=at)
    if len(items) != 1 or items[0][0] != 0x06:
        raise fail(XdlmsError, "application context name", at, "06 07 <object identifier>")
    return _oid(_CONTEXT_PREFIX, items[0][1], items[0][2], "application context name")


def _auth_value(value: bytes, at: int) -> bytes:
    items = read_tlvs(value, base=at)
    if len(items) != 1 or items[0][0] not in (0x80, 0x81):
        raise fail(XdlmsError, "authentication value", at, "80 <length> <charstring>")
    return items[0][1]


def _title(value: bytes, at: int) -> bytes:
    items = read_tlvs(value, base=at)
    if len(items) != 1 or items[0][0] != 0x04:
        raise fail(XdlmsError, "AP title", at, "04 <length> <system title>")
    return items[0][1]


def _body(data: bytes, tag: int, name: str) -> list[tuple[int, bytes, int]]:
    items = read_tlvs(data)
    if len(items) != 1 or items[0][0] != tag:
        raise fail(XdlmsError, f"not one {name}", 0, f"tag 0x{tag:02X} filling the APDU")
    return read_tlvs(data, items[0][2])


@dataclass(frozen=True)
class AARQ:
    """Association request: context, authentication, the client's system title and the
    (possibly ciphered) InitiateRequest.  ``authentication_value`` is the LLS password or the
    HLS challenge client-to-server."""

    user_information: UserInformation | None
    context: ApplicationContext | int = ApplicationContext.LN
    mechanism: Mechanism | int | None = None
    authentication_value: bytes | None = None
    calling_ap_title: bytes | None = None

    def encode(self) -> bytes:
        """The BER bytes (tag 0x60)."""
        body = _context_tlv(0xA1, self.context)
        if self.calling_ap_title is not None:
            body += encode_tlv(0xA6, encode_tlv(0x04, self.calling_ap_title))
        if self.mechanism is not None:
            body += encode_tlv(0x8A, _AUTHENTICATION_REQUIREMENT)
            body += encode_tlv(0x8B, _MECHANISM_PREFIX + _byte(self.mechanism, "mechanism"))
        if self.authentication_value is not None:
            body += encode_tlv(0xAC, encode_tlv(0x80, self.authentication_value))
        body += _encode_user_information(self.user_information)
        return encode_tlv(AARQ_TAG, body)

    @classmethod
    def decode(cls, data: bytes) -> AARQ:
        """Parse an AARQ; unknown optional fields are skipped."""
        context = mechanism = None
        value = title = user = None
        for tag, field, at in _body(data, AARQ_TAG, "AARQ"):
            if tag == 0xA1:
                context = _read_context(field, at)
            elif tag == 0xA6:
                title = _title(field, at)
            elif tag == 0x8B:
                mechanism = _oid(_MECHANISM_PREFIX, field, at, "mechanism name")
            elif tag == 0xAC:
                value = _auth_value(field, at)
            elif tag == 0xBE:
                user = _decode_user_information(field, at)
        if context is None:
            raise fail(XdlmsError, "AARQ without application context name", 0, "field A1")
        return cls(user, _enum(ApplicationContext, context),
                   None if mechanism is None else _enum(Mechanism, mechanism), value, title)


@dataclass(frozen=True)
class AARE:
    """Association response: result, diagnostic (``diagnostic_source`` 1 = acse-service-user,
    2 = acse-service-provider), the server's system title and challenge (HLS), and the
    InitiateResponse or ConfirmedServiceError."""

    result: AssociationResult | int
    diagnostic: int
    user_information: UserInformation | None
    context: ApplicationContext | int = ApplicationContext.LN
    diagnostic_source: int = 1
    mechanism: Mechanism | int | None = None
    authentication_value: bytes | None = None
    responding_ap_title: bytes | None = None

    def encode(self) -> bytes:
        """The BER bytes (tag 0x61)."""
        body = _context_tlv(0xA1, self.context)
        body += encode_tlv(0xA2, encode_tlv(0x02, _byte(self.result, "result")))
        diagnostic = encode_tlv(0x02, _byte(self.diagnostic, "diagnostic"))
        body += encode_tlv(0xA3, encode_tlv(0xA0 | self.diagnostic_source, diagnostic))
        if self.responding_ap_title is not None:
            body += encode_tlv(0xA4, encode_tlv(0x04, self.responding_ap_title))
        if self.mechanism is not None:
            body += encode_tlv(0x88, _AUTHENTICATION_REQUIREMENT)
            body += encode_tlv(0x89, _MECHANISM_PREFIX + _byte(self.mechanism, "mechanism"))
        if self.authentication_value is not None:
            body += encode_tlv(0xAA, encode_tlv(0x80, self.authentication_value))
        body += _encode_user_information(self.user_information)
        return encode_tlv(AARE_TAG, body)

    @classmethod
    def decode(cls, data: bytes) -> AARE:
        """Parse an AARE; unknown optional fields are skipped."""
        context = result = diagnostic = mechanism = None
        source = 1
        value = title = user = None
        for tag, field, at in _body(data, AARE_TAG, "AARE"):
            if tag == 0xA1:
                context = _read_context(field, at)
            elif tag == 0xA2:
                result = _small_integer(field, at, "result")
            elif tag == 0xA3:
                items = read_tlvs(field, base=at)
                if len(items) != 1 or items[0][0] not in (0xA1, 0xA2):
                    raise fail(XdlmsError, "result-source-diagnostic", at,
                               "A1 (acse-service-user) or A2 (acse-service-provider)")
                source = items[0][0] & 0x0F
                diagnostic = _small_integer(items[0][1], at, "diagnostic")
            elif tag == 0xA4:
                title = _title(field, at)
            elif tag == 0x89:
                mechanism = _oid(_MECHANISM_PREFIX, field, at, "mechanism name")
            elif tag == 0xAA:
                value = _auth_value(field, at)
            elif tag == 0xBE:
                user = _decode_user_information(field, at)
        if context is None or result is None or diagnostic is None:
            raise fail(XdlmsError, "AARE without context name, result or diagnostic", 0,
                       "fields A1, A2 and A3")
        return cls(_enum(AssociationResult, result), diagnostic, user,
                   _enum(ApplicationContext, context), source,
                   None if mechanism is None else _enum(Mechanism, mechanism), value, title)


def _small_integer(value: bytes, at: int, what: str) -> int:
    items = read_tlvs(value, base=at)
    if len(items) != 1 or items[0][0] != 0x02 or len(items[0][1]) != 1:
        raise fail(XdlmsError, what, at, "02 01 <value>")
    return items[0][1][0]


def _enum(kind: type[enum.IntEnum], value: int) -> int:
    try:
        return kind(value)
    except ValueError:
        return value


@dataclass(frozen=True)
class RLRQ:
    """Release request: reason (0 normal, 1 urgent, 30 user-defined), optional user info."""

    reason: int | None = 0
    user_information: UserInformation | None = None

    def encode(self) -> bytes:
        """The BER bytes (tag 0x62)."""
        body = b"" if self.reason is None else encode_tlv(0x80, _byte(self.reason, "reason"))
        return encode_tlv(RLRQ_TAG, body + _encode_user_information(self.user_information))

    @classmethod
    def decode(cls, data: bytes) -> RLRQ:
        """Parse an RLRQ."""
        reason, user = _release_fields(data, RLRQ_TAG, "RLRQ")
        return cls(reason, user)


@dataclass(frozen=True)
class RLRE:
    """Release response: reason (0 normal, 1 not-finished, 30 user-defined), user info."""

    reason: int | None = 0
    user_information: UserInformation | None = None

    def encode(self) -> bytes:
        """The BER bytes (tag 0x63)."""
        body = b"" if self.reason is None else encode_tlv(0x80, _byte(self.reason, "reason"))
        return encode_tlv(RLRE_TAG, body + _encode_user_information(self.user_information))

    @classmethod
    def decode(cls, data: bytes) -> RLRE:
        """Parse an RLRE."""
        reason, user = _release_fields(data, RLRE_TAG, "RLRE")
        return cls(reason, user)


def _release_fields(data: bytes, tag: int, name: str) -> tuple[int | None,
                                                               UserInformation | None]:
    reason = user = None
    for field_tag, field, at in _body(data, tag, name):
        if field_tag == 0x80:
            if len(field) != 1:
                raise fail(XdlmsError, f"{name} reason of {len(field)} bytes", at, "1 byte")
            reason = field[0]
        elif field_tag == 0xBE:
            user = _decode_user_information(field, at)
    return reason, user


def decode_acse(data: bytes) -> AARQ | AARE | RLRQ | RLRE:
    """Decode whichever ACSE APDU ``data`` is."""
    tag = data[0] if data else None
    if tag == AARQ_TAG:
        return AARQ.decode(data)
    if tag == AARE_TAG:
        return AARE.decode(data)
    if tag == RLRQ_TAG:
        return RLRQ.decode(data)
    if tag == RLRE_TAG:
        return RLRE.decode(data)
    raise fail(XdlmsError, f"tag {data[:1].hex() or 'missing'}", 0,
               "AARQ 60, AARE 61, RLRQ 62 or RLRE 63")
