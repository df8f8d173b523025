"""Returned-device batches: determinism, proportions, speed, CSV round trip and errors."""

from __future__ import annotations

import csv
import time
from collections import Counter
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli.batch import batch_app
from harness.domain.types import DeviceType, SmiStatus
from harness.domain.vocabulary import category_of
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.faults import (
    CATALOGUE,
    SEEN_ONLY_THROUGH_PORT,
    SHOWN_ONLY_IN_USE,
    ChFaultReason,
    FaultCategory,
)
from harness.emulator.world.logs import LogKind
from harness.emulator.world.population import (
    CH_NO_FAULT_TYPES,
    PopulationSpec,
    device_from_row,
    generate,
)
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import GbcsAlert as A
from harness.triage.intake import (
    COLUMNS,
    HISTORY_COLUMN,
    BatchRow,
    ManifestError,
    ReturnType,
    Verdict,
    read_csv,
    write_csv,
)


def test_same_seed_same_batch_other_seed_other_batch() -> None:
    assert generate(300, 7) == generate(300, 7)
    assert generate(300, 7) != generate(300, 8)
    assert generate(PopulationSpec(50, seed=7)) == generate(50, 7)


def test_default_proportions_are_mostly_no_fault() -> None:
    rows = generate(1000, 3)
    verdicts = Counter(r.truth_verdict for r in rows)
    assert verdicts[Verdict.NO_FAULT_FOUND] == 600 and verdicts[Verdict.FAULT] == 400
    types = Counter(r.device_type for r in rows)
    assert types == {DeviceType.CHF: 400, DeviceType.ESME: 350, DeviceType.GSME: 250}
    assert [r.item for r in rows] == list(range(1, 1001))
    assert len({r.device_id for r in rows}) == 1000


def test_proportions_are_configurable() -> None:
    spec = PopulationSpec(200, seed=1, no_fault_ratio=0.25, type_mix={DeviceType.GSME: 1.0},
                          post_installation_ratio=0.0)
    rows = generate(spec)
    assert sum(r.truth_verdict is Verdict.NO_FAULT_FOUND for r in rows) == 50
    assert {r.device_type for r in rows} == {DeviceType.GSME}
    assert {r.return_type for r in rows} == {ReturnType.PRIOR_TO_INSTALLATION}
    with pytest.raises(ValueError, match=r"no_fault_ratio must lie in 0\.\.1"):
        PopulationSpec(10, no_fault_ratio=1.5)
    with pytest.raises(ValueError, match="no PPMID models"):
        PopulationSpec(10, type_mix={DeviceType.PPMID: 1.0})


def test_truth_columns_are_consistent() -> None:
    for row in generate(500, 11):
        faulty = row.truth_verdict is Verdict.FAULT
        if faulty:
            kinds = [CATALOGUE[f] for f in row.truth_faults]
            assert all(row.device_type in k.applies_to for k in kinds)
            # With two faults, the category the triage spec ranks first (cause before effect).
            assert row.truth_category is not FaultCategory.NONE
            if "optical_port_dead" in row.truth_faults:  # it hides what only it would show
                kinds = [k for k in kinds if k.key not in SEEN_ONLY_THROUGH_PORT]
            assert row.truth_category.value == category_of({k.category.value for k in kinds})
            assert len(set(row.truth_faults)) == len(row.truth_faults) <= 2
        else:
            assert row.truth_faults == ("no_fault",) and row.truth_category is FaultCategory.NONE
        if row.device_type is DeviceType.CHF:
            assert row.return_reason in {r.value for r in ChFaultReason} | set(CH_NO_FAULT_TYPES)


def test_a_fault_shown_only_in_use_is_drawn_on_a_field_return() -> None:
    """A reset erasing the registers erases nothing on a meter never installed (it recorded
    no energy): no bench could see it, so the truth would be one no triage can reach. Such
    faults are drawn on returns after installation (a 10,000-device run had seven before)."""
    rows = [row for row in generate(PopulationSpec(10_000, seed=7))
            if set(row.truth_faults) & SHOWN_ONLY_IN_USE]
    assert len(rows) > 10
    assert {row.return_type for row in rows} == {ReturnType.POST_INSTALLATION}


def test_a_thousand_devices_generate_well_under_a_second() -> None:
    start = time.perf_counter()
    generate(1000, 42)
    assert time.perf_counter() - start < 0.25


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = generate(120, 5)
    path = tmp_path / "batch.csv"
    write_csv(rows, path)
    with path.open(newline="") as fh:
        assert next(csv.reader(fh)) == [*COLUMNS, HISTORY_COLUMN]  # healthy rows carry histories
    assert read_csv(path) == rows


