"""Fuzz targets for benchmarks/fuzz_parsers.py: each pure parser with seeds and a mutator.

A target is a name, valid seed inputs (made by the project's own encoders, so the mutants
reach deep into each parser) and a call that feeds one input.  The hostile-peer driver
targets live in ``fuzz_peers.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from harness.domain.types import RemotePartyRole
from harness.emulator.world.pki import TestPki
from harness.protocols import ble_uart, gbcs_alerts
from harness.protocols import iec62056_21 as iec
from harness.protocols import iec62056_21_programming as prog
from harness.protocols import telegesis as tg
from harness.protocols.duis import (
    DuisAlert,
    RequestId,
    ServiceResponse,
    build_alert,
    build_request,
    build_response,
    parse_alert,
    parse_message,
    parse_request,
    parse_response,
    read_inventory,
    sign,
    verify,
)
from harness.protocols.ezsp import ash as ezsp_ash
from harness.protocols.ezsp import commands as ezsp_commands
from harness.protocols.ezsp.ash_link import AshLink
from harness.protocols.ezsp.ash_reader import AshReader
from harness.protocols.iec62056_21_reader import FrameReader, strip_even_parity
from harness.protocols.installcode import InstallCode
from harness.protocols.telegesis_extra import parse_extension

HOSTILE_TOKENS: tuple[bytes, ...] = (
    b"\xd9\xa1\xd9\xa2",  # Arabic-Indic digits: str.isdigit() is True, int() may not like them
    "\u00b2".encode(),  # superscript two: isdigit() True, int() raises
    b"9" * 5000,  # beyond Python's int() digit limit
    b"-1", b"nan", b"inf", b"-inf", b"1e999", b"\x00", b"\xff\xfe", b"\r\n", b"\r", b"\n",
    b"(", b")", b"*", b"!", b"\x02", b"\x03", b"\x01", b"\x06", b"\x15", b"<", b"&", b"]]>",
    b"A" * 2000, b":", b",", b"=", b"OK", b"ERROR:", b"\xe2\x80\xae",
)


HOSTILE_NUMBERS: tuple[bytes, ...] = (
    b"\xd9\xa1", "\u00b2".encode(), "\uff18".encode(), b"9" * 5000, b"-1", b"nan", b"inf",
    b"1e999", b"18446744073709551616", b"0x10", b"1_0", b"",
)


@dataclass
class Target:
    """One parser under fuzz: seeds to mutate and the call that takes one input."""

    name: str
    seeds: list[bytes]
    call: Callable[[bytes], object]
    budget_s: float = 1.0  # a call longer than this (plus the margin) is a hang
    extra: list[bytes] = field(default_factory=list)


_FIELDS = re.compile(rb">([^<\s][^<]{0,200})<|[0-9A-Fa-f]+|[0-9.]+")


def _replace_field(rng: random.Random, out: bytearray) -> bool:
    """Put a hostile token in place of one field: an element's text or a run of digits."""
    found = list(_FIELDS.finditer(out))
    texts = [m for m in found if m.group(1) is not None]
    if not found:
        return False
    match = rng.choice(texts if texts and rng.random() < 0.7 else found)
    start, end = match.span(1) if match.group(1) is not None else match.span()
    out[start:end] = rng.choice(HOSTILE_NUMBERS if rng.random() < 0.5 else HOSTILE_TOKENS)
    return True


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One to four random edits: field swaps, flips, inserts, deletes, tokens, splices."""
    out = bytearray(data)
    for _ in range(1 if rng.random() < 0.5 else rng.randint(2, 4)):
        choice = rng.random()
        pos = rng.randint(0, len(out))
        if choice < 0.3 and _replace_field(rng, out):
            continue
        if choice < 0.2 and out:
            i = rng.randrange(len(out))
            out[i] = rng.randrange(256)
        elif choice < 0.35:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif choice < 0.5 and out:
            end = min(len(out), pos + rng.randint(1, 32))
            del out[pos:end]
        elif choice < 0.8:
            token = rng.choice(HOSTILE_TOKENS)
            # Replace a run of digits or letters when there is one, else insert.
            if out and rng.random() < 0.6:
                i = rng.randrange(len(out))
                j = i
                while j < len(out) and (chr(out[j]).isalnum()):
                    j += 1
                out[i:j] = token
            else:
                out[pos:pos] = token
        elif choice < 0.9 and out:
            i = rng.randrange(len(out))
            j = min(len(out), i + rng.randint(1, 64))
            out[pos:pos] = out[i:j] * rng.randint(1, 20)
        else:
            del out[pos:]
    return bytes(out)


def inputs(rng: random.Random, target: Target, count: int) -> Iterator[bytes]:
    """``count`` inputs: the seeds themselves first, then mutants of random seeds."""
    pool = [*target.seeds, *target.extra]
    for i in range(count):
        if i < len(pool):
            yield pool[i]
        else:
            yield mutate(rng, rng.choice(pool))


# --- seeds ----------------------------------------------------------------------------------

_WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
_RID = "00-DB-12-00-00-00-00-01:90-B3-D5-1F-30-01-00-00:17"


def _duis_seeds() -> dict[str, list[bytes]]:
    """Requests, responses and alerts as the project builds them (one signed)."""
    request_id = RequestId.parse("90-B3-D5-1F-30-01-00-00:00-DB-12-00-00-00-00-01:1001")
    request = build_request(read_inventory(request_id, "00-DB-12-34-56-78-90-A0"))
    response = build_response(ServiceResponse(RequestId.parse(_RID), "8.2", "I0",
                                              response_datetime=_WHEN,
                                              body_tag="ReadInventoryRsp",
                                              body={"DeviceCount": "3"}))
    alert = build_alert(DuisAlert("DeviceAlertMessage", "8F49", response_id=_RID,
                                  response_datetime=_WHEN, gbcs_payload="3wkAAAAAAA==",
                                  throttled_sequence_id=3, throttled_count=9))
    dcc_alert = build_alert(DuisAlert("DCCAlertMessage", "N1", response_datetime=_WHEN))
    return {"request": [request], "response": [response], "alert": [alert, dcc_alert]}


def _telegesis_lines() -> list[bytes]:
    return [b"OK", b"ERROR:0C", b"Telegesis ETRX357", b"R309C",
            b"000D6F0000ABCDEF", b"+N=COO,12,-04,1234,ABCDEF0123456789",
            b"NEWNODE:1A2B,000D6F0000ABCDEF,0000", b"LEFTPAN", b"JPAN:15,1234,ABCDEF0123456789",
            b"SEQ:01", b"ACK:01", b"NACK:01", b"NTable:0000,00", b"Length:03",
            b"No.|Dev|EUI|ID|LQI", b"0.|FFD|000D6F0000ABCDEF|1A2B|FF",
            b"+ESCAN:", b"11:A0", b"+PANSCAN:15,1234,ABCDEF0123456789,02,01,-40,200",
            b"AUTHFAIL:1A2B,000D6F0000ABCDEF", b"AT+PANSCAN", b"SR:00,000D6F0000ABCDEF,1A2B"]


def _feed_frames(data: bytes) -> None:
    reader = FrameReader()
    for i in range(0, len(data), 7):
        with contextlib.suppress(iec.ProtocolError):
            reader.feed(data[i:i + 7])
    reader.feed(b"")


def _feed_lines(data: bytes) -> None:
    """The stream whole, then in 5-byte chunks: no line (nor buffer) over the limit."""
    for size in (len(data) or 1, 5):
        reader = tg.AtLineReader()
        for i in range(0, len(data), size):
            try:
                lines = reader.feed(data[i:i + size])
            except tg.ProtocolError as exc:
                lines = exc.context.get("lines", [])
            if any(len(line) > reader.max_line for line in lines):
                raise AssertionError("AtLineReader returned a line over its limit")
            if len(reader.pending) > reader.max_line:
                raise AssertionError("AtLineReader holds more than its limit")


def _assemble(data: bytes) -> None:
    assembler = tg.ResponseAssembler()
    lines = data.split(b"\r\n")
    for line in lines:
        response = assembler.add(line)
        if response is not None:
            for parse in (tg.parse_ati, tg.parse_escan, tg.parse_panscan, tg.parse_network_info,
                          tg.parse_ntable, tg.parse_register):
                with contextlib.suppress(tg.ProtocolError):
                    parse(response)


def _ash_stream(data: bytes) -> None:
    """An NCP-side ASH link fed the stream in 9-byte chunks; the reader stays bounded."""
    link = AshLink(role="ncp")
    reader = AshReader()
    for i in range(0, len(data), 9):
        link.receive(data[i:i + 9], now=i / 1000)
        reader.feed(data[i:i + 9])
        if reader.pending > ezsp_ash.MAX_FRAME_BODY:
            raise AssertionError("AshReader holds more than one frame")
        link.outgoing()


def _ezsp_parse(version: int) -> Callable[[bytes], object]:
    return lambda data: ezsp_commands.parse(data, version=version)


def _ezsp_seeds() -> tuple[list[bytes], list[bytes]]:
    """ASH wire frames and EZSP frames (v4 and v8 headers) from our own encoders."""
    c = ezsp_commands
    legacy = [c.version_command(4), c.build("startScan", c.StartScan(0, 0x07FFF800, 3),
                                            sequence=1, version=4)]
    extended = [c.build("energyScanResultHandler", c.EnergyScanResult(11, -60), sequence=2,
                        version=8, response=True, callback_type=2),
                c.build("trustCenterJoinHandler",
                        c.TrustCenterJoin(0x1234, "000D6F0000ABCDEF", 1, 0, 0), sequence=3,
                        version=8, response=True, callback_type=2)]
    wire = [ezsp_ash.encode_frame(ezsp_ash.RstFrame(), cancel=True),
            ezsp_ash.encode_frame(ezsp_ash.AckFrame(1)),
            b"".join(ezsp_ash.encode_frame(ezsp_ash.DataFrame(n % 8, 0, False, f))
                     for n, f in enumerate(legacy + extended))]
    return wire, legacy + extended


def _verify(trusted: list) -> Callable[[bytes], object]:
    def call(data: bytes) -> object:
        return verify(data, trusted)
    return call


def _text(call: Callable[[str], object]) -> Callable[[bytes], object]:
    """A parser of text, fed the bytes decoded as a hostile caller might (surrogates kept)."""
    return lambda data: call(data.decode("utf-8", "surrogateescape"))


def pure_targets() -> list[Target]:
    """Every pure parser the project has, with seeds from its own encoders."""
    duis = _duis_seeds()
    ash_wire, ezsp_frames = _ezsp_seeds()
    pki = TestPki(seed=8)
    party = pki.organisation(RemotePartyRole.SUPPLIER)
    signed = sign(duis["response"][0], party.private_key, party.certificate)
    ident = iec.encode_identification(iec.Identification("EMh", "5", "EMU-ESME-1"))
    readout = iec.encode_readout([iec.DataSet("1.8.0", "00001.5", "kWh"),
                                  iec.DataSet("0.9.1", "12:00:00")])
    command = prog.encode_command(prog.Command("R", "1", "", "1.8.0"))
    answer = prog.encode_answer(prog.Answer("data", (iec.DataSet("1.8.0", "00001.5"),)))
    lines = _telegesis_lines()
    return [
        Target("iec62056_21.parse_request", [iec.encode_request("12345678")], iec.parse_request),
        Target("iec62056_21.parse_identification", [ident], iec.parse_identification),
        Target("iec62056_21.parse_option_select",
               [iec.encode_option_select(iec.OptionSelect("0", "5", "0"))],
               iec.parse_option_select),
        Target("iec62056_21.parse_dataset", [b"1.8.0(00001.5*kWh)"], iec.parse_dataset),
        Target("iec62056_21.parse_readout", [readout], iec.parse_readout),
        Target("iec62056_21_programming.parse_command", [command], prog.parse_command),
        Target("iec62056_21_programming.parse_answer", [answer], prog.parse_answer),
        Target("iec62056_21_reader.FrameReader", [ident + readout + command, b"\x00/?!\r\n"],
               _feed_frames),
        Target("iec62056_21_reader.strip_even_parity", [ident], strip_even_parity),
        Target("telegesis.AtLineReader", [b"\r\n".join(lines) + b"\r\n"], _feed_lines),
        Target("telegesis.parse_line", lines, tg.parse_line),
        Target("telegesis.responses", [b"\r\n".join(lines[2:]) + b"\r\nOK"], _assemble),
        Target("telegesis_extra.parse_extension", lines[-3:], _text(parse_extension)),
        Target("telegesis.redact", [b"ATS09=0123456789ABCDEF0123456789ABCDEF:password"],
               tg.redact),
        Target("installcode.parse", [b"83FE D340 7A93 9723 A5C6 39B2 6916 D505 C3B5",
                                     b"83FED3407A939723A5C639B26916D505"],
               _text(InstallCode.parse)),
        Target("gbcs_alerts.alert_info", [b"8F49", b"8002"],
               lambda data: gbcs_alerts.alert_info(int.from_bytes(data[:8], "big"))),
        Target("ble_uart.decode_line_coding",
               [ble_uart.encode_line_coding(ble_uart.LineCoding(9600))],
               ble_uart.decode_line_coding),
        Target("duis.parse_request", duis["request"], parse_request),
        Target("duis.parse_response", duis["response"] + [signed], parse_response),
        Target("duis.parse_alert", duis["alert"], parse_alert),
        Target("duis.parse_message", duis["alert"] + duis["response"], parse_message),
        Target("duis.RequestId.parse", [_RID.encode()], _text(RequestId.parse)),
        Target("duis.verify", [signed], _verify([party.certificate]), budget_s=2.0),
        Target("ezsp.ash.decode_frame",
               [ezsp_ash.unstuff(w.lstrip(b"\x1a")[:-1]) for w in ash_wire[:2]],
               ezsp_ash.decode_frame),
        Target("ezsp.ash_link.AshLink(ncp)", ash_wire, _ash_stream),
        Target("ezsp.commands.parse(v4)", ezsp_frames[:2], _ezsp_parse(4)),
        Target("ezsp.commands.parse(v8)", ezsp_frames[2:], _ezsp_parse(8)),
    ]
