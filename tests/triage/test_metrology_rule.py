"""Metrology stays intact (TRI-RST-02, TRI-VER-01), both ways: a meter's reset makes consumer
data unavailable and keeps its cumulative registers, which the verification reads back; a
meter whose reset erased them is a metrology FAULT."""

from __future__ import annotations

from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from tests.triage._suite_run import batch, measured, run_suites


def test_the_reset_keeps_the_registers_and_verification_reads_both(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-2", (), FaultCategory.NONE),
                     ("EMU-ESME-1", ("reset_erases_registers",), FaultCategory.METROLOGY))
    lines, proc = run_suites(tmp_path, manifest, "test_suites/test_20_identity.py",
                             "test_suites/test_30_diagnostics.py", "test_suites/test_60_reset.py",
                             "test_suites/test_70_verify.py", "-k",
                             "local_port or clock or tamper or event_log or security_log or "
                             "reset or clear or lifecycle or han_rejoins or consumer or "
                             "registers")
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    kept, erased = lines["item1"], lines["item2"]
    assert measured(kept, "metrology_registers_kept")["passed"]
    assert measured(kept, "metrology_registers_read")["value"] == 2  # import and TOU
    assert "TRI-VER-01" not in " ".join(f["clause"] for f in kept["findings"])
    assert not measured(erased, "metrology_registers_kept")["passed"]
    assert (erased["verdict"], erased["category"]) == ("FAULT", "metrology"), erased["why"]
