"""``meterbench spec`` and ``meterbench audit verify|init`` as the command-line contract says."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from harness.cli.audit import audit_app
from harness.cli.spec import spec_app, spec_command
from harness.triage.audit import AuditLog
from harness.triage.spec import default_spec, spec_text


def _app() -> typer.Typer:
    """A stand-in for harness.cli's app, wired the way the lead wires these."""
    app = typer.Typer()
    app.add_typer(spec_app, name="spec")
    app.add_typer(audit_app, name="audit")
    return app


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_spec_markdown_by_default(runner: CliRunner) -> None:
    result = runner.invoke(_app(), ["spec"])
    assert result.exit_code == 0
    for clause in default_spec().clauses:
        assert f"#### {clause.id}: " in result.stdout


def test_spec_yaml_is_the_shipped_file(runner: CliRunner) -> None:
    result = runner.invoke(_app(), ["spec", "--format", "yaml"])
    assert result.exit_code == 0
    assert result.stdout == spec_text()
    assert yaml.safe_load(result.stdout)["clauses"][0]["id"] == "TRI-ID-01"


def test_spec_as_a_plain_command_and_bad_format(runner: CliRunner) -> None:
    app = typer.Typer()
    app.command("spec")(spec_command)
    app.command("other")(lambda: None)
    assert runner.invoke(app, ["spec", "-f", "MD"]).stdout.startswith("# meterbench triage")
    assert runner.invoke(app, ["spec", "--format", "pdf"]).exit_code == 2


def test_audit_verify_ok(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meterbench.db'}"
    with AuditLog.open(url, create=True) as log:
        last = log.append(operator="ann", role="supplier", action="reset", outcome="done",
                          clause="TRI-RST-01").hash
        last = log.append(operator="ann", role="supplier", action="reset", outcome="done",
                          clause="TRI-RST-02").hash
    result = runner.invoke(_app(), ["audit", "verify", "--db", url])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: ") and "2 entries" in result.stdout
    assert last in result.stdout


def test_audit_verify_tampered_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "meterbench.db"
    with AuditLog.open(db, create=True) as log:
        for _ in range(3):
            log.append(operator="ann", role="supplier", action="reset", outcome="done")
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_entries_no_update")
    conn.execute("UPDATE audit_entries SET operator = 'eve' WHERE seq = 2")
    conn.commit()
    conn.close()
    result = runner.invoke(_app(), ["audit", "verify", "--db", str(db)])
    assert result.exit_code == 1
    assert "TAMPERED" in result.stdout and "edited: entry 2:" in result.stdout


def test_audit_verify_missing_exits_2_and_creates_nothing(runner: CliRunner,
                                                          tmp_path: Path) -> None:
    db = tmp_path / "meterbench.db"
    result = runner.invoke(_app(), ["audit", "verify", "--db", f"sqlite:///{db}"])
    assert result.exit_code == 2
    assert "no audit log" in result.stderr and "Traceback" not in result.output
    assert not db.exists()


def test_audit_init_is_the_explicit_way_to_create(runner: CliRunner, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meterbench.db'}"
    assert "created audit log" in runner.invoke(_app(), ["audit", "init", "--db", url]).stdout
    with AuditLog.open(url) as log:
        log.append(operator="ann", role="supplier", action="reset", outcome="done")
    again = runner.invoke(_app(), ["audit", "init", "--db", url])
    assert again.exit_code == 0 and "already exists" in again.stdout
    assert "1 entries" in runner.invoke(_app(), ["audit", "verify", "--db", url]).stdout
