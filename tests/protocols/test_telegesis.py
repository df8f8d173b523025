"""Telegesis ETRX357 AT codec: encoders, line reader, line types and recorded transcripts.

The transcripts are written in the forms of the R309 AT command manual (echo on, every
line ended by CR LF as the module sends it).
"""

from __future__ import annotations

import itertools
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import OperationError, ProtocolError
from harness.protocols import telegesis as tg
from harness.protocols.installcode import InstallCode

EUI = "000D6F0000B0C6F1"


def _wire(*lines: str) -> bytes:
    """Lines as the module sends them: each ended by CR LF."""
    return b"".join(line.encode("ascii") + b"\r\n" for line in lines)


def _run(transcript: bytes) -> list[tg.Response]:
    """Feed a byte transcript through reader and assembler; return the complete responses."""
    reader = tg.AtLineReader()
    assembler = tg.ResponseAssembler()
    responses: list[tg.Response] = []
    for line in reader.feed(transcript):
        done = assembler.add(line)
        if done is not None:
            responses.append(done)
    return responses


# --- encoders ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (tg.ati(), b"ATI\r"),
        (tg.escan(), b"AT+ESCAN\r"),
        (tg.en(), b"AT+EN\r"),
        (tg.panscan(), b"AT+PANSCAN\r"),
        (tg.dassl(), b"AT+DASSL\r"),
        (tg.n_query(), b"AT+N?\r"),
        (tg.pjoin(), b"AT+PJOIN\r"),
        (tg.pjoin(60), b"AT+PJOIN:3C\r"),
        (tg.pjoin(0xFF), b"AT+PJOIN:FF\r"),
        (tg.ntable(0), b"AT+NTABLE:00,0000\r"),
        (tg.ntable(3, "1a2b"), b"AT+NTABLE:03,1A2B\r"),
        (tg.ntable(0, EUI), b"AT+NTABLE:00," + EUI.encode() + b"\r"),
        (tg.read_register(0x0A), b"ATS0A?\r"),
        (tg.read_register("s09"), b"ATS09?\r"),
        (tg.write_register(0x00, 0x0200), b"ATS00=0200\r"),
        (tg.write_register("02", "7A31"), b"ATS02=7A31\r"),
        (tg.write_register(0x03, 0xA1B2C), b"ATS03=00000000000A1B2C\r"),
        (tg.write_register(0x0A, 0x0114, password="password"), b"ATS0A=0114:password\r"),
    ],
)
def test_encoders(encoded: bytes, expected: bytes) -> None:
    assert encoded == expected
    assert encoded.endswith(b"\r")


def test_link_key_from_install_code_written_to_s09() -> None:
    key = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5").link_key()
    line = tg.write_register(0x09, key, password="password")
    assert line == b"ATS09=66B6900981E1EE3CA4206B6B861C02BB:password\r"
    assert tg.write_register(9, bytes(key), "password") == line


