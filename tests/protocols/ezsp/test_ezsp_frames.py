"""EZSP frames and commands (frame.py, types.py, commands.py): published frames, layouts,
errors, round trips and fuzz.

Published vectors, cited per test:
- UG101: Silicon Labs UG101 "Frame Formats", the EZSP ``version`` command ``00 00 00 02`` and
  response ``00 80 00 02 02 11 30`` inside its DATA examples.
- bellows-v4 / bellows-v8: zigpy/bellows tests/test_ezsp_v4.py (``22 00 00 06``) and
  tests/test_ezsp_v8.py (``22 00 01 00 00 08``, and a captured ASH DATA frame holding an
  extended getKeyTableEntry response).
- bellows-ash: zigpy/bellows tests/test_ash.py (the legacy and extended version exchange of a
  version 8 NCP: ``00 00 00 04`` / ``00 80 00 08 02 80 67`` then ``00 00 01 00 00 08`` /
  ``00 80 01 00 00 08 02 80 67``).
- herdsman-ember: Koenkk/zigbee-herdsman test/adapter/ember/consts.ts (the ASH DATA frames of
  a version 13 exchange, SEND_DATA_VERSION and RCED_DATA_VERSION = 13, 2, 29712, and a
  captured retransmitted messageSentHandler, RCED_DATA_RETRY).
- installcode: the project's own published install-code vector (tests/protocols/
  test_installcode.py: code 83FED340..., link key 66B69009...).
The other layouts (scan callbacks, tables, trust centre, unicast) are checked field by field
against UG100's field order and widths, built here byte by byte, then round-tripped.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.ash import DataFrame as AshData
from harness.protocols.ezsp.ash import decode_frame, encode_frame
from harness.protocols.ezsp.ash_reader import AshReader
from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.frame import EzspFrame, decode_ezsp, encode_ezsp
from harness.protocols.ezsp.types import (
    ApsFrame,
    ChildData,
    NeighborEntry,
    NetworkParameters,
    ZigbeeNetwork,
)
from harness.protocols.installcode import InstallCode


def hx(text: str) -> bytes:
    """Hex with spaces."""
    return bytes.fromhex(text.replace(" ", ""))


EUI = "000D6F0000ABCDEF"
EUI_WIRE = "EF CD AB 00 00 6F 0D 00"
APS = ApsFrame(0x0104, 0x0006, 1, 1, 0x0140, 0, 0x42)
APS_WIRE = "04 01 06 00 01 01 40 01 00 00 42"


# --- the version exchange (published) ---------------------------------------------------


def test_version_command_and_response_ug101() -> None:
    """UG101: ``00 00 00 02`` asks for version 2; ``00 80 00 02 02 11 30`` answers 2, 2,
    0x3011."""
    assert c.version_command(2) == hx("00 00 00 02")
    reply = c.version_reply(hx("00 80 00 02 02 11 30"))
    assert reply == c.VersionResponse(2, 2, 0x3011)
    assert reply.stack_version_text == "3.0.1.1"


def test_version_commands_bellows() -> None:
    """bellows-v4 ``22 00 00 06`` (legacy) and bellows-v8 ``22 00 01 00 00 08`` (extended)."""
    assert c.version_command(6, sequence=0x22) == hx("22 00 00 06")
    assert c.build("version", c.Version(6), sequence=0x22, version=4) == hx("22 00 00 06")
    assert c.build("version", c.Version(8), sequence=0x22, version=8) == hx("22 00 01 00 00 08")


def test_version_8_exchange_bellows_ash() -> None:
    """bellows-ash: a v8 NCP answers the legacy version in the legacy form, then the extended."""
    assert c.version_command(4) == hx("00 00 00 04")
    assert c.version_reply(hx("00 80 00 08 02 80 67")) == c.VersionResponse(8, 2, 0x6780)
    assert c.build("version", c.Version(8), sequence=0, version=8) == hx("00 00 01 00 00 08")
    frame, name, msg = c.parse(hx("00 80 01 00 00 08 02 80 67"), version=8)
    assert (name, msg) == ("version", c.VersionResponse(8, 2, 0x6780))
    assert frame.extended and frame.is_response and frame.sequence == 0
    assert msg.stack_version_text == "6.7.8.0"  # type: ignore[attr-defined]


def test_version_13_over_ash_herdsman() -> None:
    """herdsman-ember: the whole wire bytes of a v13 version exchange, ASH and EZSP together."""
    sent = encode_frame(AshData(0, 0, False, c.version_command(13)))
    assert sent == hx("00 42 21 a8 59 7c 05 7e")
    received = decode_frame(hx("01 42 a1 a8 59 28 05 c6 a8 77"))
    assert isinstance(received, AshData) and (received.frm_num, received.ack_num) == (0, 1)
    assert c.version_reply(received.payload) == c.VersionResponse(13, 2, 29712)


def test_captured_extended_response_header_bellows_v8() -> None:
    """bellows-v8: a captured DATA frame's EZSP header: sequence 0xD9, response, frame
    format version 1, frame id 0x0071 (getKeyTableEntry, not one we decode: named as such)."""
    data = decode_frame(hx("039ba1a9252a1659c6974b25aa55d1209c6e76ddedce958bfdc6f29ffc5e0d2845"))
    assert isinstance(data, AshData)
    frame = decode_ezsp(data.payload, extended=True)
    assert (frame.sequence, frame.frame_id, frame.is_response) == (0xD9, 0x0071, True)
    assert frame.callback_type == 0 and not frame.truncated and not frame.overflow
    with pytest.raises(EzspFrameError, match="frame id 0x0071 is not one this codec knows"):
        c.parse(data.payload, version=8)


# --- frame control ------------------------------------------------------------------------


def test_frame_control_bits() -> None:
    """Response bits (UG100/UG600): async callback with callback pending, on network 1."""
    frame = EzspFrame(sequence=5, frame_id=0x48, is_response=True, parameters=b"\x0b\xc4",
                      extended=True, network_index=1, callback_type=2, callback_pending=True)
    assert encode_ezsp(frame) == hx("05 B4 01 48 00 0B C4")
    back = decode_ezsp(hx("05 B4 01 48 00 0B C4"), extended=True)
    assert back == frame and back.is_callback
    legacy = EzspFrame(sequence=1, frame_id=0x17, is_response=False, sleep_mode=2)
    assert encode_ezsp(legacy) == hx("01 02 17")


def test_frame_errors_name_what_is_wrong() -> None:
    """Short frames, a wrong frame format version and security bits are refused clearly."""
    with pytest.raises(EzspFrameError, match="at least 3 bytes"):
        decode_ezsp(b"\x00\x80", extended=False)
    with pytest.raises(EzspFrameError, match="at least 5 bytes"):
        decode_ezsp(hx("00 80 01 00"), extended=True)
    with pytest.raises(EzspFrameError, match="frame format version 2"):
        decode_ezsp(hx("00 80 02 00 00"), extended=True)
    with pytest.raises(EzspFrameError, match="security or padding"):
        decode_ezsp(hx("00 80 81 00 00"), extended=True)
    with pytest.raises(EzspFrameError, match=r"frame id must be 0\.\.255"):
        EzspFrame(sequence=0, frame_id=0x111, is_response=False)
    with pytest.raises(EzspFrameError, match="at most 128"):
        encode_ezsp(EzspFrame(sequence=0, frame_id=0x34, is_response=False,
                              parameters=bytes(126)))


def test_versions_outside_4_to_13_are_refused() -> None:
    """Version 14's layouts differ (32-bit statuses): refused, not mis-decoded."""
    with pytest.raises(EzspFrameError, match="version 14 is not supported"):
        c.parse(hx("00 80 01 19 00 00 00 00 00"), version=14)
    with pytest.raises(EzspFrameError, match=r"exists in versions 13\.\.13, not 8"):
        c.build("importTransientKey", c.TransientKey(EUI, bytes(16)), sequence=0, version=8)


