"""IEC 62056-21 byte stream: message splitting with length guards, and 7E1 parity."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.iec62056_21 import (
    DataSet,
    Identification,
    OptionSelect,
    encode_identification,
    encode_option_select,
    encode_readout,
    encode_request,
    frame_bcc,
)
from harness.protocols.iec62056_21_programming import Answer, Command, encode_answer, encode_command
from harness.protocols.iec62056_21_reader import FrameReader, add_even_parity, strip_even_parity

P1_00000000 = bytes.fromhex("01 50 31 02 28 30 30 30 30 30 30 30 30 29 03 61")
B0 = bytes.fromhex("01 42 30 03 71")
IDENT = b"/ISk5MT174-0001\r\n"
READOUT = encode_readout([DataSet("1.8.0", "001234.5", "kWh"), DataSet("F.F", "00")])


def test_meter_side_session() -> None:
    reader = FrameReader()
    assert reader.feed(b"\x00" * 8 + encode_request()) == [b"/?!\r\n"]
    assert reader.feed(IDENT + READOUT) == [IDENT, READOUT]
    assert reader.offset == 8 + 5 + len(IDENT) + len(READOUT)


def test_byte_at_a_time() -> None:
    reader = FrameReader()
    stream = P1_00000000 + b"\x06" + B0
    out = [message for byte in stream for message in reader.feed(bytes([byte]))]
    assert out == [P1_00000000, b"\x06", B0]
    assert reader.pending == b""


def test_block_waits_for_bcc_after_etx() -> None:
    reader = FrameReader()
    assert reader.feed(B0[:-1]) == []
    assert reader.pending == B0[:-1]
    assert reader.feed(B0[-1:]) == [B0]


@pytest.mark.parametrize(("value", "bcc"), [("ab8", 0x01), ("aa8", 0x02), ("aa9", 0x03),
                                           ("ad9", 0x06), ("av8", 0x15), ("aA5", 0x2F)])
def test_bcc_byte_may_look_like_a_start_or_end_byte(value: str, bcc: int) -> None:
    frame = encode_command(Command.write("C.1", value))
    assert frame[-1] == bcc
    assert FrameReader().feed(frame + B0) == [frame, B0]
    assert frame_bcc(frame) == bcc


def test_ack_alone_or_as_option_select() -> None:
    option = encode_option_select(OptionSelect("0", "5", "1"))
    assert FrameReader().feed(b"\x06\x15") == [b"\x06", b"\x15"]
    meter_side = FrameReader(ack_starts_line=True)
    assert meter_side.feed(option[:3]) == []
    assert meter_side.feed(option[3:]) == [option]


def test_reset_drops_partial_message() -> None:
    reader = FrameReader()
    reader.feed(b"/ISk5MT")
    reader.reset()
    assert reader.pending == b""
    assert reader.feed(B0) == [B0]
    assert reader.offset == 7 + len(B0)


def test_garbage_is_reported_with_stream_offset_and_skipped() -> None:
    reader = FrameReader()
    assert reader.feed(B0) == [B0]
    with pytest.raises(ProtocolError) as info:
        reader.feed(b"xyz" + B0)
    assert info.value.context["offset"] == len(B0)
    assert f"garbage byte 0x78 at byte {len(B0)}" in str(info.value)
    assert reader.feed(b"") == [B0]


def test_messages_before_garbage_come_first() -> None:
    reader = FrameReader()
    assert reader.feed(B0 + b"\xff" + B0) == [B0]
    with pytest.raises(ProtocolError) as info:
        reader.feed(b"")
    assert info.value.context["offset"] == len(B0)
    assert reader.feed(b"") == [B0]


def test_line_too_long() -> None:
    reader = FrameReader(max_line_length=16)
    assert reader.feed(b"/" + b"A" * 14) == []
    with pytest.raises(ProtocolError) as info:
        reader.feed(b"A")
    assert info.value.context["offset"] == 16
    assert reader.pending == b""
    assert FrameReader(max_line_length=len(IDENT)).feed(IDENT) == [IDENT]


def test_block_too_long() -> None:
    reader = FrameReader(max_length=64)
    with pytest.raises(ProtocolError, match="longer than 64 bytes at byte 69"):
        reader.feed(b"\x00" * 5 + b"\x02" + b"1" * 100)
    assert reader.pending == b""
    assert FrameReader(max_length=len(READOUT)).feed(READOUT) == [READOUT]
    with pytest.raises(ProtocolError):
        FrameReader(max_length=len(READOUT) - 1).feed(READOUT)


def test_limits_must_be_sane() -> None:
    with pytest.raises(ValueError):
        FrameReader(max_length=2)


messages = st.sampled_from([
    encode_request(), encode_request("123"), IDENT, READOUT, P1_00000000, B0,
    encode_identification(Identification("ABC", "6", "x", "2")),
    encode_answer(Answer("ack")), encode_answer(Answer("nak")),
    encode_answer(Answer("error", error="ERROR")),
    encode_answer(Answer("data", (DataSet("", "1", "kWh"),))),
])


@given(st.lists(messages, max_size=12), st.data())
def test_any_chunking_gives_the_same_messages(sent: list[bytes], data: st.DataObject) -> None:
    stream = b"".join(sent)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    reader = FrameReader()
    received: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received += reader.feed(stream[start:end])
    assert received == sent
    assert reader.pending == b""


# --- 7E1 parity ------------------------------------------------------------------------------

def test_parity_examples() -> None:
    assert add_even_parity(b"/?!\r\n") == bytes([0xAF, 0x3F, 0x21, 0x8D, 0x0A])
    assert strip_even_parity(bytes([0xAF, 0x3F, 0x21, 0x8D, 0x0A])) == b"/?!\r\n"


def test_parity_error_names_offset() -> None:
    with pytest.raises(ProtocolError) as info:
        strip_even_parity(bytes([0xAF, 0x3F, 0xA1]))
    assert info.value.context["offset"] == 2
    assert "parity error in byte 0xA1 at byte 2" in str(info.value)


def test_add_parity_refuses_8_bit_data() -> None:
    with pytest.raises(ValueError, match="byte 1"):
        add_even_parity(b"a\x80")


@given(st.binary().map(lambda b: bytes(x & 0x7F for x in b)))
def test_parity_round_trip(data: bytes) -> None:
    framed = add_even_parity(data)
    assert all(byte.bit_count() % 2 == 0 for byte in framed)
    assert strip_even_parity(framed) == data