@pytest.mark.parametrize("register", [0x08, 0x09, 0x0A, 0x0C])
def test_secret_registers_need_a_password(register: int) -> None:
    with pytest.raises(ValueError, match="needs the password"):
        tg.write_register(register, "00" * 16)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: tg.pjoin(256), "0..255"),
        (lambda: tg.pjoin(-1), "0..255"),
        (lambda: tg.ntable(256), "0..255"),
        (lambda: tg.ntable(0, "12345"), "hex digits"),
        (lambda: tg.read_register("S1G"), "hex digits"),
        (lambda: tg.read_register(0x100), "0x00..0xFF"),
        (lambda: tg.write_register(0x40, 5), "no known width"),
        (lambda: tg.write_register(0x00, 0x10000), "does not fit"),
        (lambda: tg.write_register(0x00, -1), "negative"),
        (lambda: tg.write_register(0x00, "12\r\nATZ"), "without CR"),
        (lambda: tg.write_register(0x00, ""), "non-empty"),
        (lambda: tg.write_register(0x09, "00", password="pass\rword"), "password"),
    ],
)
def test_encoder_argument_errors(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


@given(st.integers(min_value=0, max_value=0xFF))
def test_pjoin_round_trip(seconds: int) -> None:
    line = tg.pjoin(seconds)
    found = re.fullmatch(rb"AT\+PJOIN:([0-9A-F]{2})\r", line)
    assert found is not None
    assert int(found.group(1), 16) == seconds
    assert tg.parse_line(line.rstrip(b"\r")) == tg.Echo(line.decode().rstrip("\r"))


@given(
    index=st.integers(min_value=0, max_value=0xFF),
    address=st.sampled_from([2, 4, 16]).flatmap(
        lambda n: st.text(alphabet="0123456789abcdefABCDEF", min_size=n, max_size=n)
    ),
)
def test_ntable_round_trip(index: int, address: str) -> None:
    found = re.fullmatch(
        r"AT\+NTABLE:([0-9A-F]{2}),([0-9A-F]+)\r", tg.ntable(index, address).decode()
    )
    assert found is not None
    assert int(found.group(1), 16) == index
    assert found.group(2) == address.upper()


@given(
    register=st.sampled_from(sorted(tg.REGISTER_WIDTHS)),
    data=st.data(),
)
def test_write_register_int_round_trip(register: int, data: st.DataObject) -> None:
    width = tg.REGISTER_WIDTHS[register]
    value = data.draw(st.integers(min_value=0, max_value=(1 << (4 * width)) - 1))
    password = "password" if register in tg.PASSWORD_REGISTERS else None
    text = tg.write_register(register, value, password).decode()
    found = re.fullmatch(r"ATS([0-9A-F]{2})=([0-9A-F]+)(?::password)?\r", text)
    assert found is not None
    assert int(found.group(1), 16) == register
    assert len(found.group(2)) == width
    assert int(found.group(2), 16) == value
    assert tg.read_register(register) == f"ATS{register:02X}?\r".encode()


# --- redaction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        (b"ATS09=66B6900981E1EE3CA4206B6B861C02BB:password\r", "ATS09=****:****"),
        ("ATS08=00112233445566778899AABBCCDDEEFF:pw", "ATS08=****:****"),
        ("ATS0C=newsecret:oldsecret", "ATS0C=****:****"),
        ("ATS0A=0114:password", "ATS0A=0114:****"),
        ("ATS0A8=1:password", "ATS0A8=1:****"),
        ("ATS00=0200", "ATS00=0200"),
        ("AT+PJOIN:3C", "AT+PJOIN:3C"),
    ],
)
def test_redact(line: str | bytes, shown: str) -> None:
    assert tg.redact(line) == shown


# --- line reader ------------------------------------------------------------------------------


def test_reader_splits_on_cr_lf_and_drops_empty_lines() -> None:
    reader = tg.AtLineReader()
    assert reader.feed(b"\r\nOK\r\n\r\nERROR:05\r") == ["OK", "ERROR:05"]
    assert reader.feed(b"\nJPAN:11,1234") == []
    assert reader.pending == b"JPAN:11,1234"
    assert reader.feed(b",000D6F0000B0C6F1\n") == ["JPAN:11,1234,000D6F0000B0C6F1"]
    assert reader.pending == b""


def test_reader_replaces_non_ascii() -> None:
    assert tg.AtLineReader().feed(b"\xffOK\r\n") == ["\ufffdOK"]
    assert tg.parse_line("\ufffdOK") == tg.Text("\ufffdOK")


def test_reader_overlong_line_raises_with_stream_offset() -> None:
    reader = tg.AtLineReader(max_line=16)
    with pytest.raises(ProtocolError) as info:
        reader.feed(b"OK\r\n" + b"A" * 20)
    assert info.value.context["offset"] == 4
    assert info.value.context["lines"] == ["OK"]  # the complete line is not lost
    assert reader.pending == b""  # nothing of the over-long line is held
    assert reader.feed(b"AAAA\r\nOK\r\n") == ["OK"]  # its tail is dropped, then usable again


def test_reader_never_returns_a_line_over_its_limit() -> None:
    """Regression (issue 12): a long line that ends in the same chunk came back whole."""
    reader = tg.AtLineReader(max_line=1024)
    with pytest.raises(ProtocolError) as info:
        reader.feed(b"OK\r\n" + b"A" * 3000 + b"\r\nERROR:0C\r\n")
    assert info.value.context["lines"] == ["OK", "ERROR:0C"]
    assert info.value.context["offset"] == 4
    assert reader.feed(b"B" * 1024 + b"\r\n") == ["B" * 1024]  # exactly the limit is a line


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.lists(st.integers(min_value=1, max_value=40), max_size=20))
def test_reader_fuzz_bounded_lines_and_buffer(stream: bytes, cuts: list[int]) -> None:
    """Any bytes in any chunking: only ProtocolError, lines and buffer within the limit."""
    reader = tg.AtLineReader(max_line=16)
    position = 0
    for cut in [*cuts, len(stream)]:
        chunk, position = stream[position:position + cut], position + cut
        try:
            lines = reader.feed(chunk)
        except ProtocolError as exc:
            lines = exc.context["lines"]
        assert all(len(line) <= 16 for line in lines)
        assert len(reader.pending) <= 16


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=12))
def test_reader_is_independent_of_chunking(cuts: list[int]) -> None:
    stream = ATI_TRANSCRIPT + NTABLE_TRANSCRIPT + PJOIN_TRANSCRIPT
    whole = tg.AtLineReader().feed(stream)
    reader = tg.AtLineReader()
    lines: list[str] = []
    points = sorted({min(c * 3, len(stream)) for c in cuts} | {0, len(stream)})
    for start, end in itertools.pairwise(points):
        lines += reader.feed(stream[start:end])
    assert lines == whole


