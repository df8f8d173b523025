"""Every fault a bench can see is found when another hides others (issue 14 §2), both ways:
a gas meter whose optical port is dead still has its standby current judged, so excessive
standby is found and wins by precedence with the port named beside it; a dead port alone is
classified as the port; and the classifier keeps every finding in its verdict."""

from __future__ import annotations

from pathlib import Path

from harness.domain.vocabulary import FaultCategory
from harness.triage.classify import VerdictKind, classify
from harness.triage.record import TriageRecord
from tests.triage._suite_run import batch, measured, run_suites


def test_the_verdict_names_every_category_found() -> None:
    r = TriageRecord(key="item1", slot="gsme", device_type="GSME")
    r.find("TRI-OPT-01", "optical port", "no answer to a sign-on")
    r.find("TRI-PWR-02", "power", "standby current 0.007 A above 0.0025 A")
    verdict = classify(r)
    assert (verdict.kind, verdict.category) == (VerdictKind.FAULT, "power")
    assert "0.007 A" in verdict.why and "also found: optical port (TRI-OPT-01)" in verdict.why
    alone = TriageRecord(key="item2", slot="gsme", device_type="GSME")
    alone.find("TRI-OPT-01", "optical port", "no answer to a sign-on")
    assert "also found" not in classify(alone).why


def test_a_dead_port_does_not_hide_the_supply(tmp_path: Path) -> None:
    manifest = batch(tmp_path / "b.csv",
                     ("EMU-GSME-1", ("excessive_standby_current", "optical_port_dead"),
                      FaultCategory.POWER),
                     ("EMU-GSME-1", ("optical_port_dead",), FaultCategory.OPTICAL))
    lines, proc = run_suites(tmp_path, manifest, "test_suites/test_10_power.py",
                             "test_suites/test_20_identity.py", "test_suites/test_25_standby.py")
    assert set(lines) == {"item1", "item2"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    both, port = lines["item1"], lines["item2"]
    assert (both["verdict"], both["category"]) == ("FAULT", "power"), both["why"]
    assert not measured(both, "standby_current")["passed"]
    assert {f["category"] for f in both["findings"]} == {"power", "optical port"}
    assert (port["verdict"], port["category"]) == ("FAULT", "optical port"), port["why"]
    assert measured(port, "standby_current")["passed"]
