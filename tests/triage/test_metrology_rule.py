"""Metrology stays intact (TRI-RST-02, TRI-VER-01), both ways: a meter's reset makes consumer
data unavailable and keeps its cumulative registers, which the verification reads back; a
meter whose reset erased them is a metrology FAULT."""

from __future__ import annotations

from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from harness.triage.intake import ReturnType
from tests.triage._suite_run import batch, measured, run_suites

STAGES = ("test_suites/test_20_identity.py", "test_suites/test_30_diagnostics.py",
          "test_suites/test_60_reset.py", "test_suites/test_70_verify.py", "-k",
          "local_port or clock or tamper or event_log or security_log or reset or clear or "
          "lifecycle or han_rejoins or consumer or registers")


def test_the_reset_keeps_the_registers_and_verification_reads_both(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-2", (), FaultCategory.NONE),
                     ("EMU-ESME-1", ("reset_erases_registers",), FaultCategory.METROLOGY))
    lines, proc = run_suites(tmp_path, manifest, *STAGES)
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    kept, erased = lines["item1"], lines["item2"]
    assert measured(kept, "metrology_registers_kept")["passed"]
    assert measured(kept, "metrology_registers_read")["value"] == 2  # import and TOU
    assert "TRI-VER-01" not in " ".join(f["clause"] for f in kept["findings"])
    assert not measured(erased, "metrology_registers_kept")["passed"]
    assert (erased["verdict"], erased["category"]) == ("FAULT", "metrology"), erased["why"]


def test_registers_that_read_zero_before_the_reset_leave_it_not_assessed(tmp_path: Path) -> None:
    """A meter returned before its installation never recorded energy: its reset erasing
    the registers erases nothing, so TRI-VER-01's registers are not assessed (with why)
    rather than passed on zeros read back as zeros."""
    manifest = batch(tmp_path / "b.csv",
                     ("EMU-ESME-1", ("reset_erases_registers",), FaultCategory.METROLOGY),
                     return_type=ReturnType.PRIOR_TO_INSTALLATION)
    lines, proc = run_suites(tmp_path, manifest, "-rs", *STAGES)
    assert set(lines) == {"item1"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    line = lines["item1"]
    assert not [m for m in line["measurements"] if m["name"] == "metrology_registers_kept"]
    assert "not assessed: every cumulative register read zero before the reset" in proc.stdout
    assert "TRI-VER-01" not in " ".join(f["clause"] for f in line["findings"])
