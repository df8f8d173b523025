"""Hypothesis fuzz of every pure parser: whatever the bytes, only our own errors escape.

Bounded for CI (a few hundred examples each, no deadline); the full-size campaign with
counts is benchmarks/fuzz_parsers.py.  DUIS has its own in duis/test_duis_hostile.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import MeterbenchError
from harness.protocols import ble_uart, gbcs_alerts
from harness.protocols import iec62056_21 as iec
from harness.protocols import iec62056_21_programming as prog
from harness.protocols import telegesis as tg
from harness.protocols.duis import RequestId
from harness.protocols.iec62056_21_reader import FrameReader, strip_even_parity
from harness.protocols.installcode import InstallCode
from harness.protocols.telegesis_extra import parse_extension

IDENT = iec.encode_identification(iec.Identification("EMh", "5", "EMU-ESME-1"))
READOUT = iec.encode_readout([iec.DataSet("1.8.0", "00001.5", "kWh")])
COMMAND = prog.encode_command(prog.Command("R", "1", "", "1.8.0"))
TOKENS = [b"\xc2\xb2", b"\xd9\xa1", b"9" * 5000, b"nan", b"(", b")", b"*", b"\r\n", b"\x03",
          b"\x02", b"\x01", b"!", b":", b",", b"\xff", b"A" * 1500]
SEEDS = [IDENT, READOUT, COMMAND, b"1.8.0(00001.5*kWh)", iec.encode_request("1234"),
         b"+N=COO,12,-04,1234,ABCDEF0123456789", b"NEWNODE:1A2B,000D6F0000ABCDEF,0000",
         b"JPAN:15,1234,ABCDEF0123456789", b"0.|FFD|000D6F0000ABCDEF|1A2B|FF",
         b"+PANSCAN:15,1234,ABCDEF0123456789,02,01,-40,200", b"ERROR:0C", b"11:A0",
         b"AUTHFAIL:1A2B,000D6F0000ABCDEF", b"83FED3407A939723A5C639B26916D505C3B5",
         b"00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:17"]


@st.composite
def hostile(draw: st.DrawFn) -> bytes:
    """A seed with a few bytes or tokens swapped in, or plain random bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=200))
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        end = draw(st.integers(at, min(len(data), at + 6)))
        data[at:end] = draw(st.sampled_from(TOKENS) | st.binary(max_size=3))
    return bytes(data)


def _text(call: Callable[[str], object]) -> Callable[[bytes], object]:
    return lambda data: call(data.decode("utf-8", "surrogateescape"))


def _frames(data: bytes) -> None:
    reader = FrameReader()
    for i in range(0, len(data), 7):
        with contextlib.suppress(MeterbenchError):
            reader.feed(data[i:i + 7])
    reader.feed(b"")


def _assemble(data: bytes) -> None:
    assembler = tg.ResponseAssembler()
    for line in [*data.split(b"\r\n"), b"OK"]:
        response = assembler.add(line)
        if response is not None:
            for parse in (tg.parse_ati, tg.parse_escan, tg.parse_panscan,
                          tg.parse_network_info, tg.parse_ntable, tg.parse_register):
                with contextlib.suppress(MeterbenchError):
                    parse(response)


PARSERS: dict[str, Callable[[bytes], object]] = {
    "iec.parse_request": iec.parse_request,
    "iec.parse_identification": iec.parse_identification,
    "iec.parse_option_select": iec.parse_option_select,
    "iec.parse_dataset": iec.parse_dataset,
    "iec.parse_readout": iec.parse_readout,
    "prog.parse_command": prog.parse_command,
    "prog.parse_answer": prog.parse_answer,
    "FrameReader": _frames,
    "strip_even_parity": strip_even_parity,
    "tg.parse_line": tg.parse_line,
    "tg.responses": _assemble,
    "parse_extension": _text(parse_extension),
    "InstallCode.parse": _text(InstallCode.parse),
    "ble_uart.decode_line_coding": ble_uart.decode_line_coding,
    "gbcs_alerts.alert_info": lambda data: gbcs_alerts.alert_info(int.from_bytes(data[:4])),
    "RequestId.parse": _text(RequestId.parse),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=150, deadline=None)
@given(data=hostile())
def test_only_our_errors_escape(name: str, data: bytes) -> None:
    with contextlib.suppress(MeterbenchError):
        PARSERS[name](data)


@pytest.mark.parametrize("line", [
    "+N=COO,15," + "9" * 5000 + ",1234,ABCDEF0123456789",  # int() refuses 4,300+ digits
    "+N=COO,\u0661\u0665,-04,1234,ABCDEF0123456789",  # Arabic-Indic digits match \d
    "+PANSCAN:15,1234,ABCDEF0123456789,02,01,-" + "4" * 5000 + ",C8",
    "JPAN:\u0661\u0665,1234,ABCDEF0123456789",
])
def test_telegesis_hostile_numbers_are_protocol_errors(line: str) -> None:
    """Regressions found by benchmarks/fuzz_parsers.py: int()'s ValueError escaped."""
    with pytest.raises(MeterbenchError):
        tg.parse_line(line)
