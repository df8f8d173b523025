"""ACSE and xDLMS APDUs against published encodings, built from fields and parsed back.

Sources of the vectors:
  [GREEN BOOK] DLMS UA 1000-2 (Green Book) Ed. 10 encoding examples of AARQ/AARE (page 444,
      as cited and reproduced in github.com/u9n/dlms-cosem tests/test_asce/test_aarq.py and
      test_aare.py), with the security example keys for the ciphered AARQ.
  [KMETHY] "Examples for DLMS/COSEM information exchange" (DLMS UA FAQ), section 2: the AARQ
      with max receive PDU size 0xFFFF and conformance 00 30 1D.
  [DLMS-COSEM] github.com/u9n/dlms-cosem tests: test_asce/test_rlrq.py, test_rlre.py,
      test_xdlms/test_initiate.py, test_get.py, test_set.py, test_action.py,
      test_selective_access.py (APDUs captured from meters).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    ActionRequest,
    ActionResponse,
    ApplicationContext,
    AssociationResult,
    AttributeDescriptor,
    BlockJoiner,
    CipheredApdu,
    ConfirmedServiceError,
    Conformance,
    Data,
    DataType,
    ExceptionResponse,
    GetRequest,
    GetRequestNext,
    GetRequestWithList,
    GetResponse,
    GetResponseBlock,
    GetResponseWithList,
    InitiateRequest,
    InitiateResponse,
    Mechanism,
    MethodDescriptor,
    Obis,
    SelectiveAccess,
    SetRequest,
    SetRequestBlock,
    SetRequestFirstBlock,
    SetResponse,
    SetResponseBlock,
    SetResponseLastBlock,
    XdlmsError,
    decode_acse,
    decode_data,
    decode_xdlms,
    encode_data,
    protect,
    split_get_response,
    split_set_request,
)
from harness.protocols.dlms.xdlms import XdlmsApdu

H = bytes.fromhex
CONFORMANCE_7E1F = Conformance(0x007E1F)
PLAIN_INITIATE = InitiateRequest(CONFORMANCE_7E1F, 1200)
RESPONSE_501F = InitiateResponse(Conformance(0x00501F), 500)

AARQ_LOWEST = H("601DA109060760857405080101BE10040E01000000065F1F0400007E1F04B0")
AARQ_LLS = H("6036A1090607608574050801018A0207808B0760857405080201AC0A80083132333435363738BE10"
             "040E01000000065F1F0400007E1F04B0")
AARQ_HLS = H("6036A1090607608574050801018A0207808B0760857405080205AC0A80084B35366956616759BE10"
             "040E01000000065F1F0400007E1F04B0")
AARQ_CIPHERED_LLS = H(
    "6066A109060760857405080103A60A04084D4D4D0000BC614E8A0207808B0760857405080201AC0A800831"
    "32333435363738BE34043221303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B17"
    "5BD52211BE6841DB204D39EE6FDB8E356855")
AARE_ACCEPTED = H("6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F040000"
                  "501F01F40007")
AARE_BAD_CONTEXT = H("6129A109060760857405080101A203020101A305A103020102BE10040E0800065F1F04"
                     "0000501F01F40007")
AARE_VERSION_TOO_LOW = H("611FA109060760857405080101A203020101A305A103020101BE0604040E010601")
AARE_HLS = H("6142A109060760857405080101A203020100A305A10302010E8802078089076085740508020"
             "5AA0A8008503677524A323146BE10040E0800065F1F040000501F01F40007")


def test_green_book_aarq_lowest_level_security() -> None:
    """[GREEN BOOK] the plain AARQ: LN context, no authentication, InitiateRequest with
    conformance 00 7E 1F and max PDU size 1200."""
    assert AARQ(PLAIN_INITIATE).encode() == AARQ_LOWEST
    assert AARQ.decode(AARQ_LOWEST) == AARQ(PLAIN_INITIATE)


def test_green_book_aarq_low_and_high_level_security() -> None:
    """[GREEN BOOK] LLS with password "12345678"; HLS GMAC with challenge "K56iVagY"."""
    lls = AARQ(PLAIN_INITIATE, mechanism=Mechanism.LOW, authentication_value=b"12345678")
    assert lls.encode() == AARQ_LLS
    hls = AARQ(PLAIN_INITIATE, mechanism=Mechanism.HIGH_GMAC, authentication_value=b"K56iVagY")
    assert hls.encode() == AARQ_HLS
    assert decode_acse(AARQ_HLS) == hls


def test_green_book_ciphered_aarq_end_to_end() -> None:
    """[GREEN BOOK] LN-with-ciphering context, the client's system title and a glo-ciphered
    InitiateRequest carrying a dedicated key: built from plain fields and the example keys."""
    initiate = InitiateRequest(CONFORMANCE_7E1F | Conformance.PRIORITY_MGMT_SUPPORTED
                               | Conformance.ATTRIBUTE0_SUPPORTED_WITH_GET, 1200,
                               dedicated_key=H("00112233445566778899AABBCCDDEEFF"))
    assert initiate.encode() == H("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F"
                                  "04B0")
    title = H("4D4D4D0000BC614E")
    ciphered = protect(initiate.encode(), key=H("000102030405060708090A0B0C0D0E0F"),
                       auth_key=H("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"), system_title=title,
                       invocation_counter=0x01234567)
    aarq = AARQ(CipheredApdu.decode(ciphered), ApplicationContext.LN_CIPHERED, Mechanism.LOW,
                b"12345678", title)
    assert aarq.encode() == AARQ_CIPHERED_LLS
    assert AARQ.decode(AARQ_CIPHERED_LLS) == aarq


def test_kmethy_aarq() -> None:
    """[KMETHY] section 2: conformance 00 30 1D, max PDU size 0xFFFF."""
    wire = H("601DA109060760857405080101BE10040E01000000065F1F040000301DFFFF")
    assert AARQ(InitiateRequest(Conformance(0x301D), 0xFFFF)).encode() == wire


def test_green_book_aare_accepted_and_rejected() -> None:
    """[GREEN BOOK] accepted; rejected for the context name; rejected with a
    confirmed-service-error initiate / dlms-version-too-low; HLS with StoC "P6wRJ21F"."""
    assert AARE(AssociationResult.ACCEPTED, 0, RESPONSE_501F).encode() == AARE_ACCEPTED
    assert AARE(AssociationResult.REJECTED_PERMANENT, 2, RESPONSE_501F).encode() == \
        AARE_BAD_CONTEXT
    too_low = AARE(AssociationResult.REJECTED_PERMANENT, 1, ConfirmedServiceError(1, 6, 1))
    assert too_low.encode() == AARE_VERSION_TOO_LOW
    hls = AARE(AssociationResult.ACCEPTED, 14, RESPONSE_501F, mechanism=Mechanism.HIGH_GMAC,
               authentication_value=b"P6wRJ21F")
    assert hls.encode() == AARE_HLS
    for wire, value in [(AARE_ACCEPTED, None), (AARE_VERSION_TOO_LOW, too_low),
                        (AARE_HLS, hls)]:
        decoded = decode_acse(wire)
        assert decoded.encode() == wire
        assert value is None or decoded == value


@pytest.mark.parametrize("wire", [
    "6203800100", "6303800100", "6316800100be11040f080100065f1f0400001e1d04c80007",
    "6239800100be34043221303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD5"
    "2211BE6841DB204D39EE6FDB8E356855",
    "6328800100BE230421281F3001234567891214A0845E475714383F65BC19745CA235906525E4F3E1C893"])
def test_release_apdus(wire: str) -> None:
    """[DLMS-COSEM] test_rlrq.py, test_rlre.py (plain and glo-ciphered user-information)."""
    decoded = decode_acse(H(wire))
    assert isinstance(decoded, RLRQ | RLRE)
    assert decoded.reason == 0
    assert decoded.encode() == H(wire)
    assert RLRQ().encode() == H("6203800100")


@pytest.mark.parametrize(("wire", "value"), [
    ("01000000065F1F0400007E1F04B0", PLAIN_INITIATE),
    ("0800065F1F040000501F01F40007", RESPONSE_501F),
    ("080100065f1f0400001e1d04c80007",
     InitiateResponse(Conformance(0x1E1D), 1224, quality_of_service=0)),
])
def test_initiate_apdus(wire: str, value: InitiateRequest | InitiateResponse) -> None:
    """[DLMS-COSEM] test_initiate.py."""
    assert value.encode() == H(wire)
    assert type(value).decode(H(wire)) == value


CLOCK = Obis(0, 0, 1, 0, 0)
ASSOCIATION = Obis(0, 0, 40, 0, 0)
XDLMS_VECTORS: list[tuple[str, XdlmsApdu]] = [
    ("c001c100010000 2b0100ff0200",
     GetRequest(AttributeDescriptor(1, Obis(0, 0, 43, 1, 0), 2))),
    ("c002c100000001", GetRequestNext(1)),
    ("c401c1000600001391", GetResponse(Data(DataType.DOUBLE_LONG_UNSIGNED, 5009))),
    ("c401c10101", GetResponse(1)),
    ("c402c10100000013 0101", GetResponseBlock(True, 19, 1)),
    ("c101c100080000010000ff0200090c07e50118ff0e303950ffc400",
     SetRequest(AttributeDescriptor(8, CLOCK, 2),
                Data(DataType.OCTET_STRING, H("07e50118ff0e303950ffc400")))),
    ("c501c100", SetResponse(0)),
    ("c301c0000f0000280000ff0101091110 00001a90e6d2221fa2fd85eed61acc22",
     ActionRequest(MethodDescriptor(15, ASSOCIATION, 1),
                   Data(DataType.OCTET_STRING, H("1000001a90e6d2221fa2fd85eed61acc22")),
                   0xC0)),
    ("c301c0000f0000280000ff0100", ActionRequest(MethodDescriptor(15, ASSOCIATION, 1),
                                                 invoke=0xC0)),
    ("c701c00000", ActionResponse(0, invoke=0xC0)),
    ("c701c000010009111000001afde8857b728a3499106aa665d1",
     ActionResponse(0, Data(DataType.OCTET_STRING, H("1000001afde8857b728a3499106aa665d1")),
                    0xC0)),
    ("c701c0000101fa", ActionResponse(0, 250, 0xC0)),
]


@pytest.mark.parametrize(("wire", "value"), XDLMS_VECTORS)
def test_published_xdlms_apdus(wire: str, value: XdlmsApdu) -> None:
    """[DLMS-COSEM] test_get.py, test_set.py, test_action.py: built and parsed."""
    raw = H(wire.replace(" ", ""))
    assert value.encode() == raw
    assert decode_xdlms(raw) == value


LAST_BLOCK = H(
    "c402c101000000130082017c0600000654020400110606000005ed0600000654020400110606000005ed0600"
    "000654020400110606000005ed0600000654020400110606000005ed0600000654020400110606000005ed06"
    "00000654020400110606000005ed0600000654020400110606000005ed0600000654020400110606000005ed"
    "0600000654020400110606000005ed0600000654020400110606000005ed0600000654020400110606000005"
    "ed0600000654020400110606000005ed0600000654020400110606000005ed06000006540204001106060000"
    "05ed0600000654020400110606000005ed0600000654020400110606000005ed060000065402040011060600"
    "0005ed0600000654020400110606000005ed0600000654020400110606000005ed0600000654020400110606"
    "000005ed0600000654020400110606000005ed0600000654020400110606000005ed06000006540204001106"
    "06000005ed0600000654020400110606000005ed0600000654020400110606000005ed0600000654")


def test_get_response_last_datablock_from_a_meter() -> None:
    """[DLMS-COSEM] test_get.py (TestGetResponseLastBlock): block 19 of a profile buffer,
    0x17C raw bytes with the long length form."""
    block = decode_xdlms(LAST_BLOCK)
    assert isinstance(block, GetResponseBlock)
    assert (block.last_block, block.block_number, block.invoke) == (True, 19, 0xC1)
    assert isinstance(block.raw, bytes) and len(block.raw) == 0x17C
    assert block.encode() == LAST_BLOCK


def test_selective_access_by_range() -> None:
    """[DLMS-COSEM] test_selective_access.py (test_parse_range_descriptor): the 15-minute
    profile 1.0.99.1.0.255 buffer from 01.10.2017 00:00 to 01:00 by the clock column."""
    wire = H("c001c100070100630100ff0201010204020412000809060000010000ff0f02120000090c07e10a01"
             "0700000000ffc480090c07e10a010701000000ffc4800100")
    request = decode_xdlms(wire)
    assert isinstance(request, GetRequest)
    assert request.attribute == AttributeDescriptor(7, Obis(1, 0, 99, 1, 0), 2)
    assert request.access is not None and request.access.selector == 1
    restricting = request.access.parameters.value[0].value
    assert restricting[1] == Data(DataType.OCTET_STRING, bytes(CLOCK))
    assert request.encode() == wire


def test_exception_and_confirmed_service_error() -> None:
    """Green Book 9.5: exception-response D8 state-error service-error, and with an
    invocation-counter-error the expected counter; confirmed-service-error 0E."""
    assert ExceptionResponse(1, 2).encode() == H("d80102")
    with_counter = ExceptionResponse(1, 6, 0x1234)
    assert decode_xdlms(with_counter.encode()) == with_counter == decode_xdlms(
        H("d8010600001234"))
    assert decode_xdlms(H("0e050301")) == ConfirmedServiceError(5, 3, 1)
    with pytest.raises(XdlmsError, match="expected counter"):
        ExceptionResponse(1, 6).encode()


def test_set_with_datablocks_round_trip() -> None:
    attribute = AttributeDescriptor(64, Obis(0, 0, 43, 0, 0), 2)
    apdus: list[XdlmsApdu] = [
        SetRequestFirstBlock(attribute, False, 1, b"\x01" * 200),
        SetRequestBlock(True, 2, b"\x02" * 10), SetResponseBlock(1),
        SetResponseLastBlock(0, 2),
        GetRequest(attribute, SelectiveAccess(2, Data.structure(
            Data(DataType.DOUBLE_LONG_UNSIGNED, 1), Data(DataType.DOUBLE_LONG_UNSIGNED, 0),
            Data(DataType.LONG_UNSIGNED, 1), Data(DataType.LONG_UNSIGNED, 0))))]
    for apdu in apdus:
        assert decode_xdlms(apdu.encode()) == apdu


@pytest.mark.parametrize(("wire", "message"), [
    ("", "empty"), ("c003c1", "bad attribute list count"), ("c004c1", "not supported"),
    ("c6", "not supported"), ("c104c1", "not supported"),
    ("c001c10001", "truncated"), ("c401c1", "truncated"), ("c401c10600", "choice flag 6"),
    ("c501c10000", "after"),
    ("c001c100080000010000ff020207", "bad data|flag"), ("d801", "truncated"),
])
def test_malformed_xdlms(wire: str, message: str) -> None:
    with pytest.raises(XdlmsError, match=message):
        decode_xdlms(H(wire))


@pytest.mark.parametrize(("wire", "message"), [
    ("60", "missing BER length"), ("6003a10100", "missing BER length at byte 5"),
    ("6009a10706056085740508", "application context name 60 85 74 05 08 at byte 6"),
    ("610ba109060760857405080101", "without context name, result"),
    ("6005be03040101", "InitiateRequest|truncated"), ("64020000", "AARQ 60"),
    ("601fa109060760857405080101", "runs past"),
])
def test_malformed_acse(wire: str, message: str) -> None:
    with pytest.raises(XdlmsError, match=message):
        decode_acse(H(wire))


def test_values_that_do_not_fit_are_refused_when_encoding() -> None:
    with pytest.raises(XdlmsError, match="class id"):
        GetRequest(AttributeDescriptor(70000, CLOCK, 2)).encode()
    with pytest.raises(XdlmsError, match="block number"):
        GetRequestNext(2**32).encode()


descriptors = st.builds(AttributeDescriptor, st.integers(0, 65535),
                        st.tuples(*[st.integers(0, 255)] * 6).map(lambda g: Obis(*g)),
                        st.integers(0, 255))
simple_data = st.one_of(st.integers(0, 2**32 - 1).map(
    lambda v: Data(DataType.DOUBLE_LONG_UNSIGNED, v)), st.binary(max_size=40).map(
    lambda v: Data(DataType.OCTET_STRING, v)))
apdus = st.one_of(
    st.builds(GetRequest, descriptors, st.none() | st.builds(SelectiveAccess, st.integers(
        0, 255), simple_data), st.integers(0, 255)),
    st.builds(GetRequestNext, st.integers(0, 2**32 - 1), st.integers(0, 255)),
    st.builds(GetRequestWithList, st.lists(st.tuples(descriptors, st.none() | st.builds(
        SelectiveAccess, st.integers(0, 255), simple_data)), max_size=5).map(tuple)),
    st.builds(GetResponseWithList, st.lists(simple_data | st.integers(0, 255),
                                            max_size=5).map(tuple)),
    st.builds(GetResponse, simple_data | st.integers(0, 255), st.integers(0, 255)),
    st.builds(GetResponseBlock, st.booleans(), st.integers(0, 2**32 - 1),
              st.binary(max_size=300) | st.integers(0, 255), st.integers(0, 255)),
    st.builds(SetRequest, descriptors, simple_data),
    st.builds(ActionRequest, st.builds(MethodDescriptor, st.integers(0, 65535),
                                       st.just(CLOCK), st.integers(0, 255)),
              st.none() | simple_data),
    st.builds(ActionResponse, st.integers(0, 255), st.none() | simple_data | st.integers(
        0, 255)),
    st.builds(ExceptionResponse, st.integers(0, 255), st.integers(0, 255)).filter(
        lambda e: e.service_error != 6),
    st.builds(ExceptionResponse, st.integers(0, 255), st.just(6), st.integers(0, 2**32 - 1)))


@settings(max_examples=200, deadline=None)
@given(apdus)
def test_xdlms_round_trips(apdu: XdlmsApdu) -> None:
    assert decode_xdlms(apdu.encode()) == apdu


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Mechanism)) | st.none(), st.binary(max_size=64) | st.none(),
       st.binary(min_size=8, max_size=8) | st.none(), st.integers(0, 2**24 - 1),
       st.integers(0, 65535))
def test_aarq_round_trips(mechanism: Mechanism | None, value: bytes | None,
                          title: bytes | None, conformance: int, size: int) -> None:
    aarq = AARQ(InitiateRequest(conformance, size), ApplicationContext.LN, mechanism, value,
                title)
    assert AARQ.decode(aarq.encode()) == aarq


def test_get_blocks_split_and_join_back() -> None:
    value = Data.array(*[Data(DataType.DOUBLE_LONG_UNSIGNED, n) for n in range(100)])
    raw = encode_data(value)
    blocks = split_get_response(raw, 128)
    assert [b.block_number for b in blocks] == [1, 2, 3, 4]
    assert [b.last_block for b in blocks] == [False, False, False, True]
    joiner = BlockJoiner()
    results = [joiner.add(decode_xdlms(b.encode())) for b in blocks]  # type: ignore[arg-type]
    assert results[:-1] == [None] * 3
    assert isinstance(results[-1], bytes) and decode_data(results[-1]) == value


def test_block_joiner_checks_numbering_size_and_passes_refusals_on() -> None:
    joiner = BlockJoiner(max_length=100)
    assert joiner.add(GetResponseBlock(False, 1, b"x" * 60)) is None
    with pytest.raises(XdlmsError, match="block 3 out of sequence"):
        joiner.add(GetResponseBlock(False, 3, b"x"))
    assert joiner.add(GetResponseBlock(False, 1, b"x" * 60)) is None
    with pytest.raises(XdlmsError, match="exceeds 100"):
        joiner.add(GetResponseBlock(True, 2, b"x" * 60))
    assert joiner.add(GetResponseBlock(True, 1, 14)) == 14  # data-block-unavailable


def test_set_blocks_split_and_join_back() -> None:
    attribute = AttributeDescriptor(64, Obis(0, 0, 43, 0, 0), 2)
    raw = encode_data(Data(DataType.OCTET_STRING, bytes(range(256)) * 2))
    requests = split_set_request(attribute, raw, 200)
    assert isinstance(requests[0], SetRequestFirstBlock) and requests[0].attribute == attribute
    assert [type(r) for r in requests[1:]] == [SetRequestBlock, SetRequestBlock]
    joiner = BlockJoiner()
    assert [joiner.add(r) for r in requests][-1] == raw
    single = split_set_request(attribute, b"\x00", 200)
    assert len(single) == 1 and single[0].last_block


def test_gurux_aare_with_a_long_form_ber_length() -> None:
    """GXDLMSDirector trace (gist.github.com/knogi/f3d4853b936164882e5ed653498e7b61): an AARE
    whose length is in the long form 82 00 29; accepted, max PDU 1007, conformance 00 10 1D."""
    wire = H("618200 29A109060760857405080101A203020100A305A103020100BE10040E0800065F1F0400001"
             "01D03EF0007".replace(" ", ""))
    aare = decode_acse(wire)
    assert aare == AARE(AssociationResult.ACCEPTED, 0,
                        InitiateResponse(Conformance(0x101D), 1007))
    assert decode_acse(aare.encode()) == aare  # re-encoded in the short form


def test_green_book_conformance_examples() -> None:
    """Green Book Ed. 10 p. 437 conformance encodings (as reproduced in dlms-cosem
    tests/test_asce/test_conformance.py): 00 00 7E 1F and 00 00 50 1F."""
    full = (Conformance.PRIORITY_MGMT_SUPPORTED | Conformance.ATTRIBUTE0_SUPPORTED_WITH_GET
            | Conformance.BLOCK_TRANSFER_WITH_ACTION | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
            | Conformance.BLOCK_TRANSFER_WITH_SET_OR_WRITE | Conformance.MULTIPLE_REFERENCES
            | Conformance.GET | Conformance.SET | Conformance.SELECTIVE_ACCESS
            | Conformance.EVENT_NOTIFICATION | Conformance.ACTION)
    assert InitiateRequest(full, 1200).encode()[-5:-2] == H("007E1F")
    small = (Conformance.PRIORITY_MGMT_SUPPORTED | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
             | Conformance.GET | Conformance.SET | Conformance.SELECTIVE_ACCESS
             | Conformance.EVENT_NOTIFICATION | Conformance.ACTION)
    assert InitiateResponse.decode(H("0800065F1F040000501F01F40007")).conformance == small


@pytest.mark.parametrize(("name", "bit"), [
    ("GENERAL_PROTECTION", 1), ("GENERAL_BLOCK_TRANSFER", 2), ("READ", 3), ("WRITE", 4),
    ("UNCONFIRMED_WRITE", 5), ("DELTA_VALUE_ENCODING", 6), ("ATTRIBUTE0_SUPPORTED_WITH_SET", 8),
    ("PRIORITY_MGMT_SUPPORTED", 9), ("ATTRIBUTE0_SUPPORTED_WITH_GET", 10),
    ("BLOCK_TRANSFER_WITH_GET_OR_READ", 11), ("BLOCK_TRANSFER_WITH_SET_OR_WRITE", 12),
    ("BLOCK_TRANSFER_WITH_ACTION", 13), ("MULTIPLE_REFERENCES", 14), ("INFORMATION_REPORT", 15),
    ("DATA_NOTIFICATION", 16), ("ACCESS", 17), ("PARAMETERIZED_ACCESS", 18), ("GET", 19),
    ("SET", 20), ("SELECTIVE_ACCESS", 21), ("EVENT_NOTIFICATION", 22), ("ACTION", 23)])
def test_conformance_bit_positions(name: str, bit: int) -> None:
    """Green Book 9.5 ASN.1 ``Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING``: named
    bit n is the n-th bit on the wire, counted from the first byte's most significant bit."""
    wire = InitiateRequest(Conformance[name], 1200).encode()[-5:-2]
    assert int.from_bytes(wire, "big") == 1 << (23 - bit)


