"""xDLMS services with logical-name referencing (Green Book 9.3/9.5): GET, SET, ACTION,
exception-response and confirmed-service-error, encode and decode.

Every APDU is a frozen dataclass with ``encode()``; :func:`decode_xdlms` reads any of them.
``invoke`` is the Invoke-Id-And-Priority byte (default 0xC1: invoke-id 1, confirmed, high
priority).  A result that is an ``int`` is a Data-Access-Result (or Action-Result) code, a
:class:`~.axdr.Data` is a value.  GET-with-list is supported; SET- and ACTION-with-list are
not (an XdlmsError says so).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from harness.protocols.dlms.axdr import (
    Data,
    decode_data_at,
    decode_length,
    encode_data,
    encode_length,
)
from harness.protocols.dlms.errors import AxdrError, XdlmsError, fail, uint_bytes
from harness.protocols.dlms.obis import Obis

__all__ = ["ActionRequest", "ActionResponse", "AttributeDescriptor", "ConfirmedServiceError",
           "DataAccessResult", "ExceptionResponse", "GetRequest", "GetRequestNext",
           "GetRequestWithList", "GetResponse", "GetResponseBlock", "GetResponseWithList",
           "MethodDescriptor", "SelectiveAccess", "SetRequest", "SetRequestBlock",
           "SetRequestFirstBlock", "SetResponse", "SetResponseBlock", "SetResponseLastBlock",
           "XdlmsApdu", "decode_xdlms"]

GET_REQUEST, SET_REQUEST, ACTION_REQUEST = 0xC0, 0xC1, 0xC3
GET_RESPONSE, SET_RESPONSE, ACTION_RESPONSE = 0xC4, 0xC5, 0xC7
EXCEPTION_RESPONSE, CONFIRMED_SERVICE_ERROR = 0xD8, 0x0E
DEFAULT_INVOKE = 0xC1


class DataAccessResult(enum.IntEnum):
    """Data-Access-Result codes (the common ones; others decode as plain ints)."""

    SUCCESS = 0
    HARDWARE_FAULT = 1
    TEMPORARY_FAILURE = 2
    READ_WRITE_DENIED = 3
    OBJECT_UNDEFINED = 4
    OBJECT_CLASS_INCONSISTENT = 9
    OBJECT_UNAVAILABLE = 11
    TYPE_UNMATCHED = 12
    SCOPE_OF_ACCESS_VIOLATED = 13
    DATA_BLOCK_UNAVAILABLE = 14
    LONG_GET_ABORTED = 15
    NO_LONG_GET_IN_PROGRESS = 16
    LONG_SET_ABORTED = 17
    NO_LONG_SET_IN_PROGRESS = 18
    DATA_BLOCK_NUMBER_INVALID = 19
    OTHER_REASON = 250


class _Cursor:
    """Reads an APDU front to back; every shortfall is an XdlmsError at its offset."""

    def __init__(self, data: bytes, start: int = 0) -> None:
        self.data, self.i = data, start

    def take(self, size: int, what: str) -> bytes:
        """The next ``size`` bytes."""
        if self.i + size > len(self.data):
            raise fail(XdlmsError, f"truncated {what}", len(self.data),
                       f"{size} bytes from byte {self.i}")
        out = bytes(self.data[self.i:self.i + size])
        self.i += size
        return out

    def uint(self, size: int, what: str) -> int:
        """The next ``size`` bytes as a big-endian unsigned integer."""
        return int.from_bytes(self.take(size, what), "big")

    def flag(self, what: str) -> bool:
        """An OPTIONAL-present or CHOICE byte that must be 0 or 1."""
        value = self.uint(1, what)
        if value > 1:
            raise fail(XdlmsError, f"{what} flag {value}", self.i - 1, "0 or 1")
        return bool(value)

    def boolean(self, what: str) -> bool:
        """An A-XDR BOOLEAN: 0 is false, anything else true."""
        return self.uint(1, what) != 0

    def value(self) -> Data:
        """The next A-XDR Data value."""
        try:
            value, self.i = decode_data_at(self.data, self.i)
        except AxdrError as error:
            raise XdlmsError(f"apdu: bad data: {error}", offset=error.offset,
                             expected=error.expected) from None
        return value

    def octets(self, what: str) -> bytes:
        """An A-XDR length and that many bytes."""
        try:
            length, self.i = decode_length(self.data, self.i)
        except AxdrError as error:
            raise fail(XdlmsError, f"bad {what} length", error.offset, "an A-XDR length") \
                from None
        return self.take(length, what)

    def count(self, what: str, smallest: int) -> int:
        """A SEQUENCE OF count, refused if the rest of the APDU cannot hold that many items of
        at least ``smallest`` bytes (so a forged count cannot make us loop or allocate)."""
        at = self.i
        try:
            count, self.i = decode_length(self.data, self.i)
        except AxdrError as error:
            raise fail(XdlmsError, f"bad {what} count", error.offset, "an A-XDR length") \
                from None
        if count * smallest > len(self.data) - self.i:
            raise fail(XdlmsError, f"{what} of {count} items in {len(self.data) - self.i} "
                       "bytes", at, "a count the APDU can hold")
        return count

    def end(self, name: str) -> None:
        """Require that the APDU ends here."""
        if self.i != len(self.data):
            raise fail(XdlmsError, f"{len(self.data) - self.i} bytes after {name}", self.i,
                       "end of APDU")


def _u(value: int, size: int, what: str) -> bytes:
    return uint_bytes(XdlmsError, int(value) if isinstance(value, enum.IntEnum) else value,
                      size, what)


@dataclass(frozen=True)
class AttributeDescriptor:
    """Cosem-Attribute-Descriptor: interface class, logical name, attribute index."""

    class_id: int
    instance: Obis
    attribute: int

    def encode(self) -> bytes:
        """class-id (2), instance-id (6), attribute-id (1)."""
        return (_u(self.class_id, 2, "class id") + bytes(self.instance)
                + _u(self.attribute, 1, "attribute id"))

    @classmethod
    def read(cls, cursor: _Cursor) -> AttributeDescriptor:
        """Read one at the cursor."""
        class_id = cursor.uint(2, "class id")
        instance = Obis.from_bytes(cursor.take(6, "instance id"))
        return cls(class_id, instance, cursor.uint(1, "attribute id"))


@dataclass(frozen=True)
class MethodDescriptor:
    """Cosem-Method-Descriptor: interface class, logical name, method index."""

    class_id: int
    instance: Obis
    method: int

    def encode(self) -> bytes:
        """class-id (2), instance-id (6), method-id (1)."""
        return _u(self.class_id, 2, "class id") + bytes(self.instance) + _u(self.method, 1,
                                                                              "method id")

    @classmethod
    def read(cls, cursor: _Cursor) -> MethodDescriptor:
        """Read one at the cursor."""
        class_id = cursor.uint(2, "class id")
        instance = Obis.from_bytes(cursor.take(6, "instance id"))
        return cls(class_id, instance, cursor.uint(1, "method id"))


@dataclass(frozen=True)
class SelectiveAccess:
    """Selective-Access-Descriptor: selector (1 range, 2 entry for profile buffers) and its
    parameters as Data."""

    selector: int
    parameters: Data

    def encode(self) -> bytes:
        """``01 selector parameters`` (the optional present flag included)."""
        return b"\x01" + _u(self.selector, 1, "access selector") + encode_data(self.parameters)


def _access(cursor: _Cursor) -> SelectiveAccess | None:
    if not cursor.flag("access-selection"):
        return None
    selector = cursor.uint(1, "access selector")
    return SelectiveAccess(selector, cursor.value())


def _opt_access(access: SelectiveAccess | None) -> bytes:
    return b"\x00" if access is None else access.encode()


def _result(cursor: _Cursor) -> Data | int:
    """Get-Data-Result: 00 Data, or 01 Data-Access-Result."""
    if cursor.flag("result choice"):
        return cursor.uint(1, "data-access-result")
    return cursor.value()


def _encode_result(result: Data | int) -> bytes:
    if isinstance(result, Data):
        return b"\x00" + encode_data(result)
    return b"\x01" + _u(int(result), 1, "data-access-result")


@dataclass(frozen=True)
class GetRequest:
    """GET-Request-Normal: read one attribute, optionally with selective access."""

    attribute: AttributeDescriptor
    access: SelectiveAccess | None = None
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C0 01 invoke descriptor access``."""
        return (bytes((GET_REQUEST, 1)) + _u(self.invoke, 1, "invoke")
                + self.attribute.encode() + _opt_access(self.access))


