"""The audit log on a real PostgreSQL server: one chain under concurrent appenders, edits
refused by triggers, edits made around them found by ``verify`` (the SQLite tests are in
tests/triage/test_audit_log.py; this file lives here to share the server fixture)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.triage.audit import AuditLog, Outcome, verify_log

psycopg = pytest.importorskip("psycopg", reason="the postgres extra (psycopg) is not installed")


def _admin(url: str) -> Any:
    """A direct connection, as someone with database access (not the harness) would have."""
    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                           autocommit=True)


def _fill(url: str, n: int = 3) -> None:
    with AuditLog.open(url, create=True) as log:
        for i in range(1, n + 1):
            log.append(operator="ann", role="supplier", bench="bench-1", clause="TRI-RST-01",
                       device_id=f"00DB1200000000{i:02d}", action="reset",
                       outcome=Outcome.DONE, detail={"i": i})


def test_round_trip_and_cli_verify(postgres_url: str) -> None:
    _fill(postgres_url)
    with AuditLog.open(postgres_url) as log:
        entries = list(log.entries())
        report = log.verify()
    assert [e.seq for e in entries] == [1, 2, 3] and entries[2].detail == {"i": 3}
    assert report.ok and report.count == 3 and report.last_hash == entries[-1].hash
    result = CliRunner().invoke(app, ["audit", "verify", "--db", postgres_url])
    assert result.exit_code == 0 and "OK: audit log" in result.output and "3 entries" in \
        result.output


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET operator = 'eve'",
                                       "DELETE FROM audit_entries WHERE seq = 2",
                                       "TRUNCATE audit_entries"])
def test_database_refuses_edits(postgres_url: str, statement: str) -> None:
    _fill(postgres_url)
    with _admin(postgres_url) as conn, pytest.raises(psycopg.errors.RaiseException,
                                                     match="append-only"):
        conn.execute(statement)
    assert verify_log(postgres_url).ok


def test_edit_around_the_triggers_is_found(postgres_url: str) -> None:
    """A superuser can switch the triggers off; the hash chain still names the entry."""
    _fill(postgres_url)
    with _admin(postgres_url) as conn:
        conn.execute("ALTER TABLE audit_entries DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_entries SET outcome = 'refused' WHERE seq = 2")
    report = verify_log(postgres_url)
    assert [(p.kind, p.seq) for p in report.problems] == [("edited", 2)] + [("trigger", None)] * 3
    assert "trigger audit_entries_no_update is disabled" in report.problems[1].message


@pytest.mark.parametrize("trigger", ["audit_entries_no_update", "audit_entries_no_delete",
                                     "audit_entries_no_truncate"])
def test_drop_trigger_is_reported(postgres_url: str, trigger: str) -> None:
    _fill(postgres_url)
    with _admin(postgres_url) as conn:
        conn.execute(f"DROP TRIGGER {trigger} ON audit_entries")
    report = verify_log(postgres_url)
    assert [(p.kind, p.message) for p in report.problems] == [
        ("trigger", f"trigger {trigger} is missing (dropped)")]


def test_drop_trigger_then_update_and_a_no_op_function(postgres_url: str) -> None:
    """Tampering case 9 on PostgreSQL, and the trigger function replaced by one that lets
    everything through."""
    _fill(postgres_url)
    with _admin(postgres_url) as conn:
        conn.execute("DROP TRIGGER audit_entries_no_update ON audit_entries")
        conn.execute("UPDATE audit_entries SET device_id = 'X' WHERE seq = 1")
        conn.execute("CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger "
                     "LANGUAGE plpgsql AS $$ BEGIN RETURN OLD; END $$")
    kinds = [(p.kind, p.seq) for p in verify_log(postgres_url).problems]
    assert kinds == [("edited", 1)] + [("trigger", None)] * 3


def test_concurrent_appenders_keep_one_chain(postgres_url: str) -> None:
    """Four writers append at once: the head row's lock (FOR UPDATE) queues them."""
    AuditLog.open(postgres_url, create=True).close()
    logs = [AuditLog.open(postgres_url) for _ in range(4)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def append(log: AuditLog, who: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(10):
                log.append(operator=f"op{who}", role="supplier", action="reset",
                           outcome=Outcome.DONE, detail={"i": i})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(log, n)) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for log in logs:
        log.close()
    assert errors == []
    report = verify_log(postgres_url)
    assert report.ok and report.count == 40 and report.head_count == 40
