"""ASH frames (harness.protocols.ezsp.ash): published vectors, stuffing, CRC, errors, round trips.

Sources of the vectors, cited per test:
- UG101: Silicon Labs UG101 "UART-EZSP Gateway Protocol Reference", section "Frame Formats"
  (docs.silabs.com/zigbee/latest/uart-gateway-protocol-reference/03-frame-formats).
- herdsman: Koenkk/zigbee-herdsman, test/adapter/ezsp/frame.test.ts (UG101's examples "from
  gecko_sdk4.4.0", with its finding that the ERROR example's CRC is wrong).
- bellows: zigpy/bellows, tests/test_ash.py (RST and RSTACK bytes, the stuffing table, the
  start of the pseudo-random sequence).
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.ezsp.ash import (
    RESERVED,
    AckFrame,
    DataFrame,
    ErrorFrame,
    NakFrame,
    RstAckFrame,
    RstFrame,
    crc_ccitt,
    decode_frame,
    encode_frame,
    pseudo_random,
    randomise,
    stuff,
    unstuff,
)
from harness.protocols.ezsp.errors import AshFrameError

VERSION_COMMAND = bytes.fromhex("00000002")
VERSION_RESPONSE = bytes.fromhex("00800002021130")


def hx(text: str) -> bytes:
    """Hex with spaces, as the documents print it."""
    return bytes.fromhex(text.replace(" ", ""))


def body(wire: str) -> bytes:
    """The unstuffed bytes of a published frame, without its closing flag."""
    raw = hx(wire)
    assert raw[-1] == 0x7E
    return raw[:-1]


# --- CRC and randomisation -------------------------------------------------------------------


def test_crc_ccitt_false_check_value() -> None:
    """The CRC-16/CCITT-FALSE catalogue check value (init 0xFFFF, poly 0x1021)."""
    assert crc_ccitt(b"123456789") == 0x29B1


def test_pseudo_random_sequence_starts_as_published() -> None:
    """bellows tests/test_ash.py: the sequence starts 42 21 A8 54 2A."""
    assert pseudo_random(5) == hx("42 21 A8 54 2A")


def test_randomised_version_command_and_response_match_ug101() -> None:
    """UG101 "Frame Formats", DATA examples: the data fields with and without the sequence."""
    assert randomise(VERSION_COMMAND) == hx("42 21 A8 56")
    assert randomise(VERSION_RESPONSE) == hx("42 A1 A8 56 28 04 82")


@given(st.binary(max_size=300))
@settings(max_examples=200, deadline=None)
def test_randomise_is_its_own_inverse(data: bytes) -> None:
    """Randomising twice gives the data back."""
    assert randomise(randomise(data)) == data


# --- published frames -------------------------------------------------------------------------


def test_rst_frame_ug101() -> None:
    """UG101 RST example ``C0 38 BC 7E``; the host sends it after a Cancel Byte (bellows)."""
    assert encode_frame(RstFrame()) == hx("C0 38 BC 7E")
    assert encode_frame(RstFrame(), cancel=True) == hx("1A C0 38 BC 7E")
    assert decode_frame(body("C0 38 BC 7E")) == RstFrame()


def test_rstack_frames_ug101_and_bellows() -> None:
    """UG101 RSTACK(2, 2) ``C1 02 02 9B 7B 7E`` (power on); bellows RSTACK ``c1 02 0b 0a 52``."""
    power_on = decode_frame(body("C1 02 02 9B 7B 7E"))
    assert power_on == RstAckFrame(reset_code=0x02, version=2)
    assert power_on.reason == "power on"
    assert encode_frame(power_on) == hx("C1 02 02 9B 7B 7E")
    software = RstAckFrame(reset_code=0x0B)
    assert encode_frame(software) == hx("C1 02 0B 0A 52 7E")
    assert software.reason == "software"


def test_ug101_error_example_has_a_wrong_crc() -> None:
    """UG101's ERROR example ``C2 01 52 FA BD 7E`` carries a CRC that is not the CRC of
    ``C2 01 52`` (herdsman's test says so too): we refuse it, naming both values."""
    with pytest.raises(AshFrameError, match=r"CRC mismatch: computed 0xCD8D, frame carries 0xFABD"):
        decode_frame(body("C2 01 52 FA BD 7E"))
    fixed = encode_frame(ErrorFrame(error_code=0x52, version=1))
    assert decode_frame(fixed[:-1]) == ErrorFrame(error_code=0x52, version=1)


def test_ack_and_nak_ug101() -> None:
    """UG101 ACK(1)+ ``81 60 59 7E`` and NAK(6)+ ``A6 34 DC 7E`` (also in herdsman's test)."""
    assert encode_frame(AckFrame(1)) == hx("81 60 59 7E")
    assert encode_frame(NakFrame(6)) == hx("A6 34 DC 7E")
    assert decode_frame(body("81 60 59 7E")) == AckFrame(ack_num=1, n_rdy=False)
    assert decode_frame(body("A6 34 DC 7E")) == NakFrame(ack_num=6, n_rdy=False)


def test_data_frame_version_command_ug101() -> None:
    """UG101 DATA(2, 5, 0) with the sequence applied: ``25 42 21 A8 56 A6 09 7E``."""
    frame = DataFrame(frm_num=2, ack_num=5, re_tx=False, payload=VERSION_COMMAND)
    assert encode_frame(frame) == hx("25 42 21 A8 56 A6 09 7E")
    assert decode_frame(body("25 42 21 A8 56 A6 09 7E")) == frame


def test_data_frame_examples_without_randomisation_ug101() -> None:
    """UG101's "without pseudo-random sequence" examples: the CRC covers the plain field:
    DATA(2, 5, 0) ``25 00 00 00 02 1A AD`` and DATA(5, 3, 0) ``53 00 80 00 02 02 11 30 63 16``."""
    assert crc_ccitt(hx("25 00 00 00 02")) == 0x1AAD
    assert crc_ccitt(hx("53") + VERSION_RESPONSE) == 0x6316


def test_ug101_randomised_response_example_has_a_wrong_crc() -> None:
    """UG101 DATA(5, 3, 0) with the sequence, ``53 42 A1 A8 56 28 04 82 96 23 7E``: its data
    field is right (the command's example, same rules, is exact) but its CRC is not the CRC of
    the frame: we refuse it, and our own encoding differs only in those two bytes."""
    published = body("53 42 A1 A8 56 28 04 82 96 23 7E")
    with pytest.raises(AshFrameError, match="CRC mismatch"):
        decode_frame(published)
    ours = encode_frame(DataFrame(frm_num=5, ack_num=3, re_tx=False, payload=VERSION_RESPONSE))
    assert ours[:-3] == published[:-2]
    assert decode_frame(ours[:-1]).payload == VERSION_RESPONSE  # type: ignore[union-attr]


# --- stuffing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("plain", "stuffed"), [
    ("7E", "7D 5E"), ("11", "7D 31"), ("13", "7D 33"), ("18", "7D 38"), ("1A", "7D 3A"),
    ("7D", "7D 5D"), ("7F", "7F"),
])
def test_stuffing_table_bellows(plain: str, stuffed: str) -> None:
    """bellows tests/test_ash.py: each reserved byte and its escaped form; others pass as is."""
    assert stuff(hx(plain)) == hx(stuffed)
    assert unstuff(hx(stuffed)) == hx(plain)