@dataclass(frozen=True)
class GetRequestNext:
    """GET-Request-Next: ask for the next data block after ``block_number``."""

    block_number: int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C0 02 invoke block-number``."""
        return bytes((GET_REQUEST, 2)) + _u(self.invoke, 1, "invoke") + _u(
            self.block_number, 4, "block number")


@dataclass(frozen=True)
class GetResponse:
    """GET-Response-Normal: the value read, or a Data-Access-Result code."""

    result: Data | int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C4 01 invoke result``."""
        return bytes((GET_RESPONSE, 1)) + _u(self.invoke, 1, "invoke") + _encode_result(
            self.result)


@dataclass(frozen=True)
class GetResponseBlock:
    """GET-Response-With-Datablock: one block of the encoded value (``raw``), or an error."""

    last_block: bool
    block_number: int
    raw: bytes | int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C4 02 invoke last block-number (00 raw-data | 01 result)``."""
        head = (bytes((GET_RESPONSE, 2)) + _u(self.invoke, 1, "invoke")
                + bytes((1 if self.last_block else 0,)) + _u(self.block_number, 4,
                                                              "block number"))
        if isinstance(self.raw, bytes):
            return head + b"\x00" + encode_length(len(self.raw)) + self.raw
        return head + b"\x01" + _u(self.raw, 1, "data-access-result")


@dataclass(frozen=True)
class GetRequestWithList:
    """GET-Request-With-List: several attributes in one request, each with optional
    selective access."""

    attributes: tuple[tuple[AttributeDescriptor, SelectiveAccess | None], ...]
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C0 03 invoke count (descriptor access)*``."""
        out = bytes((GET_REQUEST, 3)) + _u(self.invoke, 1, "invoke")
        out += encode_length(len(self.attributes))
        for attribute, access in self.attributes:
            out += attribute.encode() + _opt_access(access)
        return out


