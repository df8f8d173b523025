"""Field histories: drawn from the seed, carried by the manifest, loaded into the device."""

from __future__ import annotations

import ast
import datetime
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import harness.emulator
from harness.cli.batch import batch_app
from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.faults import HISTORY_FAULTS
from harness.emulator.world.history import (
    FieldHistory,
    HistoryEvent,
    draw_history,
    parse_history,
)
from harness.emulator.world.logs import LogKind
from harness.emulator.world.models import create_device
from harness.emulator.world.population import PopulationSpec, device_from_row, generate
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import GbcsAlert as A
from harness.triage.intake import BatchRow, ReturnType, read_csv, write_csv

DAY = datetime.timedelta(days=1)


def test_histories_are_drawn_from_the_seed() -> None:
    one = generate(PopulationSpec(300, seed=5, histories=True))
    assert one == generate(PopulationSpec(300, seed=5, histories=True))
    other = generate(PopulationSpec(300, seed=6, histories=True))
    assert [r.history for r in one] != [r.history for r in other]
    assert draw_history(DeviceType.ESME, 7, installed=True) == \
        draw_history(DeviceType.ESME, 7, installed=True)


def test_histories_are_on_by_default_and_off_leaves_the_batch_as_it_was() -> None:
    plain = generate(PopulationSpec(300, seed=5, histories=False))
    assert all(r.history == "" for r in plain)
    assert not {f for r in plain for f in r.truth_faults} & HISTORY_FAULTS
    with_histories = generate(PopulationSpec(300, seed=5))
    assert any(r.history for r in with_histories)
    assert {f for r in with_histories for f in r.truth_faults} & HISTORY_FAULTS
    # The same types, and the same devices healthy; what else is drawn may differ.
    assert [(r.device_type, r.truth_verdict) for r in plain] == \
        [(r.device_type, r.truth_verdict) for r in with_histories]


def test_healthy_devices_carry_ordinary_histories_in_a_realistic_share() -> None:
    rows = generate(PopulationSpec(600, seed=2, histories=True))
    healthy = [r for r in rows if r.truth_faults == (NO_FAULT,)]
    faulty = [r for r in rows if r.truth_faults != (NO_FAULT,)]
    assert all(r.history for r in healthy) and not any(r.history for r in faulty)
    histories = [(r, parse_history(r.history)) for r in healthy]
    removed = [h for r, h in histories if r.return_type is ReturnType.POST_INSTALLATION]
    assert all(any(e.days_before_return >= h.storage_days for e in h.events) for h in removed)
    codes = Counter(e.code for _, h in histories for e in h.events)
    assert codes[A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER] > 0.5 * len(removed) * 0.4
    assert codes[A.UNEXPECTED_HARDWARE_RESET] and codes[A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE]
    stopped = [h for _, h in histories if h.clock_offset_s < -86400]
    assert 0.15 < len(stopped) / len(histories) < 0.45  # clocks that stopped in storage
    assert all(abs(h.clock_drift_ppm) <= 20 for _, h in histories)
    drawn = {f.partition(":")[0] for r in faulty for f in r.truth_faults}
    assert drawn >= HISTORY_FAULTS  # the counterparts are among the faulty devices


def test_the_manifest_keeps_histories_and_reads_old_manifests(tmp_path: Path) -> None:
    rows = generate(PopulationSpec(40, seed=1, histories=True))
    path = tmp_path / "b.csv"
    write_csv(rows, path)
    assert path.read_text().splitlines()[0].endswith(",history")
    assert read_csv(path) == rows
    plain = generate(PopulationSpec(5, seed=1, histories=False))
    write_csv(plain, path)
    assert "history" not in path.read_text().splitlines()[0]
    assert read_csv(path) == plain


