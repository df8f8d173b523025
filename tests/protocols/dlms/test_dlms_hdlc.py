"""HDLC frame format type 3 (IEC 62056-46) against published frames, plus round trips.

Sources of the vectors:
  [KMETHY] "Examples for DLMS/COSEM information exchange", prepared by Gyozo Kmethy for the
      DLMS User Association (DLMS UA FAQ "Are examples for information exchange available?"),
      section 1 (SNRM/UA with parameter negotiation) and 2 (AARQ/AARE exchange).
  [DLMS-COSEM] github.com/u9n/dlms-cosem (formerly pwitab/dlms-cosem), tests/test_hdlc/
      test_hdlc.py: frames captured from meters (TestSnrmFrame, TestUAFrame,
      TestInformationFrame, TestInformationResponseFrame, test_find_4_byte_address,
      TestHdlcAddress, TestFiorentiniLocal, TestCrc).
  [RFC1662] RFC 1662 appendix C: FCS-16; the CRC-16/X.25 check value 0x906E.
  [GURUX-DIRECTOR], [GURUX-PYTHON], [AMSREADER]: published traces of Gurux clients and a
      Kamstrup meter, see the comment above GURUX_SESSION.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.dlms import (
    Control,
    FrameKind,
    HdlcAddress,
    HdlcError,
    HdlcFrame,
    HdlcParameters,
    HdlcReader,
    Reassembler,
    SequenceNumbers,
    add_llc,
    apdu_frames,
    fcs16,
    segment,
    strip_llc,
)
from harness.protocols.dlms.crc import fcs16_bytes
from harness.protocols.dlms.hdlc_fields import decode_address

CLIENT = HdlcAddress(0x10)  # the public client: 0x21 on the wire
SERVER_2 = HdlcAddress(1, 17)  # upper 1, lower 17 in 2 bytes: 02 23
SERVER_4 = HdlcAddress(1, 17, size=4)  # 00 02 00 23

# [KMETHY] section 1 and 2
KMETHY_SNRM = bytes.fromhex("7EA00A00020023219318717E")
KMETHY_UA = bytes.fromhex("7EA023210002002373F6C58180140502008006020080070400000001080400000001"
                          "CE6A7E")
KMETHY_AARQ_I = bytes.fromhex("7EA02E0002002321107ECBE6E600601DA109060760857405080101BE10040E"
                              "01000000065F1F040000301DFFFFD4C57E")
# [DLMS-COSEM] TestSnrmFrame, TestUAFrame, TestInformationFrame, TestInformationResponseFrame
DC_SNRM = bytes.fromhex("7ea00802232193bd647e")
DC_UA = bytes.fromhex("7EA01F21022373E6C781801205019A06019A070400000001080400000001CCA27E")
DC_AARQ_I = bytes.fromhex("7EA02C02232110AF9FE6E600601DA109060760857405080101BE10040E010000000"
                          "65F1F0400001E1DFFFFC5E47E")
DC_AARE_I = bytes.fromhex("7EA0382102233034E7E6E7006129A109060760857405080101A203020100A305A10"
                          "3020100BE10040E0800065F1F0400001E1D04C80007B86A7E")
# [DLMS-COSEM] test_find_4_byte_address frame1, TestFiorentiniLocal, TestHdlcAddress.test_find
DC_UA_4BYTE = bytes.fromhex("7EA023030002002373C048818014050200800602008007040000000108040000"
                            "0001CE6A7E")
DC_UA_1BYTE = bytes.fromhex("7EA00721037301407E")
DC_SEGMENTED = bytes.fromhex(
    "7ea87e210396a4090f01160002020f02160002020f03160002020f04160002020f05160002020f06160002041"
    "20017110009060000160000ff0202010902030f0116010002030f0216010002030f0316010002030f04160100"
    "02030f0516010002030f0616010002030f0716010002030f0816010002030f09160100016ff37e")


def test_fcs16_check_value_of_rfc_1662() -> None:
    assert fcs16(b"123456789") == 0x906E


def test_fcs16_of_published_frames() -> None:
    """[KMETHY] SNRM FCS 18 71 (low byte first); [DLMS-COSEM] TestCrc 03 3F -> 5B EC."""
    assert fcs16_bytes(KMETHY_SNRM[1:-3]) == bytes.fromhex("1871")
    assert fcs16_bytes(bytes.fromhex("033f")) == bytes.fromhex("5bec")


@pytest.mark.parametrize(("address", "wire"), [
    (HdlcAddress(1), b"\x03"), (HdlcAddress(16), b"\x21"), (HdlcAddress(0b1001010), b"\x95"),
    (HdlcAddress(0b0100101), b"\x4b"), (HdlcAddress(1, 17), b"\x02\x23"),
    (HdlcAddress(1, 17, size=4), bytes.fromhex("00020023")),
])
def test_address_forms(address: HdlcAddress, wire: bytes) -> None:
    """[DLMS-COSEM] TestHdlcAddress; the 4-byte form from [KMETHY] (0002 0023 = 1/17)."""
    assert address.encode() == wire
    assert decode_address(wire + b"\x99", 0) == (address, len(wire))


def test_four_byte_address_holds_fourteen_bits() -> None:
    address = HdlcAddress(0x3FFF, 0x1234)
    assert address.size == 4
    assert decode_address(address.encode(), 0)[0] == address


@pytest.mark.parametrize("bad", [lambda: HdlcAddress(0x80), lambda: HdlcAddress(1, 0x4000),
                                 lambda: HdlcAddress(1, size=2), lambda: HdlcAddress(1, 2, 3)])
def test_bad_addresses_are_hdlc_errors(bad: object) -> None:
    with pytest.raises(HdlcError):
        bad()  # type: ignore[operator]


def test_three_byte_address_is_refused() -> None:
    with pytest.raises(HdlcError, match="address field") as error:
        decode_address(bytes.fromhex("020203"), 0)
    assert error.value.offset == 0


@pytest.mark.parametrize(("control", "byte"), [
    (Control(FrameKind.SNRM), 0x93), (Control(FrameKind.UA), 0x73),
    (Control(FrameKind.DISC), 0x53), (Control(FrameKind.DM), 0x1F),
    (Control(FrameKind.FRMR), 0x97), (Control(FrameKind.UI), 0x13),
    (Control(FrameKind.I, 0, 0), 0x10), (Control(FrameKind.I, 0, 1), 0x30),
    (Control(FrameKind.I, 3, 4), 0x96), (Control(FrameKind.RR, nr=1), 0x31),
    (Control(FrameKind.RNR, nr=2, pf=False), 0x45), (Control(FrameKind.I, 7, 7, False), 0xEE),
])
def test_control_bytes(control: Control, byte: int) -> None:
    """I 0x10/0x30 [KMETHY], [DLMS-COSEM]; 0x96 N(S)=3 N(R)=4 in DC_SEGMENTED."""
    assert control.encode() == byte
    assert Control.decode(byte) == control


def test_unknown_control_byte() -> None:
    with pytest.raises(HdlcError, match="control byte 0x0B"):
        Control.decode(0x0B)


@pytest.mark.parametrize(("frame", "destination", "source", "kind"), [
    (KMETHY_SNRM, SERVER_4, CLIENT, FrameKind.SNRM),
    (KMETHY_UA, CLIENT, SERVER_4, FrameKind.UA),
    (KMETHY_AARQ_I, SERVER_4, CLIENT, FrameKind.I),
    (DC_SNRM, SERVER_2, CLIENT, FrameKind.SNRM),
    (DC_UA, CLIENT, SERVER_2, FrameKind.UA),
    (DC_AARQ_I, SERVER_2, CLIENT, FrameKind.I),
    (DC_AARE_I, CLIENT, SERVER_2, FrameKind.I),
    (DC_UA_4BYTE, HdlcAddress(1), SERVER_4, FrameKind.UA),
    (DC_UA_1BYTE, CLIENT, HdlcAddress(1), FrameKind.UA),
    (DC_SEGMENTED, CLIENT, HdlcAddress(1), FrameKind.I),
])
def test_published_frames_decode_and_encode_back(frame: bytes, destination: HdlcAddress,
                                                 source: HdlcAddress, kind: FrameKind) -> None:
    decoded = HdlcFrame.decode(frame)
    assert (decoded.destination, decoded.source, decoded.kind) == (destination, source, kind)
    assert decoded.encode() == frame


def test_frames_built_from_fields_match_the_published_bytes() -> None:
    """Encoding from fields (not just re-encoding a parse) gives [KMETHY]'s and
    [DLMS-COSEM]'s bytes, HCS and FCS included."""
    assert HdlcFrame(SERVER_4, CLIENT, Control(FrameKind.SNRM)).encode() == KMETHY_SNRM
    aarq = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F040000301DFFFF")
    built = HdlcFrame(SERVER_4, CLIENT, Control(FrameKind.I, 0, 0), add_llc(aarq, response=False))
    assert built.encode() == KMETHY_AARQ_I
    aare = bytes.fromhex("6129A109060760857405080101A203020100A305A103020100BE10040E0800065F1F"
                         "0400001E1D04C80007")
    assert HdlcFrame(CLIENT, SERVER_2, Control(FrameKind.I, 0, 1),
                     add_llc(aare, response=True)).encode() == DC_AARE_I
    assert HdlcFrame(CLIENT, SERVER_4, Control(FrameKind.UA),
                     HdlcParameters(128, 128, 1, 1).encode()).encode() != KMETHY_UA  # widths
    assert HdlcFrame.decode(DC_SEGMENTED).segmented


