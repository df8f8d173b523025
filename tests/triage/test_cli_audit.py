"""``meterbench audit verify|checkpoint`` as the command-line contract says: a log that cannot
be checked is one line and exit 2 (never TAMPERED), checkpoints anchor the head, and an
operation STARTED and never finished is a warning, not tampering."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.audit import audit_app
from harness.triage.audit import AuditLog, Outcome


def _verify(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(audit_app, ["verify", *args])
    return result.exit_code, result.stdout, result.stderr


def _one_clear_line(code: int, out: str, err: str, *words: str) -> None:
    assert code == 2, (out, err)
    assert "TAMPERED" not in out + err and "Traceback" not in out + err
    assert out == "" and err.count("\n") == 1 and err.startswith("error: "), err
    for word in words:
        assert word in err, err


def _log(db: Path, n: int = 3) -> None:
    with AuditLog.open(db, create=True) as log:
        for i in range(n):
            log.append(operator="ann", role="supplier", action="reset", outcome="done",
                       detail={"i": i})


def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    bad = tmp_path / "notes.db"
    bad.write_bytes(b"these are my notes, not a database\n" * 200)
    _one_clear_line(*_verify("--db", str(bad)), "file is not a database", str(bad))


def test_an_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    _one_clear_line(*_verify("--db", str(empty)), "no audit log", "the file is empty")
    assert empty.stat().st_size == 0  # verify wrote nothing into it


def test_a_directory(tmp_path: Path) -> None:
    _one_clear_line(*_verify("--db", str(tmp_path)), "is a directory")


def test_an_unreachable_postgresql_server() -> None:
    pytest.importorskip("psycopg")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    _one_clear_line(*_verify("--db", f"postgresql://nobody@127.0.0.1:{port}/audit"),
                    "cannot open the audit log at postgresql+psycopg://nobody@127.0.0.1")


def test_a_non_utf8_path_from_the_real_command_line(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path)
    path = folder + b"/caf\xe9.db"
    with open(path, "wb") as f:  # a file is there, SQLite cannot be given its name
        f.write(b"x")
    done = subprocess.run([sys.executable, "-m", "harness", "audit", "verify", "--db", path],
                          capture_output=True, timeout=60, check=False)
    out, err = done.stdout.decode(), done.stderr.decode()
    _one_clear_line(done.returncode, out, err, "not valid UTF-8", "caf\\xe9.db")


def test_an_unknown_database_scheme(tmp_path: Path) -> None:
    _one_clear_line(*_verify("--db", "nosuchdb://x/y"), "nosuchdb")


def test_checkpoint_then_verify_against_it(tmp_path: Path) -> None:
    db, points = tmp_path / "a.db", tmp_path / "elsewhere" / "checkpoints.jsonl"
    _log(db)
    made = CliRunner().invoke(audit_app, ["checkpoint", "--db", str(db), "--out", str(points)])
    assert made.exit_code == 0 and "3 entries" in made.stdout, made.output
    _log(db, 2)  # the log goes on after the checkpoint
    code, out, _ = _verify("--db", str(db), "--checkpoint", str(points))
    assert code == 0 and "5 entries" in out and "1 checkpoint(s) hold" in out
    elsewhere = tmp_path / "other.db"
    _log(elsewhere)
    _one_clear_line(*_verify("--db", str(elsewhere), "--checkpoint", str(points)),
                    "has no checkpoint of the audit log")
    _one_clear_line(*_verify("--db", str(db), "--checkpoint", str(tmp_path / "none.jsonl")),
                    "cannot read the checkpoint file")


def test_checkpoint_of_a_tampered_log_is_refused(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "a.db"
    _log(db)
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_entries_no_update")
    conn.commit()
    conn.close()
    result = CliRunner().invoke(audit_app, ["checkpoint", "--db", str(db),
                                            "--out", str(tmp_path / "c.jsonl")])
    assert result.exit_code == 1 and "does not verify" in result.stderr
    assert not (tmp_path / "c.jsonl").exists()


def test_started_without_done_is_an_incomplete_operation_warning(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with AuditLog.open(db, create=True) as log:
        for device, outcomes in (("00DB120000000001", ["started", "done"]),
                                 ("00DB120000000002", ["started"]),  # killed mid-reset
                                 ("00DB120000000003", ["started", "failed"]),
                                 ("00DB120000000004", ["started", "started", "done"])):
            for outcome in outcomes:
                log.append(operator="ann", role="supplier", action="RST.CERT",
                           outcome=Outcome(outcome), device_id=device, clause="TRI-RST-01")
        report = log.verify()
    assert report.ok and not report.tampered
    assert [(w.kind, w.seq) for w in report.warnings] == [("incomplete_operation", 6),
                                                          ("incomplete_operation", 3)]
    assert "RST.CERT STARTED on device 00DB120000000002" in report.warnings[1].message
    code, out, _ = _verify("--db", str(db))
    assert code == 0 and out.startswith("OK: ")
    assert out.count("WARNING incomplete_operation: entry") == 2


def test_a_log_from_before_keyed_chains_is_named_as_such(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE audit_entries (seq INTEGER PRIMARY KEY, at TEXT, operator TEXT,"
                 " role TEXT, bench TEXT, device_id TEXT, clause TEXT, action TEXT, "
                 "outcome TEXT, detail TEXT, prev_hash TEXT, hash TEXT)")
    conn.execute("CREATE TABLE audit_head (id INTEGER PRIMARY KEY, count INTEGER, "
                 "last_hash TEXT, created_at TEXT)")
    conn.commit()
    conn.close()
    _one_clear_line(*_verify("--db", str(db)), "unkeyed chain", "meterbench audit init")


def test_init_and_checkpoint_errors_are_one_line(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    result = CliRunner().invoke(audit_app, ["init", "--db", str(tmp_path / "a.db"),
                                            "--audit-key", "env:NO_SUCH_KEY_VAR"])
    _one_clear_line(result.exit_code, result.stdout, result.stderr, "NO_SUCH_KEY_VAR is not set")
    assert not (tmp_path / "a.db").exists()
    result = CliRunner().invoke(audit_app, ["checkpoint", "--db", str(tmp_path / "none.db"),
                                            "--out", str(tmp_path / "c.jsonl")])
    _one_clear_line(result.exit_code, result.stdout, result.stderr, "no audit log")
