"""Scenario files: validated, turned into manifests, and presented on the bench as written."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.bench.session import BenchSession
from harness.cli.batch import batch_app
from harness.config.loader import default_bench_path
from harness.devices.reference import ReferenceProfile
from harness.domain.types import DeviceType
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.history import parse_history
from harness.emulator.world.logs import LogKind
from harness.emulator.world.population import device_from_row
from harness.emulator.world.scenario import load_scenario
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import GbcsAlert as A
from harness.triage.intake import BatchRow, ReturnType, Verdict, read_csv, write_csv

EXAMPLE = default_bench_path().parent / "scenarios" / "field-histories.yaml"
DAY = datetime.timedelta(days=1)


def by_id(rows: list[BatchRow]) -> dict[int, BatchRow]:
    return {r.item: r for r in rows}


def test_the_example_scenario_gives_its_devices_and_truth() -> None:
    rows = load_scenario(EXAMPLE)
    assert [r.device_type.name for r in rows] == ["ESME", "GSME", "CHF", "ESME", "ESME",
                                                   "GSME", "CHF", "GSME", "CHF", "ESME"]
    faulty = [r.item for r in rows if r.truth_verdict is Verdict.FAULT]
    assert faulty == [5, 6, 7, 10]
    assert [rows[i - 1].truth_category.value for i in faulty] == [
        "hardware", "tamper/physical", "hardware", "tamper/physical"]
    assert rows[8].return_type is ReturnType.PRIOR_TO_INSTALLATION
    assert rows[4].truth_faults == ("clock_drift:4000",)  # the history's rate is the fault's
    assert parse_history(rows[0].history).clock_offset_s == -7776000
    assert load_scenario(EXAMPLE) == rows


def test_a_scenario_round_trips_through_its_manifest(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    app = typer.Typer()
    app.add_typer(batch_app, name="batch")
    result = CliRunner().invoke(app, ["batch", "new", "--scenario", str(EXAMPLE), "-o",
                                      str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps at its width
    assert "wrote 10 devices" in said and "6 without fault" in said
    assert read_csv(out) == load_scenario(EXAMPLE)
    write_csv(read_csv(out), tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text() == out.read_text()


@pytest.fixture
def bench() -> Iterator[BenchSession]:
    session = BenchSession.from_file(default_bench_path().parent / "emulated-fast.toml")
    session.open()
    yield session
    session.close()


def present(session: BenchSession, row: BatchRow, clock: ManualClock | None = None
            ) -> ReferenceProfile:
    assert session.bench is not None and session.emulator is not None
    slot = {DeviceType.ESME: "esme", DeviceType.GSME: "gsme", DeviceType.CHF: "ch"}[
        row.device_type]
    bench_slot = session.bench.slot(slot)
    bench_slot.power.off()
    device = device_from_row(row, clock or session.emulator.clock, slot=slot)
    session.emulator.present(slot, device)
    bench_slot.power.set_voltage(device.nominal_voltage)
    bench_slot.power.on()
    if clock is not None:
        clock.advance(device.profile.settle_s + 0.01)
    else:
        time.sleep(0.3)
    profile = bench_slot.profile()
    assert isinstance(profile, ReferenceProfile)
    return profile


def test_the_bench_reads_the_stated_offset_and_field_events(bench: BenchSession) -> None:
    rows = by_id(load_scenario(EXAMPLE))
    stored = rows[1]  # the ESME after 90 days, its clock stopped at the power-off
    diag = present(bench, stored).read_diagnostics()
    assert bench.emulator is not None  # the devices' clocks run on its (emulated) time
    clock = bench.emulator.clock
    assert diag.device_time is not None
    offset = (diag.device_time - clock.utc(clock.now())).total_seconds()
    assert offset == pytest.approx(-7776000, abs=3)
    (cover,) = [e for e in diag.security_log
                if e.code == A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER]
    assert (diag.read_at - cover.timestamp) / DAY == pytest.approx(90.002, abs=0.001)
    assert bench.emulator is not None
    power = bench.emulator.devices["esme"].read_log(LogKind.POWER)
    assert A.SUPPLY_INTERRUPTED in [e.code for e in power]
    hub = present(bench, rows[3]).read_diagnostics()  # brown-outs, read off the hub's port
    resets = [e for e in hub.event_log if e.code == A.UNEXPECTED_HARDWARE_RESET]
    days = sorted(round((hub.read_at - e.timestamp) / DAY, 2) for e in resets)
    assert days == [95.1, 212.4]


@pytest.mark.parametrize("item", [1, 5])  # 3 ppm (healthy) and 4000 ppm (clock_drift)
def test_the_bench_reads_the_stated_drift(bench: BenchSession, item: int) -> None:
    row = by_id(load_scenario(EXAMPLE))[item]
    clock = ManualClock()
    profile = present(bench, row, clock)
    first = profile.read_diagnostics().device_time
    clock.advance(50 * 86400)  # 50 days of device time: a rate to a fraction of a ppm
    second = profile.read_diagnostics().device_time
    ppm = ((second - first) / (50 * DAY) - 1) * 1e6
    assert ppm == pytest.approx(parse_history(row.history).clock_drift_ppm, abs=0.5)


GOOD = """\
devices:
  - id: one
    device_type: ESME
    model: EMU-ESME-1
    faults: []
    expected_verdict: NO_FAULT_FOUND
    expected_category: none
    history:
      storage_days: 10
      clock_offset_s: 0
      clock_drift_ppm: 2
      events:
        - {code: "0x8F76", days_before_return: 10}
