"""Issue 12, "the gate fails closed", judged by what reached the emulated meter's optical port.

A triage run in its own process, with the emulated meters' log of every W1/E2 frame they
received (``_wire_log.py``): a destructive test without a ``spec`` marker, and user code that
calls the probe directly, put nothing on the wire as an RSA and every refusal is audited; as a
supplier the same unmarked test is audited before and after; and a run SIGKILLed while
``RST.CERT`` is on the wire leaves a committed STARTED entry for that device and clause.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.population import PopulationSpec, generate
from harness.triage.audit import AuditLog
from harness.triage.intake import BatchRow, write_csv

HERE = Path(__file__).resolve().parent

USER_TESTS = '''
import pytest


@pytest.mark.destructive
def test_reset_without_a_spec_marker(dut):
    dut.power_up()
    dut.profile().reset_certificates()


def test_probe_called_directly(dut):
    dut.power_up()
    probe = dut.slot.instrument("optical")
    with probe.programming(dut.slot.secrets()["optical_password"]) as session:
        session.execute("RST.CERT")
'''


def reusable_esme(folder: Path) -> tuple[Path, BatchRow]:
    """A batch of one ESME that diagnostics find reusable (so triage resets it), a mode C
    one: the wire log reads IEC 62056-21 frames (a DLMS twin resets by a COSEM method)."""
    row = next(r for r in generate(PopulationSpec(30, seed=5, no_fault_ratio=1.0,
                                                  post_installation_ratio=1.0))
               if r.device_type.name == "ESME" and not MODELS[r.model].optical_dlms)
    batch = folder / "batch.csv"
    write_csv([row], batch)
    return batch, row


def triage_process(folder: Path, *args: str, hold: str | None = None) -> subprocess.Popen:
    """pytest with the meterbench plugin and the wire log, in ``folder``."""
    env = {k: v for k, v in os.environ.items() if k != "MB_SITE_CONFIG"}
    env.update(MB_WIRE_LOG=str(folder / "wire.log"),
               PYTHONPATH=os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]))
    if hold:
        env["MB_WIRE_HOLD"] = hold
    return subprocess.Popen([sys.executable, "-m", "pytest", "-p", "_wire_log", "-p",
                             "no:cacheprovider", "-p", "no:randomly", "-q", "-rA",
                             "--mb-time-scale", "10", *args],
                            cwd=folder, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def audit_url(folder: Path) -> str:
    """A fresh audit log in ``folder``."""
    url = f"sqlite:///{folder / 'audit.db'}"
    AuditLog.open(url, create=True)
    return url


def wire(folder: Path) -> list[str]:
    """The frames the emulated meters received that would change them."""
    path = folder / "wire.log"
    return path.read_text().splitlines() if path.exists() else []


def test_an_rsa_puts_no_reset_on_the_wire_whatever_the_markers(tmp_path: Path) -> None:
    batch, row = reusable_esme(tmp_path)
    url = audit_url(tmp_path)
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    proc = triage_process(tmp_path, "test_user.py", "--mb-batch", str(batch), "--mb-role", "rsa",
                          "--mb-audit-db", url)
    out, _ = proc.communicate(timeout=120)
    assert "2 failed" in out, out  # both refused, neither passed
    assert "INCONCLUSIVE" in out and "may not run" in out, out  # a refusal is no device fault
    assert out.count("AccessDeniedError") >= 2, out
    assert wire(tmp_path) == []  # 0 frames that change the meter reached its port
    refused = [e for e in AuditLog.open(url).entries() if e.outcome == "refused"]
    assert {e.action for e in refused} >= {"TRI-RST-01 reset certificates", "E2 RST.CERT"}
    assert all(e.role == "rsa" for e in refused)
    assert {e.device_id for e in refused if e.clause == "TRI-RST-01"} == {row.device_id}
    assert not [e for e in AuditLog.open(url).entries() if e.outcome != "refused"]


def test_an_unmarked_reset_is_audited_before_and_after(tmp_path: Path) -> None:
    batch, row = reusable_esme(tmp_path)
    url = audit_url(tmp_path)
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    proc = triage_process(tmp_path, "test_user.py", "--mb-batch", str(batch), "--mb-audit-db", url,
                          "-k", "spec_marker")  # the emulated site's default: the supplier
    out, _ = proc.communicate(timeout=120)
    assert "1 passed" in out, out
    assert wire(tmp_path) == ["optical port received E2 RST.CERT"]
    entries = [(e.clause, e.outcome, e.role, e.device_id) for e in AuditLog.open(url).entries()]
    assert entries == [("TRI-RST-01", "started", "supplier", row.device_id),
                       ("TRI-RST-01", "done", "supplier", row.device_id)]


def test_a_run_killed_with_the_reset_on_the_wire_leaves_its_started_entry(
        tmp_path: Path) -> None:
    batch, row = reusable_esme(tmp_path)
    url = audit_url(tmp_path)
    proc = triage_process(tmp_path, "--pyargs", "test_suites", "--mb-batch", str(batch),
                          "--mb-audit-db", url, hold="E2 RST.CERT")
    try:
        deadline = time.monotonic() + 90
        while "optical port received E2 RST.CERT" not in wire(tmp_path):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "RST.CERT never reached the meter"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # right after the reset went on the wire
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    entries = list(AuditLog.open(url).entries())
    mine = [(e.outcome, e.role) for e in entries
            if e.clause == "TRI-RST-01" and e.device_id == row.device_id]
    assert mine == [("started", "supplier")], entries
    assert AuditLog.open(url).verify().ok
