"""The access gate: authorise, commit STARTED, hold the permit, then DONE or FAILED; refusals
audited; no gate or no audit log means refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench.session import BenchSession
from harness.devices.reference import ReferenceProfile
from harness.drivers.permit import active_permit
from harness.errors import AccessDeniedError
from harness.triage.audit import AuditLog
from harness.triage.gate import Gate


def outcomes(log: AuditLog) -> list[tuple[str | None, str, str]]:
    return [(e.clause, e.action, e.outcome) for e in log.entries()]


def test_started_is_committed_before_the_block_and_done_after(gate: Gate, gate_audit: AuditLog,
                                                              tmp_path: Path) -> None:
    with gate.destructive("TRI-RST-01", device_id="00DB1", instruments=frozenset({"p"})) as p:
        assert outcomes(AuditLog.open(f"sqlite:///{tmp_path / 'audit.db'}")) == [
            ("TRI-RST-01", "TRI-RST-01", "started")]  # on disk, before anything is sent
        assert active_permit() is p and p.live
    assert not p.live and active_permit() is None
    assert outcomes(gate_audit)[-1] == ("TRI-RST-01", "TRI-RST-01", "done")
    entry = list(gate_audit.entries())[-1]
    assert (entry.operator, entry.role, entry.device_id) == ("tests", "supplier", "00DB1")


def test_a_failure_or_an_interrupt_is_written_as_failed(gate: Gate, gate_audit: AuditLog) -> None:
    for exc in (RuntimeError("meter said no"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), gate.destructive("TRI-RST-03", device_id=None,
                                                        instruments=None):
            raise exc
    failed = [e for e in gate_audit.entries() if e.outcome == "failed"]
    assert [e.detail["why"] for e in failed] == ["RuntimeError: meter said no",
                                                 "KeyboardInterrupt: "]


def test_an_ineligible_role_is_refused_audited_and_nothing_runs(gate_audit: AuditLog) -> None:
    rsa = Gate.open(BenchSession.from_file(None).config, role="rsa", operator="bob",
                    audit=gate_audit)
    ran = []
    with pytest.raises(AccessDeniedError, match=r"'rsa'.*may not run TRI-DIAG-05"), \
            rsa.destructive("TRI-DIAG-05", device_id="00DB2", instruments=None):
        ran.append(True)
    assert ran == []
    [entry] = list(gate_audit.entries())
    assert (entry.outcome, entry.role, entry.operator, entry.clause) == (
        "refused", "rsa", "bob", "TRI-DIAG-05")


def test_no_audit_log_means_no_destructive_step(gate: Gate) -> None:
    blind = Gate(site=gate.site, user=gate.user, role=gate.role, operator="x", bench="b",
                 audit=lambda: None)
    with pytest.raises(AccessDeniedError, match="no audit log"), \
            blind.destructive("TRI-RST-01", device_id=None, instruments=None):
        pytest.fail("ran without an audit log")


def test_a_profile_without_a_gate_refuses_before_sending() -> None:
    profile = ReferenceProfile(None, secrets={})  # no probe: anything sent would crash
    for step in (profile.reset_certificates, profile.clear_consumer_data, profile.reset_han,
                 profile.reset_lifecycle, lambda: profile.set_supply("disabled")):
        with pytest.raises(AccessDeniedError, match="given no access gate"):
            step()


def test_the_supplier_fallback_is_refused_unless_chosen_and_audited_either_way(
        gate: Gate, gate_audit: AuditLog) -> None:
    with pytest.raises(AccessDeniedError, match="--fallback-supplier"), \
            gate.fallback_to_supplier("8.11", device_id="00DB3", why="E2 to rsa"):
        pytest.fail("fell back without being asked to")
    gate.fallback_supplier = True
    with gate.fallback_to_supplier("8.11", device_id="00DB3", why="E2 to rsa"):
        pass
    assert [(e.action, e.outcome, e.detail["request"], e.detail["why"])
            for e in gate_audit.entries()] == [
        ("fallback to supplier for 8.11", "refused", "8.11",
         "8.11 refused to supplier; not made with the Supplier's credentials (pass "
         "--fallback-supplier to allow it, audited)"),
        ("fallback to supplier for 8.11", "started", "8.11", "E2 to rsa"),
        ("fallback to supplier for 8.11", "done", "8.11", "E2 to rsa")]
