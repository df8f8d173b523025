"""``meterbench audit``: check (and explicitly create) the append-only audit log.

``audit verify [--db URL]`` (DESIGN.md, the command line) prints OK with the entry count and
the last hash, or each problem found.  Exit status: 0 intact, 1 tampered (an entry edited or
deleted, the log truncated), 2 no log at that URL or an unusable URL.  ``audit init`` is the
explicit way to make a new log: no other command creates one behind the operator's back.
The lead wires ``audit_app`` into ``harness.cli`` (``app.add_typer(audit_app, name="audit")``).
"""

from __future__ import annotations

from typing import Annotated

import typer

from harness.triage.audit import (
    DEFAULT_DB_URL,
    AuditLog,
    AuditLogError,
    AuditLogMissingError,
    verify_log,
)

audit_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="The append-only audit log of destructive operations.")

EXIT_TAMPERED, EXIT_USAGE = 1, 2

DbOpt = Annotated[str, typer.Option(
    "--db", help="Database URL (e.g. sqlite:///path/meterbench.db) or a SQLite file path.")]


@audit_app.command("verify")
def audit_verify(db: DbOpt = DEFAULT_DB_URL) -> None:
    """Check the audit log's hash chain and head: OK, or every problem found."""
    try:
        report = verify_log(db)
    except AuditLogError as exc:  # an unusable URL
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    if report.missing:
        typer.echo(f"error: {report.problems[0].message}", err=True)
        raise typer.Exit(EXIT_USAGE)
    if report.ok:
        last = report.last_hash or "(none: the log is empty)"
        typer.echo(f"OK: audit log {report.url}: {report.count} entries, last hash {last}")
        return
    typer.echo(f"TAMPERED: audit log {report.url}: {len(report.problems)} problem(s), "
               f"{report.count} entries present"
               + (f", head records {report.head_count}" if report.head_count is not None else ""))
    for problem in report.problems:
        typer.echo(f"  {problem.kind}: {problem.message}")
    raise typer.Exit(EXIT_TAMPERED)


@audit_app.command("init")
def audit_init(db: DbOpt = DEFAULT_DB_URL) -> None:
    """Create a new, empty audit log at --db (an existing log is left exactly as it is)."""
    try:
        try:
            log = AuditLog.open(db)
            created = False
        except AuditLogMissingError:
            log = AuditLog.open(db, create=True)
            created = True
    except AuditLogError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    with log:
        if created:
            typer.echo(f"created audit log {log.shown_url}")
        else:
            typer.echo(f"audit log {log.shown_url} already exists: left as it is")
