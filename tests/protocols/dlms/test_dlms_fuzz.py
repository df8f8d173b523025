"""Hostile bytes into every DLMS decoder: only DlmsErrors (ProtocolErrors) escape, never an
IndexError, struct.error, UnicodeDecodeError or a cryptography exception.

Seeds are the published vectors of the other test files, mutated; bounded for CI.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRQ,
    ActionRequest,
    AttributeDescriptor,
    CipheredApdu,
    Control,
    CosemDateTime,
    DlmsError,
    ExceptionResponse,
    GetRequest,
    GetRequestNext,
    HdlcFrame,
    HdlcParameters,
    HdlcReader,
    InitiateRequest,
    InitiateResponse,
    MethodDescriptor,
    Obis,
    decode_acse,
    decode_data,
    decode_xdlms,
    strip_llc,
    unprotect,
)
from harness.protocols.dlms.axdr import decode_length
from harness.protocols.dlms.hdlc_fields import decode_address

H = bytes.fromhex
SEEDS = [
    H("7EA00A00020023219318717E"),
    H("7EA023210002002373F6C58180140502008006020080070400000001080400000001CE6A7E"),
    H("7EA0382102233034E7E6E7006129A109060760857405080101A203020100A305A103020100BE10040E0800"
      "065F1F0400001E1D04C80007B86A7E"),
    H("601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0"),
    H("6142A109060760857405080101A203020100A305A10302010E88020780890760857405080205AA0A800850"
      "3677524A323146BE10040E0800065F1F040000501F01F40007"),
    H("6328800100BE230421281F3001234567891214A0845E475714383F65BC19745CA235906525E4F3E1C893"),
    H("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"),
    H("c001c100070100630100ff0201010204020412000809060000010000ff0f02120000090c07e10a0107000000"
      "00ffc480090c07e10a010701000000ffc4800100"),
    H("c402c101000000130082017c0600000654020400110606000005ed"),
    H("c701c000010009111000001afde8857b728a3499106aa665d1"),
    H("02051202d0120ca811121 11e0fc0".replace(" ", "")),
    H("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0"),
    H("0800065F1F040000501F01F40007"), H("81801205019A06019A070400000001080400000001"),
    H("d8010600001234"), H("0e010601"),
]
TOKENS = [b"\x7e", b"\xa0", b"\xa8", b"\x81", b"\x82\xff\xff", b"\x84\xff\xff\xff\xff", b"\x01",
          b"\x02", b"\x09", b"\x13", b"\xff" * 4, b"\x00", b"\xbe", b"\x5f\x1f", b"\xdb\x08"]
KEY = bytes(range(16))


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """A published vector with a few bytes or tokens swapped in, or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 4)))
        data[at:end] = draw(st.sampled_from(TOKENS) | st.binary(max_size=3))
    return bytes(data)


def _reader(data: bytes) -> None:
    reader = HdlcReader(max_length=128)
    for i in range(0, len(data) + 1, 5):
        with contextlib.suppress(DlmsError):
            reader.feed(data[i:i + 5])
    assert len(reader.pending) <= 128 + 5


def _unprotect(data: bytes) -> None:
    unprotect(data, key=KEY, auth_key=KEY, system_title=b"MMM\x00\x00\x00\x00\x01")


DECODERS: dict[str, Callable[[bytes], object]] = {
    "hdlc frame": HdlcFrame.decode, "hdlc reader": _reader,
    "hdlc parameters": HdlcParameters.decode, "llc": lambda d: strip_llc(d, response=True),
    "control": lambda d: Control.decode(d[0]) if d else None,
    "address": lambda d: decode_address(d, 0), "a-xdr data": decode_data,
    "a-xdr length": lambda d: decode_length(d, 0),
    "date-time": CosemDateTime.from_bytes,
    "date-time value": lambda d: CosemDateTime.from_bytes(d[:12]).to_datetime(),
    "xdlms": decode_xdlms, "acse": decode_acse, "initiate request": InitiateRequest.decode,
    "initiate response": InitiateResponse.decode, "ciphered framing": CipheredApdu.decode,
    "unprotect": _unprotect, "obis bytes": Obis.from_bytes,
    "obis text": lambda d: Obis.parse(d.decode("latin-1")),
}


@pytest.mark.parametrize("name", sorted(DECODERS))
@settings(max_examples=80, deadline=None)
@given(data=hostile())
def test_only_dlms_errors_escape(name: str, data: bytes) -> None:
    with contextlib.suppress(DlmsError):
        DECODERS[name](data)


def test_the_seeds_are_valid_for_some_decoder() -> None:
    """The fuzz is not vacuous: every seed decodes cleanly somewhere."""
    for seed in SEEDS:
        ok = 0
        for decoder in DECODERS.values():
            try:
                decoder(seed)
                ok += 1
            except DlmsError:
                pass
        assert ok, seed.hex()


any_int = st.integers(-(2**33), 2**33)
ENCODERS: dict[str, st.SearchStrategy[Callable[[], bytes]]] = {
    "initiate request": st.builds(lambda c, s, v, q: InitiateRequest(c, s, v, None, True,
                                                                     q).encode,
                                  any_int, any_int, any_int, any_int | st.none()),
    "initiate response": st.builds(lambda c, s, v, n: InitiateResponse(c, s, v, None, n).encode,
                                   any_int, any_int, any_int, any_int),
    "aarq": st.builds(lambda c, m: AARQ(None, c, m).encode, any_int, any_int),
    "aare": st.builds(lambda r, d, s: AARE(r, d, None, diagnostic_source=s).encode, any_int,
                      any_int, st.integers(1, 2)),
    "rlrq": st.builds(lambda r: RLRQ(r).encode, any_int),
    "get": st.builds(lambda c, a, i: GetRequest(AttributeDescriptor(c, Obis(0, 0, 1, 0, 0),
                                                                    a), None, i).encode,
                     any_int, any_int, any_int),
    "get next": st.builds(lambda b, i: GetRequestNext(b, i).encode, any_int, any_int),
    "action": st.builds(lambda c, m: ActionRequest(MethodDescriptor(c, Obis(0, 0, 1, 0, 0),
                                                                    m)).encode, any_int, any_int),
    "exception": st.builds(lambda a, b, c: ExceptionResponse(a, b, c).encode, any_int, any_int,
                           any_int),
    "ciphered": st.builds(lambda t, s, c: CipheredApdu(t, s, c, b"").encode, any_int, any_int,
                          any_int),
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_encoders_refuse_bad_fields_with_dlms_errors(name: str, data: st.DataObject) -> None:
    encode = data.draw(ENCODERS[name])
    with contextlib.suppress(DlmsError):
        encode()