def test_llc_headers() -> None:
    info = HdlcFrame.decode(DC_AARE_I).information
    assert strip_llc(info, response=True)[:2] == bytes.fromhex("6129")
    with pytest.raises(HdlcError, match="LLC"):
        strip_llc(info, response=False)


def test_parameters_of_the_published_ua_frames() -> None:
    """[KMETHY] UA: 128/128 bytes, windows 1/1; [DLMS-COSEM] UA: 154 (0x9A) bytes."""
    assert HdlcParameters.decode(HdlcFrame.decode(KMETHY_UA).information) == HdlcParameters()
    assert HdlcParameters.decode(HdlcFrame.decode(DC_UA).information) == HdlcParameters(
        154, 154, 1, 1)
    assert HdlcParameters.decode(b"") == HdlcParameters()  # [KMETHY] SNRM: defaults


def test_parameter_negotiation_takes_the_smaller_of_each() -> None:
    server = HdlcParameters(max_info_tx=512, max_info_rx=256, window_tx=1, window_rx=1)
    client_proposal = HdlcParameters(max_info_tx=2030, max_info_rx=128, window_tx=7,
                                     window_rx=7)
    assert server.negotiate(client_proposal) == HdlcParameters(128, 256, 1, 1)
    assert HdlcParameters.decode(HdlcParameters(1000, 40, 3, 2).encode()) == HdlcParameters(
        1000, 40, 3, 2)