# --- single lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "parsed", "prompt"),
    [
        ("OK", tg.Ok(), False),
        ("ERROR:02", tg.ErrorReply(0x02), False),
        ("NEWNODE:1A2B,000D6F0000B0C6F1,0000", tg.NewNode(0x1A2B, EUI, 0x0000), True),
        ("NEWNODE: 1a2b,000d6f0000b0c6f1,0000", tg.NewNode(0x1A2B, EUI, 0x0000), True),
        ("NODELEFT:1A2B,000D6F0000B0C6F1", tg.NodeLeft(0x1A2B, EUI), True),
        ("JPAN:20,7A31,00000000000A1B2C", tg.JoinedPan(20, 0x7A31, "00000000000A1B2C"), True),
        ("LeftPAN", tg.LeftPan(), True),
        ("LostPAN", tg.LostPan(), True),
        ("FFD:000D6F0000B0C6F1,1A2B", tg.DeviceAnnounce("FFD", EUI, 0x1A2B), True),
        ("SED:000D6F0000B0C6F1,1A2B", tg.DeviceAnnounce("SED", EUI, 0x1A2B), True),
        ("SEQ:01", tg.Sequence("SEQ", 1), True),
        ("ACK:01", tg.Sequence("ACK", 1), True),
        ("NACK:1F", tg.Sequence("NACK", 0x1F), True),
        ("UCAST:000D6F0000B0C6F1,05=hello", tg.OtherPrompt("UCAST", EUI + ",05=hello"), True),
        ("+ESCAN:", tg.EscanHeader(), False),
        ("11:BE", tg.EnergyReading(11, 0xBE), False),
        (
            "+PANSCAN:19,9D12,BD42FE090EEE14CA,02,01",
            tg.PanScanResult(19, 0x9D12, "BD42FE090EEE14CA", 2, True),
            False,
        ),
        (
            "+PANSCAN:11,2001,000000003ADE68B1,02,00,-78,AA",
            tg.PanScanResult(11, 0x2001, "000000003ADE68B1", 2, False, -78, 0xAA),
            False,
        ),
        ("+N=COO,24,-04,0AB1,000D6F0000B0C6F1", tg.NetworkInfo("COO", 24, -4, 0x0AB1, EUI), False),
        (
            "+N=FFD,18,5,1234,1234567890ABCDEF",
            tg.NetworkInfo("FFD", 18, 5, 0x1234, "1234567890ABCDEF"),
            False,
        ),
        ("+N=NoPAN", tg.NetworkInfo("NoPAN"), False),
        ("NTable:0000,00", tg.NTableHeader("0000", 0), True),
        ("Length:03", tg.TableLength(3), True),
        ("No.| Dev | EUI | ID | LQI", tg.TableColumns(), True),
        (
            "0. | FFD | 000D6F0000B0C6F1 | 0000 | FF",
            tg.NeighbourEntry(0, "FFD", EUI, 0, 0xFF),
            True,
        ),
        ("ATI", tg.Echo("ATI"), False),
        ("Telegesis ETRX357", tg.Text("Telegesis ETRX357"), False),
        ("R309C", tg.Text("R309C"), False),
    ],
)
def test_parse_line(line: str, parsed: tg.AtLine, prompt: bool) -> None:
    assert tg.parse_line(line) == parsed
    assert tg.parse_line(line.encode()) == parsed
    assert tg.is_prompt(line) is prompt
    assert tg.is_prompt(parsed) is prompt
    assert tg.is_final(line) is isinstance(parsed, tg.Ok | tg.ErrorReply)


@pytest.mark.parametrize(
    "line",
    [
        "ERROR",
        "ERROR:XY",
        "NEWNODE:1A2B,000D6F",
        "JPAN:20,7A31",
        "+PANSCAN:11,2001",
        "+N=COO,24",
        "NTable:0000",
        "SEQ:1",
        "+ESCAN:11",
        "FFD:1A2B",
    ],
)
def test_malformed_known_lines_raise(line: str) -> None:
    with pytest.raises(ProtocolError, match="Telegesis"):
        tg.parse_line(line)


