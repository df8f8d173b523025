"""The audit key: created by ``audit init`` where there is none, never stored in the database,
required (with a clear error) to append and verify, and the wrong key is not 'tampered'."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.audit import audit_app
from harness.triage.audit import AuditLog, AuditLogError, Outcome, open_scratch_log, verify_log
from harness.triage.audit_checkpoint import checkpoint_after_campaign, verify_against_checkpoints
from harness.triage.audit_key import AuditKeyError, create_key_file, load_key


def _no_key_anywhere(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """No MB_AUDIT_KEY, the default key file under ``home``; its path."""
    monkeypatch.delenv("MB_AUDIT_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "meterbench" / "audit.key"


def test_init_creates_the_key_where_there_is_none_and_says_where(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_path = _no_key_anywhere(monkeypatch, tmp_path / "config")
    db = tmp_path / "meterbench.db"
    result = CliRunner().invoke(audit_app, ["init", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"created audit key {key_path}" in result.stdout
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    key = load_key()
    with AuditLog.open(db) as log:
        log.append(operator="ann", role="supplier", action="reset", outcome=Outcome.DONE)
    raw = db.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("meterbench.db-*"))
    assert key.secret not in raw and key.secret.hex().encode() not in raw
    assert key.key_id.encode() in raw  # only its identifier
    again = CliRunner().invoke(audit_app, ["init", "--db", str(tmp_path / "other.db")])
    assert again.exit_code == 0 and "created audit key" not in again.stdout
    assert load_key().secret == key.secret  # an existing key is never replaced


def test_no_key_is_a_clear_error_saying_how_to_make_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "a.db"
    AuditLog.open(db, create=True).close()  # made with the test suite's key
    key_path = _no_key_anywhere(monkeypatch, tmp_path / "config")
    with AuditLog.open(db) as log, pytest.raises(AuditLogError) as caught:
        log.append(operator="ann", role="supplier", action="reset", outcome="done")
    assert f"no audit key at {key_path}" in str(caught.value)
    assert "meterbench audit init" in str(caught.value)
    with pytest.raises(AuditLogError, match="needs its key"):
        AuditLog.open(tmp_path / "new.db", create=True)
    assert not (tmp_path / "new.db").exists()  # no key: no log file either
    result = CliRunner().invoke(audit_app, ["verify", "--db", str(db)])
    assert result.exit_code == 2 and "TAMPERED" not in result.output
    assert result.stderr.count("\n") == 1 and "no audit key" in result.stderr


def test_wrong_key_is_exit_2_not_tampered(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with AuditLog.open(db, create=True) as log:
        log.append(operator="ann", role="supplier", action="reset", outcome="done")
    other = create_key_file(tmp_path / "other.key")
    with pytest.raises(AuditLogError, match="is keyed with key id"):
        verify_log(db, key=other)
    with AuditLog.open(db, key=other) as log, pytest.raises(AuditLogError, match="not appending"):
        log.append(operator="ann", role="supplier", action="reset", outcome="done")
    result = CliRunner().invoke(audit_app, ["verify", "--db", str(db),
                                            "--audit-key", f"file:{tmp_path / 'other.key'}"])
    assert result.exit_code == 2 and "TAMPERED" not in result.output
    assert "is keyed with key id" in result.stderr


def test_key_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = create_key_file(tmp_path / "k" / "audit.key")
    monkeypatch.setenv("SITE_AUDIT_KEY", key.secret.hex())
    assert load_key("env:SITE_AUDIT_KEY").key_id == key.key_id
    (tmp_path / "site.secrets").write_text(f"other=1\naudit = {key.secret.hex()}\n")
    assert load_key(f"file:{tmp_path / 'site.secrets'}#audit").key_id == key.key_id
    assert load_key(str(tmp_path / "k" / "audit.key")).key_id == key.key_id
    with pytest.raises(AuditKeyError, match="MISSING_VAR is not set"):
        load_key("env:MISSING_VAR")
    monkeypatch.setenv("SHORT", "abcd")
    with pytest.raises(AuditKeyError, match="expected at least 64 hex digits"):
        load_key("env:SHORT")
    loose = tmp_path / "loose.key"
    loose.write_text(key.secret.hex())
    os.chmod(loose, 0o644)
    with pytest.raises(AuditKeyError, match=r"readable or writable by others \(mode 0644\)"):
        load_key(str(loose))
    with pytest.raises(AuditKeyError, match="already exists: not replaced"):
        create_key_file(tmp_path / "k" / "audit.key")


def test_scratch_log_has_its_own_key_beside_it(tmp_path: Path) -> None:
    with open_scratch_log(base=tmp_path) as log:
        folder = Path(log.url.database or "").parent
        assert stat.S_IMODE((folder / "audit.key").stat().st_mode) == 0o600
        assert log.key.key_id == load_key(str(folder / "audit.key")).key_id
        assert log.key.key_id != load_key().key_id  # not the site key
        log.append(operator="ann", role="supplier", action="reset", outcome="started",
                   device_id="00DB120000000001", clause="TRI-RST-01")
        log.append(operator="ann", role="supplier", action="reset", outcome="done",
                   device_id="00DB120000000001", clause="TRI-RST-01")
        where = checkpoint_after_campaign(log)
        assert where == folder / "checkpoints.jsonl"
        report = verify_against_checkpoints(where, log.url, key=log.key)
    assert report.ok and not report.warnings and report.checkpoints == 1


def test_head_names_another_key_but_the_entries_verify_is_tampering(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with AuditLog.open(db, create=True) as log:
        for _ in range(2):
            log.append(operator="ann", role="supplier", action="reset", outcome="done")
    conn = sqlite3.connect(db)
    conn.execute("UPDATE audit_head SET key_id = '0123456789abcdef'")
    conn.commit()
    report = verify_log(db)
    assert [p.kind for p in report.problems] == ["head"]
    conn.execute("DROP TRIGGER audit_entries_no_update")
    conn.execute("UPDATE audit_entries SET operator = 'eve' WHERE seq = 2")
    conn.commit()
    conn.close()
    report = verify_log(db)  # one entry still verifies: the key is right, the log is not
    assert [p.kind for p in report.problems] == ["edited", "head", "trigger"]
