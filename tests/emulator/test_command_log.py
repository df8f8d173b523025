"""The emulated supply's and relay's own log of the commands they received: what the signal
tests judge by. One line per command, with the time and the channel it acts on."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from harness.cli import app
from harness.emulator.power.scpi import (
    CommandLog,
    SupplyChannel,
    SupplyState,
    outputs_from_log,
    read_command_log,
)
from harness.emulator.relay.usb_hid import EmulatedRelayBoard


def test_supply_logs_each_command_with_its_channel_and_the_outputs_follow(
        tmp_path: Path) -> None:
    log = CommandLog(tmp_path / "cmd.log")
    state = SupplyState("emu", {n: SupplyChannel(n, 30.0, 1.0) for n in (1, 2)},
                        name="psu", command_log=log)
    state.execute("INST:NSEL 2;OUTP ON")
    state.execute("INST:NSEL 1")
    state.execute("OUTPut:STATe 1")
    state.execute("OUTP?")
    entries = read_command_log(log.path)
    assert [(e.channel, e.command) for e in entries] == [
        (2, "INST:NSEL 2"), (2, "OUTP ON"), (1, "INST:NSEL 1"), (1, "OUTPut:STATe 1"),
        (1, "OUTP?")]
    assert entries == sorted(entries, key=lambda e: e.t)
    assert outputs_from_log(entries, "psu", 2) == {1: True, 2: True}
    state.execute("*RST")
    assert outputs_from_log(read_command_log(log.path), "psu", 2) == {1: False, 2: False}


def test_relay_logs_each_report_and_a_half_written_line_is_left_for_later(
        tmp_path: Path) -> None:
    log = CommandLog(tmp_path / "cmd.log")
    board = EmulatedRelayBoard("R1", channels=2, name="relay", command_log=log)
    board.set_report(bytes([0xFF, 2]))
    board.set_report(bytes([0xFC, 0]))
    with log.path.open("a") as out:
        out.write("1.0 psu 1 OUTP")  # still being written: no newline yet
    assert [(e.instrument, e.channel, e.command) for e in read_command_log(log.path)] == [
        ("relay", 2, "CLOSE"), ("relay", 0, "OPEN ALL")]


def test_emulate_with_an_unwritable_log_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["emulate", "--log", str(tmp_path / "no" / "x.log")])
    assert result.exit_code == 2
    assert "--log" in result.output and "cannot write" in result.output
