"""A reset with an ineligible role is refused, audited, and leaves the device as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator.world.population import PopulationSpec, generate
from harness.triage.audit import AuditLog
from harness.triage.intake import write_csv

CHECK_AFTER = """
def test_device_left_untouched(emulator):
    device = emulator.devices["esme"]
    assert device.consumer_data().available
    assert device.anchor_fingerprints() != device.original_anchor_fingerprints()
"""


def test_rsa_reset_is_refused_and_audited(pytester: pytest.Pytester, tmp_path: Path) -> None:
    rows = [r for r in generate(PopulationSpec(30, seed=5, no_fault_ratio=1.0,
                                               post_installation_ratio=1.0))
            if r.device_type.name == "ESME"][:1]
    batch = tmp_path / "batch.csv"
    write_csv(rows, batch)
    audit_url = f"sqlite:///{tmp_path / 'audit.db'}"
    AuditLog.open(audit_url, create=True)
    check = pytester.makepyfile(test_zz_after=CHECK_AFTER)
    result = pytester.runpytest("--pyargs", "test_suites", str(check), "--mb-batch", str(batch),
                                "--mb-role", "rsa", "--mb-operator", "ann",
                                "--mb-audit-db", audit_url, "--mb-time-scale", "10",
                                "-p", "no:randomly", "-rs")
    result.assert_outcomes(failed=0, passed=result.parseoutcomes()["passed"],
                           skipped=result.parseoutcomes()["skipped"])
    result.stdout.fnmatch_lines(["*INCONCLUSIVE*rsa*may not run*",
                                 "*refused: role 'rsa'*may not run TRI-RST-01*"])
    entries = AuditLog.open(audit_url).entries()
    refused = [e for e in entries if e.outcome == "refused"]
    assert {e.clause for e in refused} >= {"TRI-RST-01", "TRI-RST-02", "TRI-RST-03",
                                           "TRI-RST-04", "TRI-DIAG-05"}
    assert all(e.operator == "ann" and e.role == "rsa" for e in refused)
    assert AuditLog.open(audit_url).verify().ok