# --- layouts (UG100 field order and widths) ------------------------------------------------


PARAMS = NetworkParameters("DDDDDDDDDDDDDDDD", 0x1A62, 8, 15, 0, 0, 0, 0x07FFF800)
PARAMS_WIRE = "DD DD DD DD DD DD DD DD 62 1A 08 0F 00 00 00 00 00 F8 FF 07"


@pytest.mark.parametrize(("name", "message", "version", "wire"), [
    ("networkInit", c.NetworkInit(), 5, ""),
    ("networkInit", c.NetworkInit(0x0001), 8, "01 00"),
    ("formNetwork", c.FormNetwork(PARAMS), 8, PARAMS_WIRE),
    ("joinNetwork", c.JoinNetwork(c.NODE_ROUTER, PARAMS), 8, "02 " + PARAMS_WIRE),
    ("leaveNetwork", c.NoParameters(), 8, ""),
    ("startScan", c.StartScan(c.ENERGY_SCAN, 0x07FFF800, 3), 8, "00 00 F8 FF 07 03"),
    ("startScan", c.StartScan(c.ACTIVE_SCAN, 1 << 15, 3), 8, "01 00 80 00 00 03"),
    ("getChildData", c.Index(2), 8, "02"),
    ("getNeighbor", c.Index(0), 8, "00"),
    ("addTransientLinkKey", c.TransientKey(EUI, bytes(range(16))), 8,
     EUI_WIRE + " 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"),
    ("importTransientKey", c.TransientKey(EUI, bytes(range(16))), 13,
     EUI_WIRE + " 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F 00"),
    ("sendUnicast", c.SendUnicast(c.OUTGOING_DIRECT, 0x1234, APS, 7, b"\x01\x02"), 8,
     "00 34 12 " + APS_WIRE + " 07 02 01 02"),
])
def test_command_layouts(name: str, message: c.Message, version: int, wire: str) -> None:
    """Each command's parameters, byte by byte; ``parse`` reads them back."""
    data = c.build(name, message, sequence=9, version=version)
    header = 5 if version >= 8 else 3
    assert data[header:] == hx(wire)
    frame, parsed_name, parsed = c.parse(data, version=version)
    assert (parsed_name, parsed, frame.is_response) == (name, message, False)