@dataclass(frozen=True)
class GetResponseWithList:
    """GET-Response-With-List: one result per requested attribute (Data or an int
    Data-Access-Result), in request order."""

    results: tuple[Data | int, ...]
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C4 03 invoke count result*``."""
        return (bytes((GET_RESPONSE, 3)) + _u(self.invoke, 1, "invoke")
                + encode_length(len(self.results))
                + b"".join(_encode_result(result) for result in self.results))


@dataclass(frozen=True)
class SetRequest:
    """SET-Request-Normal: write one attribute."""

    attribute: AttributeDescriptor
    value: Data
    access: SelectiveAccess | None = None
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C1 01 invoke descriptor access value``."""
        return (bytes((SET_REQUEST, 1)) + _u(self.invoke, 1, "invoke") + self.attribute.encode()
                + _opt_access(self.access) + encode_data(self.value))


def _block_sa(last: bool, number: int, raw: bytes) -> bytes:
    return (bytes((1 if last else 0,)) + _u(number, 4, "block number") + encode_length(len(raw))
            + raw)


@dataclass(frozen=True)
class SetRequestFirstBlock:
    """SET-Request-With-First-Datablock: the descriptor and the first block of the value."""

    attribute: AttributeDescriptor
    last_block: bool
    block_number: int
    raw: bytes
    access: SelectiveAccess | None = None
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C1 02 invoke descriptor access DataBlock-SA``."""
        return (bytes((SET_REQUEST, 2)) + _u(self.invoke, 1, "invoke") + self.attribute.encode()
                + _opt_access(self.access) + _block_sa(self.last_block, self.block_number,
                                                       self.raw))


@dataclass(frozen=True)
class SetRequestBlock:
    """SET-Request-With-Datablock: a further block of the value."""

    last_block: bool
    block_number: int
    raw: bytes
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C1 03 invoke DataBlock-SA``."""
        return (bytes((SET_REQUEST, 3)) + _u(self.invoke, 1, "invoke")
                + _block_sa(self.last_block, self.block_number, self.raw))


