"""TRI-DIAG-01 both ways on the emulated bench: a healthy meter whose clock is days off is
not held to its offset; a meter whose crystal has failed is found by its drift rate."""

from __future__ import annotations

from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from harness.triage.manifest import load_manifests
from harness.triage.spec import default_spec
from tests.triage._suite_run import batch, measured, run_suites


def test_offset_is_recorded_and_the_rate_decides(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), FaultCategory.NONE),
                     ("EMU-ESME-1", ("clock_drift:8000",), FaultCategory.HARDWARE))
    lines, proc = run_suites(tmp_path, manifest, "test_suites/test_20_identity.py",
                             "test_suites/test_30_diagnostics.py", "-k", "local_port or clock",
                             "-p", "_shift_clock")
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    tolerance = load_manifests().for_model("EMU-ESME-1").clock_drift_ppm
    healthy, drifting = lines["item1"], lines["item2"]
    offset = measured(healthy, "clock_offset")
    assert offset["value"] > 2 * 86400 and offset["passed"]  # three days off, not held
    assert (offset["low"], offset["high"]) == (None, None)
    uncertainty = measured(healthy, "clock_drift_uncertainty")["value"]
    resolution = default_spec().clause("TRI-DIAG-01").number("resolution_ppm")
    judged = [m for m in healthy["measurements"] if m["name"] == "clock_drift_rate"]
    if judged:  # a rate is judged only once known to the resolution...
        assert judged[0]["passed"] and abs(judged[0]["value"]) <= tolerance + uncertainty
        assert uncertainty <= resolution
    else:  # ...else (reads slowed by a loaded machine) it is not assessed, never a fault
        assert uncertainty > resolution
    assert healthy["verdict"] != "FAULT", healthy["why"]
    assert (drifting["verdict"], drifting["category"]) == ("FAULT", "hardware"), drifting
    found = measured(drifting, "clock_drift_rate")
    assert not found["passed"] and 6000 < found["value"] < 10000, found