def write_lines(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def good_cells() -> dict[str, str]:
    return generate(1, 9)[0].as_record()


@pytest.mark.parametrize(("column", "value", "message"), [
    ("seed", "-3", "is not a whole number"),
    ("device_type", "TOASTER", "unknown device type"),
    ("model", "EMU-CH-1", "no .* model 'EMU-CH-1'"),
    ("device_id", "12345", "not an EUI-64"),
    ("truth_faults", "gremlins", "unknown fault 'gremlins'"),
    ("truth_verdict", "MAYBE", "'MAYBE' is not allowed"),
    ("truth_category", "vibes", "'vibes' is not allowed"),
    ("return_type", "yesterday", "not allowed"),
    ("label_id", " ", "empty label ID"),
])
def test_csv_errors_name_file_line_and_column(tmp_path: Path, column: str, value: str,
                                              message: str) -> None:
    header = ",".join(COLUMNS)
    cells = good_cells()
    good = ",".join(cells[c] for c in COLUMNS)
    cells[column] = value
    if column == "model":
        cells["device_type"] = "ESME"
    bad = ",".join(cells[c] for c in COLUMNS)
    path = write_lines(tmp_path, [header, good, bad])
    with pytest.raises(ManifestError, match=message) as info:
        read_csv(path)
    err = info.value
    assert (err.line, err.column) == (3, column)
    assert str(err).startswith(f"{path}: line 3, column {column}: ")
    assert isinstance(err, BenchConfigError)


def test_csv_structure_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ManifestError, match="empty file"):
        read_csv(empty)
    header = [c for c in COLUMNS if c != "truth_verdict"]
    with pytest.raises(ManifestError, match="missing column 'truth_verdict'") as info:
        read_csv(write_lines(tmp_path, [",".join(header)]))
    assert info.value.line == 1
    with pytest.raises(ManifestError, match="2 cells for 11 columns") as info:
        read_csv(write_lines(tmp_path, [",".join(COLUMNS), "1,ESME"]))
    assert info.value.line == 2 and info.value.column is None


def test_verdict_must_match_the_faults(tmp_path: Path) -> None:
    cells = good_cells()
    cells["truth_verdict"] = "FAULT" if cells["truth_faults"] == "no_fault" else "NO_FAULT_FOUND"
    path = write_lines(tmp_path, [",".join(COLUMNS), ",".join(cells[c] for c in COLUMNS)])
    with pytest.raises(ManifestError, match="does not fit faults"):
        read_csv(path)


def first(rows: list[BatchRow], **match: object) -> BatchRow:
    return next(r for r in rows if all(getattr(r, k) == v for k, v in match.items()))


def test_device_from_row_is_the_device_the_row_describes() -> None:
    rows = generate(400, 13)
    clock = ManualClock()
    for row in rows[:30]:
        device = device_from_row(row, clock)
        assert (device.label.serial, device.label.eui64) == (row.label_id, row.device_id)
        assert device.model.name == row.model and device.device_type is row.device_type
        installed = row.return_type is ReturnType.POST_INSTALLATION
        assert device.consumer_data().available is installed
        assert (device.status is SmiStatus.COMMISSIONED) is installed
    row = first(rows, truth_faults=("tamper_cover_removed",), device_type=DeviceType.ESME)
    device = device_from_row(row, clock)
    device.supply(device.nominal_voltage)
    clock.advance(1.0)
    assert A.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER in device.log_codes(LogKind.SECURITY)


def test_device_from_a_row_whose_label_was_edited_is_refused() -> None:
    row = generate(1, 2)[0]
    edited = BatchRow(**{**row.__dict__, "label_id": "EDITED"})
    with pytest.raises(BenchConfigError, match="item 1: label EDITED"):
        device_from_row(edited)


def test_batch_new_command(tmp_path: Path) -> None:
    app = typer.Typer()
    app.add_typer(batch_app, name="batch")
    out = tmp_path / "m.csv"
    result = CliRunner().invoke(app, ["batch", "new", "--size", "40", "--seed", "4", "-o",
                                      str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 40 devices" in result.output and "24 without fault" in result.output
    assert read_csv(out) == generate(40, 4)
    bad = CliRunner().invoke(app, ["batch", "new", "--size", "0", "-o", str(out)])
    assert bad.exit_code == 2
    missing = CliRunner().invoke(app, ["batch", "new", "--size", "3", "-o",
                                       str(tmp_path / "no" / "such" / "dir.csv")])
    assert missing.exit_code == 2 and "cannot write" in missing.output