def test_batch_new_draws_histories_unless_told_not_to(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(batch_app, name="batch")
    out = tmp_path / "h.csv"
    result = CliRunner().invoke(app, ["batch", "new", "--size", "30", "--seed", "3",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_csv(out) == generate(PopulationSpec(30, 3, histories=True))
    assert any(r.history for r in read_csv(out))
    result = CliRunner().invoke(app, ["batch", "new", "--size", "30", "--seed", "3",
                                      "--no-histories", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert not any(r.history for r in read_csv(out))


def test_a_history_text_round_trips_exactly() -> None:
    history = FieldHistory(90.25, -7776123.5, -3.75,
                           (HistoryEvent(A.SUPPLY_INTERRUPTED, 90.001),))
    assert parse_history(history.to_text()) == history


@pytest.mark.parametrize(("text", "message"), [
    ("storage_days=1;clock_offset_s=0", "missing clock_drift_ppm"),
    ("storage_days=x;clock_offset_s=0;clock_drift_ppm=0", "'x' is not a number"),
    ("storage_days=1;clock_offset_s=0;clock_drift_ppm=0;events=0x1234@3", "0x1234 is not"),
    ("storage_days=1;clock_offset_s=0;clock_drift_ppm=0;events=8F76", "not CODE@DAYS"),
    ("storage_days=1;clock_offset_s=0;clock_drift_ppm=nan", "not a finite number"),
    ("storage_days=-1;clock_offset_s=0;clock_drift_ppm=0", "storage_days -1 is out of range"),
    ("storage_days=1;storage_days=2;clock_offset_s=0;clock_drift_ppm=0", "given twice"),
    ("storage=1;clock_offset_s=0;clock_drift_ppm=0", "'storage=1' is not one of"),
])
def test_a_bad_history_cell_says_why(text: str, message: str) -> None:
    with pytest.raises(BenchConfigError, match=message):
        parse_history(text)


def test_a_bad_history_cell_in_a_manifest_names_line_and_column(tmp_path: Path) -> None:
    rows = generate(PopulationSpec(3, seed=1, histories=True))
    path = tmp_path / "b.csv"
    write_csv(rows, path)
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0] + ",storage_days=oops"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BenchConfigError, match=r"line 3, column history.*missing"):
        read_csv(path)


def _healthy_row(seed: int, kind: DeviceType, *, installed: bool = True) -> BatchRow:
    for row in generate(PopulationSpec(80, seed=seed, histories=True)):
        post = row.return_type is ReturnType.POST_INSTALLATION
        if row.device_type is kind and row.history and post is installed:
            return row
    raise AssertionError("no such row")


def test_the_device_is_built_with_its_history() -> None:
    row = _healthy_row(3, DeviceType.GSME)
    history = parse_history(row.history)
    clock = ManualClock()
    device = device_from_row(row, clock)
    offset = (device.clock_time() - device.true_time.now()).total_seconds()
    assert offset == pytest.approx(history.clock_offset_s, abs=0.01)
    clock.advance(86400)
    later = (device.clock_time() - device.true_time.now()).total_seconds()
    assert (later - offset) / 86400 * 1e6 == pytest.approx(history.clock_drift_ppm, abs=0.01)
    logged = {(e.code, round((device.true_time.now() - DAY - e.timestamp) / DAY, 2))
              for kind in LogKind for e in device.read_log(kind)}
    for event in history.events:
        assert (event.code, round(event.days_before_return, 2)) in logged
    stamps = [e.timestamp for e in device.read_log(LogKind.SECURITY)]
    assert stamps == sorted(stamps)


def test_history_faults_are_logged_before_the_removal_not_in_storage() -> None:
    clock = ManualClock()
    device = create_device("d", DeviceType.ESME, seed=4, clock=clock,
                           faults=["tamper_in_service:20", "unexpected_resets:6"])
    device.load_history(FieldHistory(60, 0, 2), installed=True)
    device.supply(device.nominal_voltage)
    removal = device.true_time.now() - 60 * DAY
    (cover,) = [e for e in device.read_log(LogKind.SECURITY)
                if e.code == A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER]
    assert (removal - cover.timestamp) / DAY == pytest.approx(20, abs=0.01)
    resets = [e.timestamp for e in device.read_log(LogKind.EVENT)
              if e.code == A.UNEXPECTED_HARDWARE_RESET]
    assert len(resets) == 18 and all(removal - 3 * DAY <= t < removal for t in resets)


def test_the_emulator_never_imports_the_classifier() -> None:
    """The truth of a generated device comes from the catalogue and the domain's precedence,
    never from the code it scores (issue 14: truth and classifier share no code)."""
    root = Path(harness.emulator.__file__).parent
    importers = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n == "harness.triage.classify" for n in names):
                importers.append(str(path.relative_to(root)))
    assert not importers
    code = ("import sys; import harness.emulator.world.population, "
            "harness.emulator.world.scenario, harness.emulator.bench; "
            "print('harness.triage.classify' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "False"