@dataclass(frozen=True)
class SetResponse:
    """SET-Response-Normal: the Data-Access-Result (0 = success)."""

    result: int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C5 01 invoke result``."""
        return bytes((SET_RESPONSE, 1)) + _u(self.invoke, 1, "invoke") + _u(self.result, 1,
                                                                             "result")


@dataclass(frozen=True)
class SetResponseBlock:
    """SET-Response-Datablock: block ``block_number`` received, send the next."""

    block_number: int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C5 02 invoke block-number``."""
        return bytes((SET_RESPONSE, 2)) + _u(self.invoke, 1, "invoke") + _u(
            self.block_number, 4, "block number")


@dataclass(frozen=True)
class SetResponseLastBlock:
    """SET-Response-Last-Datablock: the result of the whole write after its last block."""

    result: int
    block_number: int
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C5 03 invoke result block-number``."""
        return (bytes((SET_RESPONSE, 3)) + _u(self.invoke, 1, "invoke")
                + _u(self.result, 1, "result") + _u(self.block_number, 4, "block number"))


@dataclass(frozen=True)
class ActionRequest:
    """ACTION-Request-Normal: invoke a method, with optional parameters."""

    method: MethodDescriptor
    parameters: Data | None = None
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C3 01 invoke descriptor (00 | 01 Data)``."""
        tail = b"\x00" if self.parameters is None else b"\x01" + encode_data(self.parameters)
        return (bytes((ACTION_REQUEST, 1)) + _u(self.invoke, 1, "invoke") + self.method.encode()
                + tail)


@dataclass(frozen=True)
class ActionResponse:
    """ACTION-Response-Normal: the Action-Result (0 = success) and optional return data
    (a Data, or an int Data-Access-Result)."""

    result: int
    data: Data | int | None = None
    invoke: int = DEFAULT_INVOKE

    def encode(self) -> bytes:
        """``C7 01 invoke result (00 | 01 Get-Data-Result)``."""
        tail = b"\x00" if self.data is None else b"\x01" + _encode_result(self.data)
        return (bytes((ACTION_RESPONSE, 1)) + _u(self.invoke, 1, "invoke")
                + _u(self.result, 1, "action result") + tail)


@dataclass(frozen=True)
class ExceptionResponse:
    """EXCEPTION-Response: the server could not handle the request at all.

    ``state_error``: 1 service-not-allowed, 2 service-unknown; ``service_error``: 1
    operation-not-possible, 2 service-not-supported, 3 other-reason, 4 pdu-too-long,
    5 deciphering-error, 6 invocation-counter-error (with the expected ``invocation_counter``).
    """

    state_error: int
    service_error: int
    invocation_counter: int | None = None

    def encode(self) -> bytes:
        """``D8 state-error service-error [invocation-counter]``."""
        out = bytes((EXCEPTION_RESPONSE,)) + _u(self.state_error, 1, "state error") + _u(
            self.service_error, 1, "service error")
        if self.service_error == 6:
            if self.invocation_counter is None:
                raise XdlmsError("apdu: an invocation-counter-error needs the expected counter",
                                 expected="invocation_counter")
            out += _u(self.invocation_counter, 4, "invocation counter")
        return out


@dataclass(frozen=True)
class ConfirmedServiceError:
    """Confirmed-ServiceError: which service failed (1 initiateError, 5 read, 6 write, ...),
    the ServiceError kind (6 initiate, 5 access, ...) and its value (e.g. initiate 1
    dlms-version-too-low)."""

    service: int
    error_type: int
    value: int

    def encode(self) -> bytes:
        """``0E service error-type value``."""
        return bytes((CONFIRMED_SERVICE_ERROR,)) + _u(self.service, 1, "service") + _u(
            self.error_type, 1, "error type") + _u(self.value, 1, "error value")


XdlmsApdu = (GetRequest | GetRequestNext | GetRequestWithList | GetResponse | GetResponseBlock
             | GetResponseWithList | SetRequest
             | SetRequestFirstBlock | SetRequestBlock | SetResponse | SetResponseBlock
             | SetResponseLastBlock | ActionRequest | ActionResponse | ExceptionResponse
             | ConfirmedServiceError)
"""Any APDU :func:`decode_xdlms` returns."""


