"""TRI-PWR-01 both ways: the inrush is measured with the supply's limit above the model's peak
envelope, so a healthy meter's real peak (above the slot's 0.5 A limit) is seen and passes,
and a meter whose peak exceeds its declared envelope fails: the supply's own limit no longer
proves a peak under it."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.domain.vocabulary import FaultCategory
from harness.triage.manifest import load_manifests
from tests.triage._suite_run import batch, measured, run_suites


def test_the_peak_is_judged_against_the_envelope_not_the_supply_limit(tmp_path: Path) -> None:
    shipped = load_manifests().for_model("EMU-ESME-1")
    assert shipped is not None and shipped.peak_current_a is not None
    tight = shipped.model_copy(update={"peak_current_a": 0.2})  # a lab's stricter model
    lab = tmp_path / "lab.yaml"
    lab.write_text(yaml.safe_dump({"models": {"EMU-ESME-1": tight.model_dump(mode="json")}}))
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), FaultCategory.NONE))
    # Real time: the inrush decays within milliseconds, a fast bench would shrink it tenfold.
    healthy, proc = run_suites(tmp_path, manifest, "test_suites/test_10_power.py",
                               "--mb-time-scale", "1")
    assert set(healthy) == {"item1"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    peak = measured(healthy["item1"], "peak_current")
    assert peak["passed"] and peak["high"] == shipped.peak_current_a
    (tmp_path / "verdicts.jsonl").unlink()
    strict, proc = run_suites(tmp_path, manifest, "test_suites/test_10_power.py",
                              "--mb-time-scale", "1", "--mb-manifest", str(lab))
    assert set(strict) == {"item1"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    over = measured(strict["item1"], "peak_current")
    assert not over["passed"] and over["value"] > 0.2
    assert (strict["item1"]["verdict"], strict["item1"]["category"]) == ("FAULT", "power")
