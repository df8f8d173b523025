"""``meterbench console``: accounts added from the command line, and every missing piece (no
accounts file, no audit log, a bad bench file) one error line and exit status 2 before
anything is served."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.console.accounts import load_accounts
from harness.triage.audit import AuditLog
from harness.triage.audit_key import create_key_file

runner = CliRunner(env={"COLUMNS": "200"})


def test_add_account_writes_a_hash(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.yaml"
    result = runner.invoke(app, ["console", "--accounts", str(accounts), "--add-account", "ann"],
                           input="pw-of-ann\npw-of-ann\n")
    assert result.exit_code == 0, result.output
    assert load_accounts(accounts, check_owner=False).check("ann", "pw-of-ann")


def test_no_accounts_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["console", "--accounts", str(tmp_path / "none.yaml"),
                                 "--db", f"sqlite:///{tmp_path}/m.db"])
    assert result.exit_code == 2
    assert "console accounts file not found" in result.output


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.yaml"
    runner.invoke(app, ["console", "--accounts", str(path), "--add-account", "ann"],
                  input="pw-of-ann\npw-of-ann\n")
    return path


def test_no_audit_log_is_a_usage_error(tmp_path: Path, accounts: Path) -> None:
    result = runner.invoke(app, ["console", "--accounts", str(accounts),
                                 "--db", f"sqlite:///{tmp_path}/m.db"])
    assert result.exit_code == 2
    assert "no audit log" in result.output and "meterbench audit init" in result.output


def test_a_bad_bench_file_is_named(tmp_path: Path, accounts: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    create_key_file(tmp_path / "audit.key")
    monkeypatch.setenv("MB_AUDIT_KEY", str(tmp_path / "audit.key"))
    db = f"sqlite:///{tmp_path}/m.db"
    AuditLog.open(db, create=True).close()
    bad = tmp_path / "bench.toml"
    bad.write_text("[bench]\nname = 3\n")
    result = runner.invoke(app, ["console", "--accounts", str(accounts), "--db", db,
                                 "--bench", str(bad)])
    assert result.exit_code == 2
    assert "bench.toml" in result.output
