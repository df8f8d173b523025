"""A campaign anchors its audit log outside the database when it ends (issue 12 §4): the
checkpoint file gains a line covering every entry the campaign wrote, and ``audit verify
--checkpoint`` holds the log to it, so a later rewrite of the campaign's entries is caught."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from harness.triage.audit import AuditLog
from harness.triage.audit_checkpoint import verify_against_checkpoints

REPO = Path(__file__).resolve().parents[2]


def test_a_campaign_ends_with_a_checkpoint_that_verify_holds_the_log_to(tmp_path: Path) -> None:
    audit = f"sqlite:///{tmp_path / 'audit.db'}"
    AuditLog.open(audit, create=True).close()
    checkpoints = tmp_path / "checkpoints.jsonl"
    env = {**os.environ, "MB_AUDIT_CHECKPOINTS": str(checkpoints),
           "MB_LOCK_DIR": str(tmp_path / "locks")}
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench",
         str(REPO / "benches" / "emulated-fast.toml"), "--slots", "--audit-db", audit,
         "--json", "--", "-k", "esme"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    lines = checkpoints.read_text().splitlines()
    assert len(lines) == 1
    report = verify_against_checkpoints(checkpoints, audit)
    assert report.ok, report.problems
    assert report.count >= 2  # the reset's STARTED and DONE entries at least

    with sqlite3.connect(tmp_path / "audit.db") as db:  # an insider drops the campaign's
        db.execute("DROP TRIGGER audit_entries_no_delete")  # entries and rewinds the head
        db.execute("DELETE FROM audit_entries")
    assert not verify_against_checkpoints(checkpoints, audit).ok