@pytest.mark.parametrize("info", ["818003050100", "8180040501", "818002050580", "018002"])
def test_bad_parameter_fields(info: str) -> None:
    with pytest.raises(HdlcError):
        HdlcParameters.decode(bytes.fromhex(info))


@pytest.mark.parametrize(("index", "what"), [(-3, "FCS"), (9, "HCS"), (11, "FCS"), (2, "length"),
                                             (-1, "closing flag"), (0, "flag")])
def test_corrupted_frames_name_the_byte(index: int, what: str) -> None:
    frame = bytearray(KMETHY_AARQ_I)
    frame[index] ^= 0x01
    with pytest.raises(HdlcError, match=what) as error:
        HdlcFrame.decode(bytes(frame))
    assert error.value.offset is not None
    assert isinstance(error.value, ProtocolError)


def test_too_long_information_is_refused() -> None:
    with pytest.raises(HdlcError, match="11-bit"):
        HdlcFrame(SERVER_2, CLIENT, Control(FrameKind.I), b"x" * 2040).encode()


# --- the reader -----------------------------------------------------------------------------

def test_reader_byte_at_a_time_and_shared_flags() -> None:
    reader = HdlcReader()
    stream = KMETHY_SNRM + KMETHY_UA[1:] + b"\x7e\x7e" + DC_AARE_I  # shared and idle flags
    frames = [frame for byte in stream for frame in reader.feed(bytes([byte]))]
    assert [f.encode() for f in frames] == [KMETHY_SNRM, KMETHY_UA, DC_AARE_I]
    assert reader.offset == len(stream)


