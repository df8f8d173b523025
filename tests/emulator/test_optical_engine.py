"""The emulated meter's IEC 62056-21 engine, byte for byte, on emulated time."""

from __future__ import annotations

import pytest

from harness.emulator.optical.engine import MeterPortEngine, State
from harness.emulator.optical.line import LineSettings, meter_to_probe, probe_to_meter
from harness.emulator.optical.registers import DictRegisters
from harness.emulator.world.clock import ManualClock
from harness.protocols.iec62056_21 import Identification, parse_readout
from harness.protocols.iec62056_21_programming import Command, encode_command

P1_OK = bytes.fromhex("01 50 31 02 28 30 30 30 30 30 30 30 30 29 03 61")
B0 = bytes.fromhex("01 42 30 03 71")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def engine(clock: ManualClock) -> MeterPortEngine:
    regs = DictRegisters(Identification("EMU", "5", "M1"), values={"1.8.0": "42"})
    return MeterPortEngine(regs, clock, lockout_s=60)


def test_sign_on_readout_and_back_to_300(engine: MeterPortEngine) -> None:
    [ident] = engine.receive(b"/?!\r\n")
    assert ident.data == b"/EMU5M1\r\n" and ident.baud == 300
    [readout] = engine.receive(b"\x06050\r\n")
    assert readout.baud == 9600
    assert parse_readout(readout.data)[0].value == "42"
    assert engine.state is State.IDLE and engine.baud == 300


def test_bytes_split_anywhere_still_make_messages(engine: MeterPortEngine) -> None:
    replies = [r for b in b"/?!\r\n" for r in engine.receive(bytes([b]))]
    assert [r.data for r in replies] == [b"/EMU5M1\r\n"]


def test_programming_session_with_the_published_frames(engine: MeterPortEngine) -> None:
    engine.receive(b"/?!\r\n")
    [prompt] = engine.receive(bytes.fromhex("06 30 35 31 0d 0a"))
    assert prompt.data.startswith(b"\x01P0\x02(") and engine.state is State.PROGRAMMING
    [ack] = engine.receive(P1_OK)
    assert ack.data == b"\x06"
    assert engine.receive(B0) == []
    assert engine.state is State.IDLE and engine.baud == 300


def test_bad_bcc_is_answered_nak(engine: MeterPortEngine) -> None:
    engine.receive(b"/?!\r\n")
    engine.receive(b"\x06051\r\n")
    [nak] = engine.receive(P1_OK[:-1] + b"\x00")
    assert nak.data == b"\x15"


def test_reads_need_the_password(engine: MeterPortEngine) -> None:
    engine.receive(b"/?!\r\n")
    engine.receive(b"\x06051\r\n")
    [answer] = engine.receive(b"\x01R1\x021.8.0()\x03Z")
    assert b"ER-AUTH" in answer.data


def test_option_select_must_come_within_the_ack_timeout(engine: MeterPortEngine,
                                                         clock: ManualClock) -> None:
    engine.receive(b"/?!\r\n")
    clock.advance(2.0)
    assert engine.receive(b"\x06050\r\n") == []
    assert engine.state is State.IDLE


def test_lockout_expires(engine: MeterPortEngine, clock: ManualClock) -> None:
    wrong = encode_command(Command.password("11111111"))
    for _ in range(3):
        engine.receive(b"/?!\r\n")
        engine.receive(b"\x06051\r\n")
        engine.receive(wrong)
        engine.receive(B0)
    assert engine.locked
    clock.advance(61)
    assert not engine.locked
    engine.receive(b"/?!\r\n")
    engine.receive(b"\x06051\r\n")
    assert engine.receive(P1_OK)[0].data == b"\x06"


def test_a_faster_baud_than_offered_is_ignored(clock: ManualClock) -> None:
    regs = DictRegisters(Identification("EMU", "3", "M1"))
    engine = MeterPortEngine(regs, clock)
    engine.receive(b"/?!\r\n")
    assert engine.receive(b"\x06050\r\n") == []


def test_line_model_garbles_mismatched_settings() -> None:
    good = LineSettings(9600, 7, "E")
    assert meter_to_probe(b"/EMU5\r\n", 9600, good) == b"/EMU5\r\n"
    assert meter_to_probe(b"/EMU5\r\n", 300, good) != b"/EMU5\r\n"
    eight = LineSettings(9600, 8, "N")
    assert meter_to_probe(b"/", 9600, eight) == bytes([ord("/") | 0x80])  # '/' has 5 ones
    # 'A' (2 ones) arrives intact from an 8N1 head; 'C' (3 ones) shows a parity error.
    assert probe_to_meter(b"AC", 9600, eight) == b"A\xff"
    assert probe_to_meter(b"AC", 9600, None) == b"AC"