@pytest.mark.parametrize(("name", "message", "version", "wire"), [
    ("energyScanResultHandler", c.EnergyScanResult(11, -60), 8, "0B C4"),
    ("networkFoundHandler",
     c.NetworkFound(ZigbeeNetwork(15, 0x1A62, "DDDDDDDDDDDDDDDD", True, 2, 0), 200, -45), 8,
     "0F 62 1A DD DD DD DD DD DD DD DD 01 02 00 C8 D3"),
    ("scanCompleteHandler", c.ScanComplete(26, 0), 8, "1A 00"),
    ("stackStatusHandler", c.Status(0x90), 8, "90"),
    ("getNeighbor", c.NeighborResponse(0, NeighborEntry(0x796F, 255, 1, 1, 3, EUI)), 8,
     "00 6F 79 FF 01 01 03 " + EUI_WIRE),
    ("getChildData", c.ChildDataResponse(0, ChildData(EUI, c.NODE_SLEEPY_END_DEVICE, 0x4321)),
     6, "00 21 43 " + EUI_WIRE + " 04"),
    ("getChildData",
     c.ChildDataResponse(0, ChildData(EUI, c.NODE_SLEEPY_END_DEVICE, 0x4321, 0, 3, 8)),
     8, "00 " + EUI_WIRE + " 04 21 43 00 03 08"),
    ("getChildData",
     c.ChildDataResponse(0, ChildData(EUI, c.NODE_END_DEVICE, 0x4321, 0, 3, 8, 500)),
     10, "00 " + EUI_WIRE + " 03 21 43 00 03 08 F4 01 00 00"),
    ("trustCenterJoinHandler", c.TrustCenterJoin(0x4321, EUI, 1, 0, 0x0000), 8,
     "21 43 " + EUI_WIRE + " 01 00 00 00"),
    ("sendUnicast", c.SendUnicastResponse(0, 0x42), 8, "00 42"),
    ("messageSentHandler", c.MessageSent(0, 0x1234, APS, 7, 0x66, b"\xAA"), 8,
     "00 34 12 " + APS_WIRE + " 07 66 01 AA"),
    ("incomingMessageHandler", c.IncomingMessage(0, APS, 220, -52, 0x1234, 0xFF, 0xFF, b"hi"),
     8, "00 " + APS_WIRE + " DC CC 34 12 FF FF 02 68 69"),
    ("importTransientKey", c.SlStatus(0), 13, "00 00 00 00"),
])
def test_response_and_callback_layouts(name: str, message: c.Message, version: int,
                                       wire: str) -> None:
    """Each response's and callback's parameters, byte by byte; ``parse`` reads them back."""
    data = c.build(name, message, sequence=3, version=version, response=True, callback_type=2)
    header = 5 if version >= 8 else 3
    assert data[header:] == hx(wire)
    frame, parsed_name, parsed = c.parse(data, version=version)
    assert (parsed_name, parsed, frame.is_response) == (name, message, True)