def test_unstuff_refuses_bare_reserved_and_trailing_escape() -> None:
    """A bare reserved byte or an Escape with nothing after it is named with its offset."""
    with pytest.raises(AshFrameError, match=r"unescaped reserved byte 0x7E at offset 1"):
        unstuff(hx("01 7E"))
    with pytest.raises(AshFrameError, match="offset 1"):
        unstuff(hx("01 7D"))


def test_a_frame_with_reserved_bytes_goes_out_stuffed() -> None:
    """An encoded frame holds no flag but its last byte, and no bare reserved byte at all."""
    frame = DataFrame(frm_num=1, ack_num=1, re_tx=False, payload=randomise(bytes(RESERVED)))
    wire = encode_frame(frame)
    inner = wire[:-1]
    assert not any(b in RESERVED - {0x7D} for b in inner)
    assert decode_frame(unstuff(inner)) == frame


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "match"), [
    ("C0 38", "at least 3 bytes"),
    ("C0 38 BD", "CRC mismatch"),
    ("25 00 E4 1C", "DATA field is 3..128 bytes"),
    ("E0", "at least 3"),
])
def test_decode_names_what_is_wrong(raw: str, match: str) -> None:
    """Each malformed frame raises an AshFrameError (a ProtocolError) saying why."""
    with pytest.raises(AshFrameError, match=match) as caught:
        decode_frame(hx(raw))
    assert isinstance(caught.value, ProtocolError)