def test_network_info_in_pan() -> None:
    assert tg.parse_line("+N=COO,24,-04,0AB1,000D6F0000B0C6F1").in_pan  # type: ignore[union-attr]
    assert not tg.NetworkInfo("NoPAN").in_pan


# --- error codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (0x00, "Everything OK - Success"),
        (0x02, "Unknown command"),
        (0x04, "Invalid S-register"),
        (0x05, "Invalid parameter"),
        (0x0C, "Too many characters"),
        (0x20, "Invalid password"),
        (0x25, "Cannot form network"),
        (0x28, "Operation cannot be completed if node is part of a PAN"),
        (0x03, "Telegesis error 0x03"),
        (0xFE, "Telegesis error 0xFE"),
    ],
)
def test_error_names(code: int, name: str) -> None:
    assert tg.error_name(code) == name
    assert tg.ErrorReply(code).name == name


def test_an_error_reply_is_decoded_not_raised_and_its_text_redacts_the_command() -> None:
    """The codec decodes ERROR:<code> (a well-formed answer); the driver raises for it."""
    transcript = _wire("ATS09=66B6900981E1EE3CA4206B6B861C02BB:wrong", "ERROR:20")
    (response,) = _run(transcript)
    assert not response.ok
    assert response.error == tg.ErrorReply(0x20)
    command = tg.write_register(9, bytes(16), "wrong")
    text = tg.error_text(response.error, command)
    assert text == "ATS09=****:****: ERROR:20 (Invalid password)" and "wrong" not in text


def test_the_drivers_command_error_is_an_operation_error_that_pickles() -> None:
    from harness.drivers.zigbee.telegesis import TelegesisCommandError, command_error

    err = command_error(tg.ErrorReply(0x20), tg.write_register(9, bytes(16), "wrong"))
    assert isinstance(err, OperationError)
    assert err.context["code"] == 0x20
    assert "Invalid password" in str(err)
    assert "ATS09=****:****" in str(err)
    assert "wrong" not in str(err)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is TelegesisCommandError
    assert str(clone) == str(err)


# --- transcripts (R309 manual forms) ----------------------------------------------------------

ATI_TRANSCRIPT = _wire("ATI", "Telegesis ETRX357", "R309C", "000D6F0000B0C6F1", "", "OK")
ESCAN_TRANSCRIPT = _wire(
    "AT+ESCAN", "+ESCAN:", *(f"{ch}:{0xA0 + ch:02X}" for ch in range(11, 27)), "OK"
)
EN_TRANSCRIPT = _wire("AT+EN", "JPAN:20,7A31,00000000000A1B2C", "OK")
PANSCAN_TRANSCRIPT = _wire(
    "AT+PANSCAN",
    "+PANSCAN:11,2001,000000003ADE68B1,02,00",
    "+PANSCAN:19,9D12,BD42FE090EEE14CA,02,01",
    "OK",
)
N_TRANSCRIPT = _wire("AT+N?", "+N=COO,20,08,7A31,00000000000A1B2C", "OK")
NOPAN_TRANSCRIPT = _wire("AT+N?", "+N=NoPAN", "OK")
NTABLE_TRANSCRIPT = _wire(
    "AT+NTABLE:00,0000",
    "SEQ:01",
    "OK",
    "NTable:0000,00",
    "Length:03",
    "No.| Dev | EUI | ID | LQI",
    "0. | FFD | 000D6F0000B0C6F1 | 0000 | FF",
    "1. | RFD | 000D6F00000AAF61 | 2F5D | C4",
    "2. | SED | 000D6F00000B3E77 | 1B08 | 7E",
    "ACK:01",
)
PJOIN_TRANSCRIPT = _wire(
    "AT+PJOIN:3C",
    "OK",
    "NEWNODE:1B08,000D6F00000B3E77,0000",
    "SED:000D6F00000B3E77,1B08",
)
REGISTER_TRANSCRIPT = _wire("ATS0A?", "0114", "OK")


def test_ati_transcript() -> None:
    (response,) = _run(ATI_TRANSCRIPT)
    assert response.ok
    assert tg.parse_ati(response) == tg.DeviceIdentity("ETRX357", "R309C", EUI)


def test_ati_without_eui_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="ATI"):
        tg.parse_ati(["Telegesis ETRX357", "R309C", "OK"])


def test_escan_transcript() -> None:
    (response,) = _run(ESCAN_TRANSCRIPT)
    readings = tg.parse_escan(response)
    assert sorted(readings) == list(range(11, 27))
    assert readings[11] == 0xAB
    assert readings[26] == 0xBA


