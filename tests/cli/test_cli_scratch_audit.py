"""An emulated campaign without ``--audit-db`` audits to a scratch log in the temporary
folder; the run removes what it made there (issue 15 §5: 22 were left after an afternoon)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_an_emulated_run_leaves_no_scratch_audit_log(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "TEMP": str(temp), "TMP": str(temp)}
    # seed 0's second device is an ESME: its supply switch test is destructive, so audited
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--devices", "2", "--json", "--bench",
         str(REPO / "benches" / "emulated-fast.toml"), "--", "-k",
         "power_on or local_port or supply_switch"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    assert '"device_type": "ESME"' in proc.stdout, proc.stdout[-2000:]
    assert "TRI-DIAG-05" in proc.stdout  # the destructive clause ran: something was audited
    left = sorted(p.name for p in temp.iterdir())
    assert left == [], f"left in the temporary folder: {left}"