def test_reader_reports_garbage_with_its_offset_and_resyncs() -> None:
    reader = HdlcReader()
    with pytest.raises(HdlcError, match="garbage") as error:
        reader.feed(b"\x00\x01" + DC_SNRM)
    assert error.value.offset == 0
    assert reader.feed(b"") == [HdlcFrame.decode(DC_SNRM)]


def test_reader_returns_good_frames_before_a_bad_one() -> None:
    bad = bytearray(DC_UA)
    bad[-2] ^= 0xFF
    reader = HdlcReader()
    assert reader.feed(DC_SNRM + bytes(bad) + DC_SNRM) == [HdlcFrame.decode(DC_SNRM)]
    with pytest.raises(HdlcError, match="FCS") as error:
        reader.feed(b"")
    assert error.value.offset == len(DC_SNRM) + len(DC_UA) - 3
    assert reader.feed(b"") == [HdlcFrame.decode(DC_SNRM)]


def test_reader_length_guard_drops_oversized_frames() -> None:
    reader = HdlcReader(max_length=64)
    with pytest.raises(HdlcError, match="frame length 126"):
        reader.feed(DC_SEGMENTED)
    errors = 0
    while True:  # the rest of the oversized frame is dropped as garbage, never returned
        try:
            assert reader.feed(b"") == []
            break
        except HdlcError:
            errors += 1
    assert len(reader.pending) < 64
    reader.reset()
    assert reader.feed(DC_SNRM) == [HdlcFrame.decode(DC_SNRM)]


def test_reader_keeps_a_partial_frame_pending() -> None:
    reader = HdlcReader()
    assert reader.feed(DC_UA[:10]) == []
    assert reader.pending == DC_UA[:10]
    assert reader.feed(DC_UA[10:]) == [HdlcFrame.decode(DC_UA)]


def test_reader_refuses_a_non_type_3_format() -> None:
    with pytest.raises(HdlcError, match="not type 3"):
        HdlcReader().feed(bytes.fromhex("7e100a00"))


# --- segmentation, reassembly, sequence numbers ----------------------------------------------

def test_segmentation_and_reassembly_round_trip() -> None:
    apdu = add_llc(bytes(range(256)) * 3, response=True)
    pieces = segment(apdu, 128)
    assert [len(p) for p in pieces] == [128] * 6 + [3]
    reassembler = Reassembler()
    out = None
    for n, piece in enumerate(pieces):
        frame = HdlcFrame(CLIENT, SERVER_2, Control(FrameKind.I, n % 8, 1), piece,
                          segmented=n < len(pieces) - 1)
        again = HdlcFrame.decode(frame.encode())
        out = reassembler.add(again)
        assert (out is None) == (n < len(pieces) - 1)
    assert out == apdu
    assert not reassembler.in_progress


def test_reassembly_has_a_size_guard() -> None:
    reassembler = Reassembler(max_length=200)
    frame = HdlcFrame(CLIENT, SERVER_2, Control(FrameKind.I), b"x" * 150, segmented=True)
    assert reassembler.add(frame) is None
    with pytest.raises(HdlcError, match="exceeds 200"):
        reassembler.add(frame)
    assert not reassembler.in_progress