def test_escan_errors() -> None:
    with pytest.raises(ProtocolError, match=r"\+ESCAN: header"):
        tg.parse_escan(["11:AB", "OK"])
    with pytest.raises(ProtocolError, match="outside 11-26"):
        tg.parse_escan(["+ESCAN:", "10:AB", "OK"])


def test_en_transcript_gives_jpan_prompt() -> None:
    (response,) = _run(EN_TRANSCRIPT)
    assert response.ok
    assert response.body == ()
    assert response.prompts == (tg.JoinedPan(20, 0x7A31, "00000000000A1B2C"),)


def test_panscan_transcript() -> None:
    (response,) = _run(PANSCAN_TRANSCRIPT)
    pans = tg.parse_panscan(response)
    assert [p.pan_id for p in pans] == [0x2001, 0x9D12]
    assert [p.joinable for p in pans] == [False, True]
    assert all(p.stack_profile == 2 for p in pans)


def test_network_info_transcripts() -> None:
    (response,) = _run(N_TRANSCRIPT)
    info = tg.parse_network_info(response)
    assert info == tg.NetworkInfo("COO", 20, 8, 0x7A31, "00000000000A1B2C")
    (response,) = _run(NOPAN_TRANSCRIPT)
    assert not tg.parse_network_info(response).in_pan
    with pytest.raises(ProtocolError, match=r"0 \+N= lines"):
        tg.parse_network_info(["OK"])


def test_ntable_transcript() -> None:
    lines = tg.AtLineReader().feed(NTABLE_TRANSCRIPT)
    table = tg.parse_ntable(lines)
    assert table.address == "0000"
    assert table.error_code == 0
    assert table.length == 3
    assert table.entries == (
        tg.NeighbourEntry(0, "FFD", EUI, 0x0000, 0xFF),
        tg.NeighbourEntry(1, "RFD", "000D6F00000AAF61", 0x2F5D, 0xC4),
        tg.NeighbourEntry(2, "SED", "000D6F00000B3E77", 0x1B08, 0x7E),
    )
    # The block is asynchronous: everything after OK is a prompt.
    after_ok = lines[lines.index("OK") + 1 :]
    assert all(tg.is_prompt(x) for x in after_ok)


def test_ntable_error_and_missing_header() -> None:
    table = tg.parse_ntable(["SEQ:02", "OK", "NTable:1B08,85", "ACK:02"])
    assert (table.error_code, table.length, table.entries) == (0x85, None, ())
    with pytest.raises(ProtocolError, match="NTable"):
        tg.parse_ntable(["SEQ:02", "OK"])


def test_pjoin_transcript_prompts_arrive_after_ok() -> None:
    reader = tg.AtLineReader()
    assembler = tg.ResponseAssembler()
    lines = reader.feed(PJOIN_TRANSCRIPT)
    response = assembler.add(lines[0]) or assembler.add(lines[1])
    assert response is not None and response.ok
    prompts = [tg.parse_line(x) for x in lines[2:]]
    assert prompts == [
        tg.NewNode(0x1B08, "000D6F00000B3E77", 0x0000),
        tg.DeviceAnnounce("SED", "000D6F00000B3E77", 0x1B08),
    ]
    assert all(tg.is_prompt(p) for p in prompts)


def test_register_read_transcript() -> None:
    (response,) = _run(REGISTER_TRANSCRIPT)
    assert tg.parse_register(response) == "0114"
    with pytest.raises(ProtocolError, match="2 value lines"):
        tg.parse_register(["0114", "0000"])


def test_dassl_transcript_and_interleaved_prompt() -> None:
    transcript = _wire("AT+DASSL", "NODELEFT:1B08,000D6F00000B3E77", "OK", "LeftPAN")
    lines = tg.AtLineReader().feed(transcript)
    assembler = tg.ResponseAssembler()
    results = [assembler.add(x) for x in lines]
    response = results[2]
    assert response is not None
    assert response.ok and response.body == ()
    assert response.prompts == (tg.NodeLeft(0x1B08, "000D6F00000B3E77"),)
    assert response.error is None
    assert tg.parse_line(lines[-1]) == tg.LeftPan()


def test_assembler_resets_between_commands() -> None:
    (first, second) = _run(ATI_TRANSCRIPT + N_TRANSCRIPT)
    assert tg.parse_ati(first).eui64 == EUI
    assert tg.parse_network_info(second).channel == 20
    assert all(not isinstance(x, tg.Text) or "Telegesis" not in x.text for x in second.body)