def test_install_code_key_goes_out_as_the_transient_key() -> None:
    """installcode: the published code's link key 66B69009... is what the transient-key frame
    carries, in the frame the version has (addTransientLinkKey 0xAF, importTransientKey
    0x0111), and the key never shows in a repr."""
    code = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")
    name, message = c.install_code_key(code, EUI, 8)
    assert name == "addTransientLinkKey"
    data = c.build(name, message, sequence=1, version=8)
    assert data == hx("01 00 01 AF 00 " + EUI_WIRE + " 66B6900981E1EE3CA4206B6B861C02BB")
    name13, message13 = c.install_code_key(code, EUI, 13)
    assert name13 == "importTransientKey"
    assert c.build(name13, message13, sequence=1, version=13)[3:5] == hx("11 01")
    assert "66B6" not in repr(message).upper()


# --- errors ----------------------------------------------------------------------------------


def test_short_and_long_parameters_are_named() -> None:
    """A truncated callback names the field and offset; extra bytes are refused."""
    with pytest.raises(EzspFrameError, match=r"networkFoundHandler: lastHopRssi needs 1 byte"):
        c.parse(hx("00 90 01 1B 00") + bytes(15), version=8)
    with pytest.raises(EzspFrameError, match="1 unexpected byte"):
        c.parse(hx("00 90 01 48 00 0B C4 00"), version=8)
    with pytest.raises(EzspFrameError, match="is only ever a response/callback"):
        c.parse(hx("00 00 01 48 00 0B C4"), version=8)


@pytest.mark.parametrize(("build", "match"), [
    (lambda: c.TransientKey("not-an-eui", bytes(16)).encode(8), "partner is not an EUI-64"),
    (lambda: c.TransientKey(EUI, bytes(15)).encode(8), "a key is 16 bytes"),
    (lambda: c.StartScan(2, 0, 3).encode(8), "neither ENERGY_SCAN"),
    (lambda: c.EnergyScanResult(11, -200).encode(8), "maxRssiValue does not fit"),
    (lambda: c.Index(256).encode(8), "index does not fit"),
])
def test_encoders_refuse_bad_values(build: object, match: str) -> None:
    """Bad values raise an EzspFrameError (a ProtocolError) naming the field."""
    with pytest.raises(EzspFrameError, match=match) as caught:
        build()  # type: ignore[operator]
    assert isinstance(caught.value, ProtocolError)


# --- round trips and fuzz ------------------------------------------------------------------