def test_sequence_numbers_wrap_and_spot_repeats() -> None:
    client, server = SequenceNumbers(), SequenceNumbers()
    for n in range(10):
        control = client.next_i()
        assert control.ns == n % 8
        frame = HdlcFrame(SERVER_2, CLIENT, control, b"\x01")
        assert server.receive(frame) is True
        assert server.receive(frame) is False  # the same frame again: a retransmission
        assert not client.unacknowledged(HdlcFrame(CLIENT, SERVER_2, server.rr()))
    assert client.unacknowledged(HdlcFrame(CLIENT, SERVER_2, Control(FrameKind.RR, nr=1)))
    with pytest.raises(HdlcError, match="out of sequence"):
        server.receive(HdlcFrame(SERVER_2, CLIENT, Control(FrameKind.I, 5, 0), b"\x01"))


addresses = st.one_of(
    st.builds(HdlcAddress, st.integers(0, 0x7F)),
    st.builds(HdlcAddress, st.integers(0, 0x7F), st.integers(0, 0x7F), st.just(2)),
    st.builds(HdlcAddress, st.integers(0, 0x3FFF), st.integers(0, 0x3FFF), st.just(4)))
controls = st.one_of(
    st.builds(Control, st.just(FrameKind.I), st.integers(0, 7), st.integers(0, 7),
              st.booleans()),
    st.builds(Control, st.sampled_from([FrameKind.RR, FrameKind.RNR]), st.just(0),
              st.integers(0, 7), st.booleans()),
    st.builds(Control, st.sampled_from([FrameKind.SNRM, FrameKind.DISC, FrameKind.UA,
                                        FrameKind.DM, FrameKind.FRMR, FrameKind.UI]),
              st.just(0), st.just(0), st.booleans()))


@settings(max_examples=200, deadline=None)
@given(addresses, addresses, controls, st.binary(max_size=300), st.booleans(),
       st.integers(1, 40))
def test_frames_round_trip_through_the_reader(destination: HdlcAddress, source: HdlcAddress,
                                              control: Control, information: bytes,
                                              segmented: bool, chunk: int) -> None:
    frame = HdlcFrame(destination, source, control, information, segmented)
    wire = frame.encode()
    assert HdlcFrame.decode(wire) == frame
    reader = HdlcReader()
    got = [f for i in range(0, 2 * len(wire), chunk)
           for f in reader.feed((wire + wire[1:])[i:i + chunk])]
    assert got == [frame, frame]


def test_apdu_frames_give_the_published_aarq_frame() -> None:
    """[KMETHY] section 2: the AARQ as the first I frame of a fresh link."""
    aarq = bytes.fromhex("601DA109060760857405080101BE10040E01000000065F1F040000301DFFFF")
    frames = apdu_frames(aarq, destination=SERVER_4, source=CLIENT, sequence=SequenceNumbers(),
                         max_information_length=128, response=False)
    assert [f.encode() for f in frames] == [KMETHY_AARQ_I]


def test_apdu_frames_segment_and_number() -> None:
    sequence = SequenceNumbers()
    frames = apdu_frames(b"\xc4" * 300, destination=CLIENT, source=SERVER_2,
                         sequence=sequence, max_information_length=128, response=True)
    assert [(f.control.ns, f.segmented, len(f.information)) for f in frames] == [
        (0, True, 128), (1, True, 128), (2, False, 47)]
    assert sequence.vs == 3
    reassembler = Reassembler()
    whole = [reassembler.add(f) for f in frames][-1]
    assert whole is not None and strip_llc(whole, response=True) == b"\xc4" * 300