def test_decode_refuses_unknown_control_and_wrong_lengths() -> None:
    """0xE0 is no frame type; an ACK with a data byte and a short RSTACK are refused."""
    unknown = hx("E0") + crc_ccitt(hx("E0")).to_bytes(2, "big")
    with pytest.raises(AshFrameError, match="unknown control byte 0xE0"):
        decode_frame(unknown)
    long_ack = hx("81 00") + crc_ccitt(hx("81 00")).to_bytes(2, "big")
    with pytest.raises(AshFrameError, match="ACK frame is 3 bytes"):
        decode_frame(long_ack)
    short_rstack = hx("C1 02") + crc_ccitt(hx("C1 02")).to_bytes(2, "big")
    with pytest.raises(AshFrameError, match="RSTACK frame is 5 bytes"):
        decode_frame(short_rstack)
    with pytest.raises(AshFrameError, match="at most 131"):
        decode_frame(bytes(132))


@pytest.mark.parametrize("build", [
    lambda: DataFrame(frm_num=8, ack_num=0, re_tx=False, payload=b"abc"),
    lambda: DataFrame(frm_num=0, ack_num=0, re_tx=False, payload=b"ab"),
    lambda: DataFrame(frm_num=0, ack_num=0, re_tx=False, payload=bytes(129)),
    lambda: AckFrame(ack_num=-1),
    lambda: RstAckFrame(reset_code=256),
])
def test_frames_refuse_out_of_range_fields(build: object) -> None:
    """Frame fields are checked when built: 3-bit numbers, 3..128 data bytes, one-byte codes."""
    with pytest.raises(AshFrameError):
        build()  # type: ignore[operator]


# --- round trips -------------------------------------------------------------------------------

frames = st.one_of(
    st.builds(DataFrame, st.integers(0, 7), st.integers(0, 7), st.booleans(),
              st.binary(min_size=3, max_size=128)),
    st.builds(AckFrame, st.integers(0, 7), st.booleans()),
    st.builds(NakFrame, st.integers(0, 7), st.booleans()),
    st.just(RstFrame()),
    st.builds(RstAckFrame, st.integers(0, 255), st.integers(0, 255)),
    st.builds(ErrorFrame, st.integers(0, 255), st.integers(0, 255)),
)


@given(frames)
@settings(max_examples=200, deadline=None)
def test_every_frame_round_trips(frame: object) -> None:
    """encode then unstuff then decode gives the frame back; only the last byte is a flag."""
    wire = encode_frame(frame)  # type: ignore[arg-type]
    assert wire[-1] == 0x7E and 0x7E not in wire[:-1]
    assert decode_frame(unstuff(wire[:-1])) == frame


@given(st.binary(max_size=200))
@settings(max_examples=200, deadline=None)
def test_decode_raises_only_our_errors(data: bytes) -> None:
    """Random bytes either decode or raise an AshFrameError: nothing else escapes."""
    with contextlib.suppress(AshFrameError):
        decode_frame(data)
