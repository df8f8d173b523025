"""Bench and transport trouble is never a device fault (TRI-OPT-01, issue 14 §2), both ways:
a garbled byte after the baud switch or a lost answer is retried and the healthy meter is not
charged, while a dead port, whose failure repeats on a fresh readout, still is; a stage run on
its own does not charge the device it never prepared."""

from __future__ import annotations

from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from tests.triage._suite_run import batch, run_suites

STAGES = ("test_suites/test_10_power.py", "test_suites/test_20_identity.py",
          "test_suites/test_30_diagnostics.py", "test_suites/test_35_optical_link.py")


TROUBLE = "test_20_identity:garble,test_30_diagnostics:timeout"


def test_link_trouble_is_not_charged_but_a_dead_port_is(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), FaultCategory.NONE),
                     ("EMU-ESME-1", ("optical_port_dead",), FaultCategory.OPTICAL))
    lines, proc = run_suites(tmp_path, manifest, *STAGES, "-p", "_trouble_plugin",
                             env={"MB_TROUBLE": TROUBLE})
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    healthy, dead = lines["item1"], lines["item2"]
    assert healthy["verdict"] != "FAULT", healthy["why"]
    assert not healthy["findings"], healthy["findings"]
    assert (dead["verdict"], dead["category"]) == ("FAULT", "optical port"), dead["why"]
    assert "; repeated: " in dead["why"]


def test_stages_run_without_the_diagnostics_charge_nothing(tmp_path: Path) -> None:
    """The HAN and reset stages on their own (-k or a file alone): the field HAN a meter
    keeps is not taken for a dead radio, and an unprepared device is not reset or charged."""
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), FaultCategory.NONE),
                     ("EMU-CH-1", (), FaultCategory.NONE))
    lines, proc = run_suites(tmp_path, manifest, "test_suites/test_40_han.py",
                             "test_suites/test_60_reset.py")
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    for line in lines.values():
        assert line["verdict"] == "INCONCLUSIVE" and not line["findings"], line
        assert not line["reset"]