"""

BAD = [
    ("storage_days: 10", "storage: 10", r"devices\[one\]\.history\.storage: unknown key"),
    ("storage_days: 10", "storage_days: -1", r"history\.storage_days: .*greater than"),
    ('"0x8F76"', '"0x1234"',
     r"devices\[one\]\.history\.events\[0\]: 0x1234 is not a GBCS alert code"),
    ('"0x8F76"', '"0xZZ"', r"events\[0\]\.code: '0xZZ' is not a hex alert code"),
    ("device_type: ESME", "device_type: KETTLE", r"devices\[one\]\.device_type"),
    ("model: EMU-ESME-1", "model: EMU-GSME-1", r"devices\[one\]\.model: no emulated ESME"),
    ("faults: []", "faults: [nope]", r"devices\[one\]\.faults: unknown fault 'nope'"),
    ("faults: []", "faults: [valve_stuck]", r"\.faults: .*does not apply to a ESME"),
    ("expected_verdict: NO_FAULT_FOUND", "expected_verdict: FAULT",
     r"devices\[one\]\.expected_verdict: FAULT does not follow"),
    ("expected_category: none", "expected_category: HAN",
     r"devices\[one\]\.expected_category: 'HAN' does not follow"),
    ("clock_drift_ppm: 2", "clock_drift_ppm: 500",
     r"history\.clock_drift_ppm: 500 ppm is beyond.*clock_drift fault"),
    ("clock_drift_ppm: 2", "clock_drift_ppm: .nan", r"clock_drift_ppm: .*finite"),
    ("      clock_offset_s: 0\n", "", r"devices\[one\]\.history\.clock_offset_s: missing key"),
    ("model: EMU-ESME-1", "model: EMU-ESME-1\n    model: EMU-ESME-2", r"duplicate key"),
    ("devices:", "devices: {}\nx:", r"not valid YAML|devices: .*list|x: unknown key"),
]


@pytest.mark.parametrize(("old", "new", "message"), BAD, ids=[b[1][:30] for b in BAD])
def test_a_bad_scenario_is_refused_naming_file_and_key(tmp_path: Path, old: str, new: str,
                                                      message: str) -> None:
    path = tmp_path / "case.yaml"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(BenchConfigError, match=message) as info:
        load_scenario(path)
    assert str(path) in str(info.value)


def test_drift_and_a_clock_fault_must_agree(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(GOOD.replace("faults: []", "faults: [clock_drift]")
                    .replace("NO_FAULT_FOUND", "FAULT").replace("category: none",
                                                                "category: hardware"))
    with pytest.raises(BenchConfigError, match="2 ppm is within a crystal's tolerance"):
        load_scenario(path)
    path.write_text(path.read_text().replace("clock_drift]", "'clock_drift:900']")
                    .replace("ppm: 2", "ppm: 800"))
    with pytest.raises(BenchConfigError, match="800 ppm differs from the fault"):
        load_scenario(path)


def test_the_command_refuses_a_bad_scenario_in_one_line(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(batch_app, name="batch")
    path = tmp_path / "case.yaml"
    path.write_text(GOOD.replace("clock_drift_ppm: 2", "clock_drift_ppm: 500"))
    out = tmp_path / "s.csv"
    bad = CliRunner().invoke(app, ["batch", "new", "--scenario", str(path), "-o", str(out)])
    assert bad.exit_code == 2 and "history.clock_drift_ppm" in bad.output
    assert not out.exists()
    both = CliRunner().invoke(app, ["batch", "new", "--scenario", str(path), "--size", "3",
                                    "-o", str(out)])
    assert both.exit_code == 2 and "not both" in both.output
    neither = CliRunner().invoke(app, ["batch", "new", "-o", str(out)])
    assert neither.exit_code == 2 and "not neither" in neither.output
    missing = CliRunner().invoke(app, ["batch", "new", "--scenario", str(tmp_path / "x.yaml"),
                                       "-o", str(out)])
    assert missing.exit_code == 2 and "not found" in missing.output