def test_get_request_with_list() -> None:
    """[DLMS-COSEM] test_get.py TestGetRequestWithList: 0.0.42.0.0.255 (data) and the clock."""
    wire = H("c003c1020001 00002a0000ff0200 0008 0000010000ff0200".replace(" ", ""))
    request = GetRequestWithList(((AttributeDescriptor(1, Obis(0, 0, 42, 0, 0), 2), None),
                                  (AttributeDescriptor(8, CLOCK, 2), None)))
    assert request.encode() == wire
    assert decode_xdlms(wire) == request


def test_get_response_with_list_from_meters() -> None:
    """[DLMS-COSEM] test_get.py: a serial number and the clock; nine results mixing
    long-unsigned values, a structure and a data-access-result."""
    two = H("c403c10200091049534b3130333037373737363433363600090c07e50603040e091700ffc400")
    response = decode_xdlms(two)
    assert response == GetResponseWithList((Data(DataType.OCTET_STRING, b"ISK1030777764366"),
                                            Data(DataType.OCTET_STRING,
                                                 H("07e50603040e091700ffc400"))))
    assert response.encode() == two
    nine = H("c403c109001200320012000000120000001200000012000000120000001208fe000207060190560b"
             "120326111111021200f01200011200000002051202d0120ca8111811200fc0")
    response = decode_xdlms(nine)
    assert isinstance(response, GetResponseWithList) and len(response.results) == 9
    assert response.results[0] == Data(DataType.LONG_UNSIGNED, 50)
    assert response.results[6] == Data(DataType.LONG_UNSIGNED, 0x08FE)
    assert response.encode() == nine
    assert decode_xdlms(H("c403c1020101 0101".replace(" ", ""))) == GetResponseWithList((1, 1))


def test_with_list_counts_are_bounded_by_the_apdu() -> None:
    with pytest.raises(XdlmsError, match="attribute list of 2 items in 10 bytes at byte 3"):
        decode_xdlms(H("c003c102000100002a0000ff0200"))
    with pytest.raises(XdlmsError, match="result list of 255"):
        decode_xdlms(H("c403c181ff0101"))