def decode_xdlms(data: bytes) -> XdlmsApdu:
    """Decode one plain xDLMS APDU (GET/SET/ACTION request or response, exception-response,
    confirmed-service-error); anything else or anything malformed is an XdlmsError."""
    if not data:
        raise fail(XdlmsError, "empty APDU", 0, "an xDLMS APDU tag")
    tag = data[0]
    cursor = _Cursor(data, 1)
    if tag == EXCEPTION_RESPONSE:
        state, service = cursor.uint(1, "state error"), cursor.uint(1, "service error")
        counter = cursor.uint(4, "invocation counter") if service == 6 else None
        cursor.end("exception-response")
        return ExceptionResponse(state, service, counter)
    if tag == CONFIRMED_SERVICE_ERROR:
        apdu = ConfirmedServiceError(cursor.uint(1, "service"), cursor.uint(1, "error type"),
                                     cursor.uint(1, "error value"))
        cursor.end("confirmed-service-error")
        return apdu
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise fail(XdlmsError, f"APDU tag 0x{tag:02X} is not supported", 0,
                   "GET/SET/ACTION request or response, exception-response or "
                   "confirmed-service-error")
    kind = cursor.uint(1, "choice")
    invoke = cursor.uint(1, "invoke-id-and-priority")
    result = decoder(kind, invoke, cursor)
    if result is None:
        raise fail(XdlmsError, f"choice {kind} of APDU 0x{tag:02X} is not supported", 1,
                   "normal, datablock or (GET) with-list forms")
    cursor.end(type(result).__name__)
    return result


def _get_request(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind == 1:
        return GetRequest(AttributeDescriptor.read(c), _access(c), invoke)
    if kind == 2:
        return GetRequestNext(c.uint(4, "block number"), invoke)
    if kind == 3:
        items = []
        for _ in range(c.count("attribute list", 10)):
            attribute = AttributeDescriptor.read(c)
            items.append((attribute, _access(c)))
        return GetRequestWithList(tuple(items), invoke)
    return None


def _get_response(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind == 1:
        return GetResponse(_result(c), invoke)
    if kind == 2:
        last, number = c.boolean("last-block"), c.uint(4, "block number")
        raw: bytes | int = (c.uint(1, "data-access-result") if c.flag("raw-data choice")
                            else c.octets("raw-data"))
        return GetResponseBlock(last, number, raw, invoke)
    if kind == 3:
        return GetResponseWithList(tuple(_result(c) for _ in range(c.count("result list", 2))),
                                   invoke)
    return None


def _set_request(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind == 1:
        attribute, access = AttributeDescriptor.read(c), _access(c)
        return SetRequest(attribute, c.value(), access, invoke)
    if kind == 2:
        attribute, access = AttributeDescriptor.read(c), _access(c)
        last, number = c.boolean("last-block"), c.uint(4, "block number")
        return SetRequestFirstBlock(attribute, last, number, c.octets("raw-data"), access,
                                    invoke)
    if kind == 3:
        last, number = c.boolean("last-block"), c.uint(4, "block number")
        return SetRequestBlock(last, number, c.octets("raw-data"), invoke)
    return None


def _set_response(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind == 1:
        return SetResponse(c.uint(1, "result"), invoke)
    if kind == 2:
        return SetResponseBlock(c.uint(4, "block number"), invoke)
    if kind == 3:
        result = c.uint(1, "result")
        return SetResponseLastBlock(result, c.uint(4, "block number"), invoke)
    return None


def _action_request(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind != 1:
        return None
    method = MethodDescriptor.read(c)
    return ActionRequest(method, c.value() if c.flag("parameters") else None, invoke)


def _action_response(kind: int, invoke: int, c: _Cursor) -> XdlmsApdu | None:
    if kind != 1:
        return None
    result = c.uint(1, "action result")
    return ActionResponse(result, _result(c) if c.flag("return data") else None, invoke)


_DECODERS = {GET_REQUEST: _get_request, GET_RESPONSE: _get_response,
             SET_REQUEST: _set_request, SET_RESPONSE: _set_response,
             ACTION_REQUEST: _action_request, ACTION_RESPONSE: _action_response}