# [GURUX-DIRECTOR] GXDLMSDirector trace, gist.github.com/knogi/f3d4853b936164882e5ed653498e7b61
# (public client 0x10, server 1, 1-byte addresses, max information length 1010 proposed).
# [GURUX-PYTHON] Gurux.DLMS.Python client trace, pastebin.com/Vvs6PqXK (RR, a segmented I
# frame). [AMSREADER] github.com/UtilitechAS/amsreader-firmware src/KamstrupPullCommunicator.cpp
# comments: DISC and its UA from a Kamstrup meter.
def _hex(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


GURUX_SESSION = [_hex(frame) for frame in (
    "7E A0 14 03 21 93 63 E7 81 80 08 05 02 03 F2 06 02 03 F2 03 F0 7E",
    "7E A0 20 21 03 73 73 98 81 80 14 05 02 03 F2 06 02 03 F2 07 04 00 00 00 01 08 04 00 00 00"
    " 01 0A 75 7E",
    "7E A0 2B 03 21 10 FB AF E6 E6 00 60 1D A1 09 06 07 60 85 74 05 08 01 01 BE 10 04 0E 01 00"
    " 00 00 06 5F 1F 04 00 00 1E 1D FF FF C5 E4 7E",
    "7E A0 39 21 03 30 2E D2 E6 E7 00 61 82 00 29 A1 09 06 07 60 85 74 05 08 01 01 A2 03 02 01"
    " 00 A3 05 A1 03 02 01 00 BE 10 04 0E 08 00 06 5F 1F 04 00 00 10 1D 03 EF 00 07 44 36 7E",
    "7E A0 19 03 21 32 6F D8 E6 E6 00 C0 01 C1 00 0F 00 00 28 00 00 FF 02 00 91 53 7E")]
GURUX_RR = _hex("7E A0 07 03 21 51 11 E4 7E")
GURUX_SEGMENT = _hex(
    "7E A8 5B 21 03 52 88 68 E6 E7 00 0C 01 00 01 82 01 25 02 04 10 00 10 12 27 16 11 03 09 06"
    " 00 00 F0 0D 00 FF 02 04 10 00 E8 12 27 12 11 07 09 06 00 00 F0 00 00 FF 02 04 10 01 50 12"
    " 27 60 11 04 09 06 00 00 F0 0F FF FF 02 04 10 04 10 12 00 03 11 00 09 06 00 00 61 61 00 FF"
    " 4E F7 7E")
KAMSTRUP_DISC, KAMSTRUP_UA = _hex("7E A0 07 03 21 53 03 C7 7E"), _hex("7E A0 07 21 03 73 01 40 7E")


def test_a_gurux_session_through_the_reader() -> None:
    """[GURUX-DIRECTOR]: SNRM/UA with 1010-byte information fields, AARQ, AARE (BER long-form
    length 61 82 00 29), GET of the association's object list, as one received stream."""
    frames = HdlcReader().feed(b"".join(GURUX_SESSION))
    assert [f.kind for f in frames] == [FrameKind.SNRM, FrameKind.UA, FrameKind.I, FrameKind.I,
                                        FrameKind.I]
    assert [f.encode() for f in frames] == GURUX_SESSION
    snrm, ua, aarq, aare, get = frames
    assert HdlcParameters.decode(snrm.information) == HdlcParameters(1010, 1010)
    assert HdlcParameters(1010, 1010).negotiate(HdlcParameters.decode(snrm.information)) == \
        HdlcParameters.decode(ua.information)
    client, server = SequenceNumbers(), SequenceNumbers()
    assert client.next_i() == aarq.control and server.receive(aarq)
    assert server.next_i() == aare.control and client.receive(aare)
    assert client.next_i() == get.control
    assert (aare.destination, aare.source) == (CLIENT, HdlcAddress(1))


def test_gurux_rr_segment_and_kamstrup_disc() -> None:
    """[GURUX-PYTHON] RR N(R)=2 and a segmented I frame (A8); [AMSREADER] DISC and UA."""
    rr = HdlcFrame.decode(GURUX_RR)
    assert (rr.kind, rr.control.nr, rr.destination, rr.source) == (FrameKind.RR, 2,
                                                                  HdlcAddress(1), CLIENT)
    segment_frame = HdlcFrame.decode(GURUX_SEGMENT)
    assert segment_frame.segmented and segment_frame.control == Control(FrameKind.I, 1, 2)
    assert HdlcFrame(HdlcAddress(1), CLIENT, Control(FrameKind.DISC)).encode() == KAMSTRUP_DISC
    assert HdlcFrame(CLIENT, HdlcAddress(1), Control(FrameKind.UA)).encode() == KAMSTRUP_UA
    assert HdlcFrame(HdlcAddress(1), CLIENT, Control(FrameKind.SNRM)).encode() == _hex(
        "7E A0 07 03 21 93 0F 01 7E")
