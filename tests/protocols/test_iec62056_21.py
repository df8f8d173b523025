"""IEC 62056-21 mode C codecs: the published bytes, round trips, and every malformed-input error."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.iec62056_21 import (
    BAUD_RATES,
    ETX,
    SOH,
    STX,
    DataSet,
    Identification,
    OptionSelect,
    baud_for_char,
    bcc,
    char_for_baud,
    encode_dataset,
    encode_identification,
    encode_option_select,
    encode_readout,
    encode_request,
    frame_bcc,
    parse_dataset,
    parse_identification,
    parse_option_select,
    parse_readout,
    parse_request,
)
from harness.protocols.iec62056_21_programming import (
    Answer,
    Command,
    encode_answer,
    encode_command,
    parse_answer,
    parse_command,
)

SIGN_ON = bytes.fromhex("2F 3F 21 0D 0A")
ACK_PROGRAMMING_9600 = bytes.fromhex("06 30 35 31 0D 0A")
P1_00000000 = bytes.fromhex("01 50 31 02 28 30 30 30 30 30 30 30 30 29 03 61")
B0 = bytes.fromhex("01 42 30 03 71")

PRINTABLE = "".join(chr(c) for c in range(0x20, 0x7F))


def _without(bad: str) -> str:
    return "".join(c for c in PRINTABLE if c not in bad)


def _block(start: int, body: bytes) -> bytes:
    """Frame a body with a correct BCC, so a test can break exactly one other thing."""
    frame = bytes([start]) + body + bytes([ETX])
    return frame + bytes([bcc(frame[1:])])


def _raises_at(offset: int, func, data, **kwargs) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        func(data, **kwargs)
    assert info.value.context["offset"] == offset
    assert f"at byte {offset}" in str(info.value)
    assert info.value.context["expected"]
    return info.value


# --- published examples ----------------------------------------------------------------------

def test_sign_on_request_bytes() -> None:
    assert encode_request() == SIGN_ON
    assert parse_request(SIGN_ON) == ""


def test_ack_programming_9600_bytes() -> None:
    option = OptionSelect("0", "5", "1")
    assert encode_option_select(option) == ACK_PROGRAMMING_9600
    assert parse_option_select(ACK_PROGRAMMING_9600) == option
    assert option.baud == 9600


def test_p1_password_bytes() -> None:
    command = Command("P", "1", "00000000")
    assert Command.password("00000000") == command
    assert encode_command(command) == P1_00000000
    assert parse_command(P1_00000000) == command


def test_b0_sign_off_bytes() -> None:
    assert encode_command(Command.sign_off()) == B0
    assert parse_command(B0) == Command("B", "0")


def test_bcc_of_published_frames() -> None:
    assert bcc(P1_00000000[1:-1]) == 0x61
    assert frame_bcc(P1_00000000) == 0x61
    assert frame_bcc(B0) == 0x71
    assert frame_bcc(b"garbage" + B0) == 0x71


# --- baud table ------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("char", "baud"),
    [("0", 300), ("1", 600), ("2", 1200), ("3", 2400), ("4", 4800), ("5", 9600), ("6", 19200)],
)
def test_baud_table(char: str, baud: int) -> None:
    assert baud_for_char(char) == baud
    assert char_for_baud(baud) == char


def test_baud_errors() -> None:
    with pytest.raises(ProtocolError, match="bad baud character '7'"):
        baud_for_char("7")
    with pytest.raises(ValueError, match="115200"):
        char_for_baud(115200)


# --- examples --------------------------------------------------------------------------------

def test_request_with_address() -> None:
    assert encode_request("12345678") == b"/?12345678!\r\n"
    assert parse_request(b"/?12345678!\r\n") == "12345678"


def test_identification_fast_and_slow() -> None:
    fast = parse_identification(b"/ISk5MT174-0001\r\n")
    assert fast == Identification("ISk", "5", "MT174-0001")
    assert fast.fast_reaction and fast.reaction_time_s == pytest.approx(0.020)
    assert fast.baud == 9600
    slow = parse_identification(b"/LGZ4ZMF100AC.M23\r\n")
    assert not slow.fast_reaction and slow.reaction_time_s == pytest.approx(0.200)
    assert slow.baud == 4800


def test_identification_enhanced() -> None:
    ident = parse_identification(b"/ABC6\\2Ident 01\r\n")
    assert ident == Identification("ABC", "6", "Ident 01", enhanced="2")
    assert encode_identification(ident) == b"/ABC6\\2Ident 01\r\n"


def test_dataset_forms() -> None:
    assert DataSet("1.8.0", "001234.5", "kWh").encode() == b"1.8.0(001234.5*kWh)"
    assert encode_dataset(DataSet("F.F", "00")) == b"F.F(00)"
    assert DataSet.parse(b"1-0:1.8.0*01(12.5*kWh)") == DataSet("1-0:1.8.0*01", "12.5", "kWh")
    assert parse_dataset(b"(7)") == DataSet("", "7")


def test_readout_example() -> None:
    datasets = [DataSet("0.0.0", "12345678"), DataSet("1.8.0", "001234.5", "kWh")]
    frame = encode_readout(datasets)
    assert frame[:-1] == b"\x020.0.0(12345678)\r\n1.8.0(001234.5*kWh)\r\n!\r\n\x03"
    assert frame[-1] == frame_bcc(frame)
    assert parse_readout(frame) == datasets


def test_readout_lines_with_several_datasets() -> None:
    frame = _block(STX, b"C.1(1)(2)\r\n\r\n1.8.0(5*kWh)2.8.0(6*kWh)\r\n!\r\n")
    assert parse_readout(frame) == [
        DataSet("C.1", "1"), DataSet("", "2"),
        DataSet("1.8.0", "5", "kWh"), DataSet("2.8.0", "6", "kWh"),
    ]
    assert encode_readout(parse_readout(frame), per_line=2)[1:12] == b"C.1(1)(2)\r\n"


def test_empty_readout() -> None:
    assert encode_readout([]) == _block(STX, b"!\r\n")
    assert parse_readout(_block(STX, b"!\r\n")) == []


def test_read_and_write_commands() -> None:
    assert encode_command(Command.read("1.8.0")) == _block(SOH, b"R1\x021.8.0()")
    assert encode_command(Command.write("C.1", "42")) == _block(SOH, b"W1\x02C.1(42)")
    assert parse_command(_block(SOH, b"R1\x021.8.0(8)")) == Command("R", "1", "8", "1.8.0")


def test_answers() -> None:
    assert parse_answer(b"\x06") == Answer("ack")
    assert parse_answer(b"\x15") == Answer("nak")
    assert parse_answer(_block(STX, b"(0001234.5*kWh)")) == Answer(
        "data", (DataSet("", "0001234.5", "kWh"),))
    assert parse_answer(_block(STX, b"(ERROR)")) == Answer("error", error="ERROR")
    assert parse_answer(_block(STX, b"(ER01)")) == Answer("error", error="ER01")
    prompt = _block(SOH, b"P0\x02(1234ABCD)")
    assert parse_answer(prompt) == Answer("command", command=Command("P", "0", "1234ABCD"))


def test_answer_error_test_is_replaceable() -> None:
    frame = _block(STX, b"(FAIL 3)")
    assert parse_answer(frame).kind == "data"
    assert parse_answer(frame, is_error=lambda t: t.startswith("FAIL")).error == "FAIL 3"


def test_encode_answers() -> None:
    assert encode_answer(Answer("ack")) == b"\x06"
    assert encode_answer(Answer("nak")) == b"\x15"
    assert encode_answer(Answer("error", error="ERROR")) == _block(STX, b"(ERROR)")
    assert encode_answer(Answer("command", command=Command.sign_off())) == B0


# --- encoder-side validation -----------------------------------------------------------------

@pytest.mark.parametrize(
    "build",
    [
        lambda: Identification("AB", "5"),
        lambda: Identification("A1C", "5"),
        lambda: Identification("ABC", "9"),
        lambda: Identification("ABC", "5", "a/b"),
        lambda: Identification("ABC", "5", "\\x"),
        lambda: Identification("ABC", "5", enhanced="22"),
        lambda: OptionSelect("x", "5", "0"),
        lambda: OptionSelect("0", "7", "0"),
        lambda: OptionSelect("0", "5", "10"),
        lambda: DataSet("a(b", "1"),
        lambda: DataSet("a", "1*2"),
        lambda: DataSet("a", "1", "k)"),
        lambda: DataSet("a", "caf\u00e9"),
        lambda: Command("X", "1"),
        lambda: Command("P", "A"),
        lambda: Command("R", "1", None, "1.8.0"),
        lambda: Command("P", "1", "a)b"),
        lambda: Answer("maybe"),  # type: ignore[arg-type]
        lambda: Answer("ack", error="ERROR"),
        lambda: Answer("error"),
        lambda: Answer("command"),
        lambda: Answer("nak", (DataSet("a", "1"),)),
        lambda: encode_request("a!b"),
        lambda: encode_request("1" * 33),
        lambda: encode_readout([], per_line=0),
    ],
)
def test_invalid_fields_are_refused(build) -> None:
    with pytest.raises(ValueError):
        build()


# --- round trips -----------------------------------------------------------------------------

addresses = st.text(_without("()/!"), max_size=16)
values = st.text(_without("()*/!"), max_size=32)
units = st.none() | st.text(_without("()*/!"), max_size=16)
datasets = st.builds(DataSet, addresses, values, units)
baud_chars = st.sampled_from(sorted(BAUD_RATES))
digits = st.sampled_from(string.digits)


@given(datasets)
def test_dataset_round_trip(dataset: DataSet) -> None:
    assert parse_dataset(dataset.encode()) == dataset


@given(st.lists(datasets, max_size=20), st.integers(1, 4))
def test_readout_round_trip(items: list[DataSet], per_line: int) -> None:
    frame = encode_readout(items, per_line=per_line)
    assert frame[-1] == frame_bcc(frame)
    assert parse_readout(frame) == items


@st.composite
def commands(draw: st.DrawFn) -> Command:
    data = draw(st.none() | st.text(_without("()"), max_size=64))
    address = draw(addresses) if data is not None else ""
    return Command(draw(st.sampled_from("PWREB")), draw(digits), data, address)


@given(commands())
def test_command_round_trip(command: Command) -> None:
    frame = encode_command(command)
    assert frame[-1] == frame_bcc(frame)
    assert parse_command(frame) == command


@st.composite
def identifications(draw: st.DrawFn) -> Identification:
    letters = draw(st.text(string.ascii_letters, min_size=3, max_size=3))
    enhanced = draw(st.none() | st.sampled_from(_without("/!")))
    ident = draw(st.text(_without("/!"), max_size=16))
    assume(enhanced is not None or not ident.startswith("\\"))
    return Identification(letters, draw(baud_chars), ident, enhanced)


@given(identifications())
def test_identification_round_trip(ident: Identification) -> None:
    assert parse_identification(encode_identification(ident)) == ident
    assert ident.fast_reaction == ident.manufacturer[2].islower()


@given(digits, baud_chars, digits)
def test_option_select_round_trip(control: str, baud: str, mode: str) -> None:
    option = OptionSelect(control, baud, mode)
    assert parse_option_select(encode_option_select(option)) == option


@given(st.text(_without("/?!"), max_size=32))
def test_request_round_trip(address: str) -> None:
    assert parse_request(encode_request(address)) == address


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    kind = draw(st.sampled_from(["ack", "nak", "data", "error", "command"]))
    if kind == "data":
        items = draw(st.lists(datasets, max_size=5))
        lone = len(items) == 1 and not items[0].address and items[0].unit is None
        assume(not (lone and items[0].value.upper().startswith("ER")))
        return Answer("data", tuple(items))
    if kind == "error":
        return Answer("error", error="ER" + draw(st.text(_without("()"), max_size=16)))
    if kind == "command":
        return Answer("command", command=draw(commands()))
    return Answer(kind)


@given(answers())
def test_answer_round_trip(answer: Answer) -> None:
    assert parse_answer(encode_answer(answer)) == answer


# --- malformed input: every error names its byte offset -------------------------------------

def test_bad_bcc() -> None:
    error = _raises_at(15, parse_command, P1_00000000[:-1] + b"\x62")
    assert "bad BCC" in str(error) and "0x61" in str(error)
    _raises_at(4, parse_command, B0[:-1] + b"\x00")
    readout = encode_readout([DataSet("1.8.0", "1")])
    _raises_at(len(readout) - 1, parse_readout, readout[:-1] + bytes([readout[-1] ^ 1]))
    _raises_at(9, parse_answer, _block(STX, b"(ERROR)")[:-1] + b"\x00")


def test_missing_etx() -> None:
    error = _raises_at(14, parse_command, P1_00000000[:-2])
    assert "missing ETX" in str(error)
    _raises_at(5, parse_readout, b"\x02!\r\n\x00")
    _raises_at(5, frame_bcc, b"\x01B0\x00\x00")


def test_truncated_frames() -> None:
    assert "truncated" in str(_raises_at(15, parse_command, P1_00000000[:-1]))
    _raises_at(0, parse_command, b"")
    _raises_at(0, parse_answer, b"")
    _raises_at(4, parse_request, b"/?!\r")
    _raises_at(2, parse_request, b"/?")
    _raises_at(3, parse_identification, b"/AB")
    _raises_at(6, parse_identification, b"/ABC5\\")
    _raises_at(9, parse_identification, b"/ABC5xyz\r")
    _raises_at(8, parse_identification, b"/ABC5xyz")
    _raises_at(4, parse_option_select, b"\x06051")
    _raises_at(2, parse_option_select, b"\x060")
    _raises_at(8, parse_dataset, b"1.8.0(12")


def test_garbage_after_message() -> None:
    assert "garbage" in str(_raises_at(16, parse_command, P1_00000000 + b"x"))
    _raises_at(5, parse_request, SIGN_ON + b"\r")
    _raises_at(6, parse_option_select, ACK_PROGRAMMING_9600 + b"0")
    _raises_at(1, parse_answer, b"\x06\x06")
    _raises_at(4, parse_dataset, b"a(1)b")
    _raises_at(14, parse_command, _block(SOH, b"P1\x02(00000000)x"))


def test_wrong_start_byte() -> None:
    for func, data in [
        (parse_command, b"\x02" + P1_00000000[1:]),
        (parse_readout, _block(SOH, b"!\r\n")),
        (parse_request, b"X?!\r\n"),
        (parse_identification, b"XABC5\r\n"),
        (parse_option_select, b"\x15051\r\n"),
        (parse_answer, b"A"),
        (frame_bcc, b"B0\x03q"),
    ]:
        assert "start" in str(_raises_at(0, func, data))
    _raises_at(1, parse_request, b"/!\r\n")


def test_bad_baud_char() -> None:
    error = _raises_at(4, parse_identification, b"/ABC9ident\r\n")
    assert "bad baud character '9'" in str(error)
    _raises_at(2, parse_option_select, b"\x06091\r\n")


def test_bad_digits_and_letters() -> None:
    _raises_at(2, parse_identification, b"/A1C5ident\r\n")
    _raises_at(1, parse_option_select, b"\x06x51\r\n")
    _raises_at(3, parse_option_select, b"\x0605x\r\n")
    _raises_at(1, parse_command, _block(SOH, b"X1"))
    _raises_at(2, parse_command, _block(SOH, b"PX"))
    _raises_at(3, parse_command, _block(SOH, b"P1(00)"))


def test_non_printable_where_text_expected() -> None:
    error = _raises_at(7, parse_identification, b"/ABC5id\x01x\r\n")
    assert "non-printable byte 0x01" in str(error)
    _raises_at(4, parse_request, b"/?ab\x7f!\r\n")
    _raises_at(6, parse_readout, _block(STX, b"1.8(1\x7f)\r\n!\r\n"))
    _raises_at(6, parse_identification, b"/ABC5\\\x10x\r\n")
    _raises_at(5, parse_command, _block(SOH, b"P1\x02(\x00)"))
    _raises_at(2, parse_dataset, b"1.\xb08(1)")


def test_misplaced_delimiters() -> None:
    assert "unterminated" in str(_raises_at(9, parse_readout, _block(STX, b"1.8.0(12!\r\n")))
    _raises_at(4, parse_readout, _block(STX, b"1.8\r\n(1)\r\n!\r\n"))
    _raises_at(3, parse_readout, _block(STX, b"(1)\r\n"))
    _raises_at(1, parse_readout, _block(STX, b"\r\n"))
    _raises_at(3, parse_request, b"/?a/!\r\n")
    _raises_at(7, parse_identification, b"/ABC5ab!\r\n")
    _raises_at(3, parse_dataset, b"a(1(2)")
    _raises_at(5, parse_dataset, b"a(1*k*)")
    _raises_at(4, parse_command, _block(SOH, b"R1\x02"))


def test_errors_are_value_errors_with_context() -> None:
    with pytest.raises(ValueError) as info:
        parse_command(P1_00000000[:-1] + b"\x00")
    assert isinstance(info.value, ProtocolError)
    assert info.value.context == {"offset": 15, "expected": "BCC 0x61"}