u8s, u16s = st.integers(0, 255), st.integers(0, 0xFFFF)
s8s = st.integers(-128, 127)
euis = st.binary(min_size=8, max_size=8).map(lambda b: b.hex().upper())
aps = st.builds(ApsFrame, u16s, u16s, u8s, u8s, u16s, u16s, u8s)
net = st.builds(ZigbeeNetwork, u8s, u16s, euis, st.booleans(), u8s, u8s)
params = st.builds(NetworkParameters, euis, u16s, s8s, u8s, u8s, u16s, u8s,
                   st.integers(0, 2**32 - 1))
small = st.binary(max_size=60)
messages = st.one_of(
    st.tuples(st.just("energyScanResultHandler"), st.builds(c.EnergyScanResult, u8s, s8s)),
    st.tuples(st.just("networkFoundHandler"), st.builds(c.NetworkFound, net, u8s, s8s)),
    st.tuples(st.just("joinNetwork"), st.builds(c.JoinNetwork, u8s, params)),
    st.tuples(st.just("trustCenterJoinHandler"),
              st.builds(c.TrustCenterJoin, u16s, euis, u8s, u8s, u16s)),
    st.tuples(st.just("messageSentHandler"),
              st.builds(c.MessageSent, u8s, u16s, aps, u8s, u8s, small)),
    st.tuples(st.just("incomingMessageHandler"),
              st.builds(c.IncomingMessage, u8s, aps, u8s, s8s, u16s, u8s, u8s, small)),
)


@given(messages, st.integers(4, 13), u8s)
@settings(max_examples=200, deadline=None)
def test_messages_round_trip(item: tuple[str, c.Message], version: int, seq: int) -> None:
    """build then parse gives the same message, in every supported version's header."""
    name, message = item
    definition = c.MESSAGES[name]
    response = definition.command is None
    data = c.build(name, message, sequence=seq, version=version, response=response)
    frame, parsed_name, parsed = c.parse(data, version=version)
    assert (parsed_name, parsed, frame.sequence) == (name, message, seq)


@given(st.binary(max_size=140), st.integers(4, 13))
@settings(max_examples=300, deadline=None)
def test_parse_raises_only_our_errors(data: bytes, version: int) -> None:
    """Random bytes parse or raise an EzspFrameError: nothing else escapes."""
    with contextlib.suppress(EzspFrameError):
        c.parse(data, version=version)


@given(st.sampled_from(sorted({d.frame_id for d in c.MESSAGES.values()})),
       st.binary(max_size=60), st.integers(4, 13), st.booleans())
@settings(max_examples=300, deadline=None)
def test_known_frame_ids_with_random_parameters_raise_only_our_errors(
    frame_id: int, payload: bytes, version: int, response: bool
) -> None:
    """Every known frame id with random parameters: decoded or an EzspFrameError."""
    extended = version >= 8
    if frame_id > 0xFF and not extended:
        return
    frame = EzspFrame(sequence=1, frame_id=frame_id, is_response=response, parameters=payload,
                      extended=extended)
    with contextlib.suppress(EzspFrameError):
        c.parse(encode_ezsp(frame), version=version)


def test_captured_message_sent_callback_herdsman() -> None:
    """herdsman-ember RCED_DATA_RETRY: a retransmitted DATA frame (reTx, with an escaped
    byte) from a v13 NCP holding an asynchronous messageSentHandler callback for a Green
    Power broadcast (profile 0xA1E0, cluster 0x0021, endpoints 0xF2, to 0xFFFD)."""
    wire = hx("0eafb1a96b2a7d334fa674eb04aaa760499d4e27cdd9ce6192f2c46989fcfb817e")
    [data] = AshReader().feed(wire)
    assert isinstance(data, AshData) and data.re_tx and (data.frm_num, data.ack_num) == (0, 6)
    frame, name, message = c.parse(data.payload, version=13)
    assert name == "messageSentHandler" and frame.is_callback and frame.sequence == 0xED
    assert message == c.MessageSent(
        type=0x06, destination=0xFFFD, aps=ApsFrame(0xA1E0, 0x0021, 0xF2, 0xF2, 0x0100, 0, 0x66),
        tag=0x34, status=0x00, message=hx("19 0f 02 0a 00 00"))
