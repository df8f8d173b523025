"""The audit log: append and verify; edits, deletions and truncation are each reported;
a missing log is never recreated; writers in two processes keep one chain."""

from __future__ import annotations

import dataclasses
import itertools
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.triage.audit import (
    GENESIS_HASH,
    AuditLog,
    AuditLogError,
    AuditLogMissingError,
    Outcome,
    verify_log,
)
from harness.triage.audit_db import SQLITE_APPEND_ONLY
from harness.triage.audit_key import load_key


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _fill(path: Path, n: int = 5) -> list[str]:
    """A new log at ``path`` with ``n`` entries; returns their hashes."""
    with AuditLog.open(_url(path), create=True) as log:
        return [log.append(operator="ann", role="supplier", bench="bench-1",
                           device_id=f"00DB1200000000{i:02d}", clause="TRI-RST-01",
                           action="reset", outcome=Outcome.DONE, detail={"i": i}).hash
                for i in range(1, n + 1)]


def _tamper(path: Path, *sql: str) -> None:
    """Edit the database behind the log's back, as someone with file access could, putting
    the triggers back after (the chain is what must tell; test_audit_tampering.py covers
    the triggers)."""
    conn = sqlite3.connect(path)
    conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    for statement in sql:
        conn.execute(statement)
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_entries'").fetchone():
        for ddl in SQLITE_APPEND_ONLY:
            conn.execute(ddl)
    conn.commit()
    conn.close()


def test_round_trip(tmp_path: Path) -> None:
    db = tmp_path / "meterbench.db"
    with AuditLog.open(_url(db), create=True) as log:
        first = log.append(operator="ann", role="supplier", bench="bench-1",
                           device_id="00DB120000000001", clause="TRI-RST-01", action="reset",
                           outcome="started", detail={"anchors": ["root", "supplier"], "n": 2})
        second = log.append(operator="bob", role="rsa", bench="bench-1", clause="TRI-RST-02",
                            action="run", outcome="refused", detail={"reason": "not eligible"})
        entries = list(log.entries())
        report = log.verify()
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0] == first and entries[1] == second
    assert entries[0].detail == {"anchors": ["root", "supplier"], "n": 2}
    assert entries[0].at.tzinfo is not None
    assert report.ok and report.count == 2 and report.head_count == 2
    assert report.last_hash == second.hash


def test_empty_log_verifies(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "a.db", create=True) as log:  # a bare path is a SQLite file
        report = log.verify()
    assert report.ok and report.count == 0 and report.last_hash is None


def test_bad_outcome_or_detail_is_refused(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "a.db", create=True) as log:
        with pytest.raises(ValueError, match="unknown audit outcome 'maybe'; one of: started"):
            log.append(operator="ann", role="supplier", action="reset", outcome="maybe")
        with pytest.raises(ValueError, match="plain JSON"):
            log.append(operator="ann", role="supplier", action="reset", outcome="done",
                       detail={"x": object()})
        assert list(log.entries()) == []


def test_database_refuses_update_and_delete(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db, 2)
    conn = sqlite3.connect(db)
    for statement in ("UPDATE audit_entries SET operator = 'eve'", "DELETE FROM audit_entries"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(statement)
    conn.close()
    assert verify_log(_url(db)).ok


def test_edited_entry_is_named(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db)
    _tamper(db, "UPDATE audit_entries SET outcome = 'refused' WHERE seq = 2")
    report = verify_log(_url(db))
    assert report.tampered and not report.missing
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 2)]
    assert "entry 2: content does not match its tag" in report.problems[0].message


def test_edit_with_a_recomputed_hash_breaks_the_next_link(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db)
    with AuditLog.open(_url(db)) as log:
        forged = next(e for e in log.entries() if e.seq == 3)
    forged = dataclasses.replace(forged, operator="eve")
    tag = forged.computed_hash(load_key())  # with the key: only the next link tells
    _tamper(db, f"UPDATE audit_entries SET operator = 'eve', hash = '{tag}' WHERE seq = 3")
    report = verify_log(_url(db))
    assert [(p.kind, p.seq) for p in report.problems] == [("broken_link", 4)]
    assert "entry 4: does not link to entry 3" in report.problems[0].message


def test_deleted_entry_is_a_gap(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db)
    _tamper(db, "DELETE FROM audit_entries WHERE seq = 3")
    report = verify_log(_url(db))
    assert [(p.kind, p.seq) for p in report.problems] == [("deleted", 3)]
    assert report.problems[0].message.startswith("entry 3 missing")
    _tamper(db, "DELETE FROM audit_entries WHERE seq IN (1, 2)")
    kinds = [(p.kind, p.seq) for p in verify_log(_url(db)).problems]
    assert kinds == [("deleted", 1)]
    assert "entries 1 to 3 missing" in verify_log(_url(db)).problems[0].message


