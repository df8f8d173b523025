"""The per-model conformance report: passed, failed, not assessed, not covered."""

from __future__ import annotations

from harness.plugin.conformance import Conformance


def test_report_lists_every_applicable_clause_per_model() -> None:
    c = Conformance()
    c.add("EMU-ESME-1", "ESME", "TRI-PWR-01", "passed")
    c.add("EMU-ESME-1", "ESME", "TRI-PWR-01", "passed")
    c.add("EMU-ESME-1", "ESME", "TRI-PWR-02", "failed")
    c.add("EMU-ESME-1", "ESME", "TRI-PWR-02", "passed")
    c.add("EMU-ESME-1", "ESME", "TRI-ID-01", "not assessed")
    rows = {(clause): (status, detail) for _, clause, status, detail in c.rows()}
    assert rows["TRI-PWR-01"] == ("passed", "2 passed")
    assert rows["TRI-PWR-02"] == ("failed", "1 passed, 1 failed")
    assert rows["TRI-ID-01"] == ("not assessed", "1 not assessed")
    assert rows["TRI-DIAG-01"] == ("not covered", "")
    assert "TRI-WAN-01" not in rows  # a hub-only clause does not apply to a meter
    text = c.markdown()
    assert "## EMU-ESME-1 (ESME)" in text and "| TRI-PWR-02 " in text