def test_truncation_is_detected_by_the_head(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db)
    _tamper(db, "DELETE FROM audit_entries WHERE seq >= 4")
    report = verify_log(_url(db))
    assert [(p.kind, p.seq) for p in report.problems] == [("truncated", 4)]
    assert "head records 5 entries but the log ends at entry 3" in report.problems[0].message
    with AuditLog.open(_url(db)) as log, pytest.raises(AuditLogError, match="not appending"):
        log.append(operator="ann", role="supplier", action="reset", outcome="done")


def test_truncation_with_the_head_rolled_back_is_still_caught(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    hashes = _fill(db)
    _tamper(db, "DELETE FROM audit_entries WHERE seq = 5",
            "UPDATE audit_head SET count = 4")  # the head still holds entry 5's hash
    report = verify_log(_url(db))
    assert [p.kind for p in report.problems] == ["head", "head"]
    assert "the head record was edited: its MAC does not match" in report.problems[0].message
    assert "last tag differs from entry 4" in report.problems[1].message
    assert report.last_hash == hashes[3]


def test_lost_head_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db, 2)
    _tamper(db, "DELETE FROM audit_head")
    report = verify_log(_url(db))
    assert [p.kind for p in report.problems] == ["head"]
    with AuditLog.open(_url(db)) as log, pytest.raises(AuditLogError, match="head record"):
        log.append(operator="ann", role="supplier", action="reset", outcome="done")


def test_missing_file_is_reported_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "gone" / "meterbench.db"
    with pytest.raises(AuditLogMissingError, match="does not exist"):
        AuditLog.open(_url(db))
    report = verify_log(_url(db))
    assert report.missing and not report.ok and report.problems[0].kind == "missing"
    assert not db.exists() and not db.parent.exists()


def test_database_without_the_log_is_missing_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "results.db"
    sqlite3.connect(db).execute("CREATE TABLE results (x INTEGER)").connection.close()
    with pytest.raises(AuditLogMissingError, match="tables do not exist"):
        AuditLog.open(_url(db))
    assert verify_log(_url(db)).missing
    tables = {r[0] for r in sqlite3.connect(db).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"results"}


def test_dropped_log_is_not_silently_recreated(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _fill(db, 3)
    _tamper(db, "DROP TABLE audit_entries")
    report = verify_log(_url(db))
    assert report.tampered and report.problems[0].kind == "schema"
    assert "table audit_entries is missing" in report.problems[0].message
    with pytest.raises(AuditLogError, match="not recreated"):
        AuditLog.open(_url(db), create=True)


def test_create_on_an_existing_log_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    hashes = _fill(db, 3)
    with AuditLog.open(_url(db), create=True) as log:
        report = log.verify()
    assert report.ok and report.count == 3 and report.last_hash == hashes[-1]


_WORKER = """
import sys, time
from pathlib import Path
from harness.triage.audit import AuditLog
url, name, n, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
with AuditLog.open(url) as log:
    Path(go.parent / f"ready-{name}").touch()
    while not go.exists():
        time.sleep(0.005)
    for i in range(n):
        log.append(operator=name, role="supplier", bench="bench-1", clause="TRI-RST-02",
                   action="reset", outcome="done", detail={"i": i})
        time.sleep(0.002)  # let the other writer in: the appends interleave
"""


def test_two_processes_appending_keep_one_chain(tmp_path: Path) -> None:
    db, go, n = tmp_path / "a.db", tmp_path / "go", 40
    AuditLog.open(_url(db), create=True).close()
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, _url(db), name, str(n), str(go)],
                                stderr=subprocess.PIPE, text=True) for name in ("w1", "w2")]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{w}").exists() for w in ("w1", "w2")):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers]
        time.sleep(0.01)
    go.touch()  # both start appending at once
    for w in workers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    with AuditLog.open(_url(db)) as log:
        entries = list(log.entries())
        report = log.verify()
    assert report.ok, report.problems
    assert report.count == 2 * n and [e.seq for e in entries] == list(range(1, 2 * n + 1))
    for name in ("w1", "w2"):
        assert [e.detail["i"] for e in entries if e.operator == name] == list(range(n))
    switches = sum(a.operator != b.operator for a, b in itertools.pairwise(entries))
    assert switches >= 2, "the two writers did not contend"
