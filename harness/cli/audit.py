"""``meterbench audit``: create, check and anchor the append-only, keyed audit log.

``audit init [--db URL] [--audit-key REF]`` makes a new log, and the audit key where there is
none (a 0600 file; it says where).  ``audit verify [--db URL] [--audit-key REF]
[--checkpoint FILE]`` prints OK with the entry count and last tag (and any incomplete
operation as a WARNING line), or TAMPERED and each problem.  ``audit checkpoint --out FILE``
appends a MAC'd checkpoint of the head to FILE, to keep away from the database.

Exit status: 0 intact (warnings allowed); 1 tampered (an entry edited, deleted, renumbered,
the chain recomputed, the head edited, the log truncated or replaced, a trigger dropped);
2 the log cannot be checked: no log at that URL, an unusable URL, a file that is not a
database, a directory, an unreadable path, an unreachable server, no audit key or the wrong
one, an unreadable checkpoint file; always one line on stderr, never TAMPERED, never a
traceback.  The key is ``--audit-key``, else ``$MB_AUDIT_KEY``, else
``~/.config/meterbench/audit.key``: ``file:PATH``, ``file:PATH#NAME``, ``env:NAME`` or a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.triage.audit import (
    DEFAULT_DB_URL,
    AuditLog,
    AuditLogError,
    AuditLogMissingError,
    AuditLogTamperedError,
    printable,
    verify_log,
)
from harness.triage.audit_checkpoint import verify_against_checkpoints, write_checkpoint
from harness.triage.audit_key import AuditKeyError, ensure_key

audit_app = typer.Typer(no_args_is_help=True, add_completion=False,
                        help="The append-only audit log of destructive operations.")

EXIT_TAMPERED, EXIT_USAGE = 1, 2

DbOpt = Annotated[str, typer.Option(
    "--db", help="Database URL (e.g. sqlite:///path/meterbench.db) or a SQLite file path.")]
KeyOpt = Annotated[str | None, typer.Option(
    "--audit-key", help="The audit key: file:PATH, file:PATH#NAME, env:NAME or a path "
    "(default: $MB_AUDIT_KEY, else ~/.config/meterbench/audit.key).")]


def _usage(message: str) -> typer.Exit:
    """One line on stderr; the exit to raise (status 2)."""
    typer.echo(f"error: {printable(message)}", err=True)
    return typer.Exit(EXIT_USAGE)


@audit_app.command("verify")
def audit_verify(db: DbOpt = DEFAULT_DB_URL, audit_key: KeyOpt = None,
                 checkpoint: Annotated[Path | None, typer.Option(
                     "--checkpoint", help="Also check against the checkpoints of this log "
                     "in FILE (from `audit checkpoint`).")] = None) -> None:
    """Check the audit log's keyed chain, head and triggers: OK, or every problem found."""
    try:
        report = (verify_log(db, key=audit_key) if checkpoint is None
                  else verify_against_checkpoints(checkpoint, db, key=audit_key))
    except AuditLogError as exc:  # cannot be checked: not evidence of tampering
        raise _usage(str(exc)) from None
    if report.missing:
        raise _usage(report.problems[0].message)
    if report.ok:
        last = report.last_hash or "(none: the log is empty)"
        anchored = (f", {report.checkpoints} checkpoint(s) hold" if checkpoint is not None
                    else "")
        typer.echo(f"OK: audit log {report.url}: {report.count} entries, last tag {last}, "
                   f"key id {report.key_id}{anchored}")
        for warning in report.warnings:
            typer.echo(f"  WARNING {warning.kind}: {warning.message}")
        return
    typer.echo(f"TAMPERED: audit log {report.url}: {len(report.problems)} problem(s), "
               f"{report.count} entries present"
               + (f", head records {report.head_count}" if report.head_count is not None else ""))
    for problem in report.problems:
        typer.echo(f"  {problem.kind}: {problem.message}")
    for warning in report.warnings:
        typer.echo(f"  WARNING {warning.kind}: {warning.message}")
    raise typer.Exit(EXIT_TAMPERED)


@audit_app.command("init")
def audit_init(db: DbOpt = DEFAULT_DB_URL, audit_key: KeyOpt = None) -> None:
    """Create a new, empty audit log at --db, and the audit key where there is none (an
    existing log or key is left exactly as it is)."""
    try:
        try:
            log = AuditLog.open(db, key=audit_key)
            created = False
        except AuditLogMissingError:
            key, made = ensure_key(audit_key)
            if made:
                typer.echo(f"created audit key {key.source} (key id {key.key_id}): keep it "
                           "secret, back it up; the database holds only its id")
            log = AuditLog.open(db, create=True, key=key)
            created = True
    except (AuditLogError, AuditKeyError) as exc:
        raise _usage(str(exc)) from None
    with log:
        if created:
            typer.echo(f"created audit log {log.shown_url} (key id {log.key.key_id})")
        else:
            typer.echo(f"audit log {log.shown_url} already exists: left as it is")


@audit_app.command("checkpoint")
def audit_checkpoint(out: Annotated[Path, typer.Option(
                         "--out", "-o", help="Checkpoint file to append to (keep it away from "
                         "the database).")],
                     db: DbOpt = DEFAULT_DB_URL, audit_key: KeyOpt = None) -> None:
    """Append a MAC'd checkpoint of the log's head (count, last tag, time, key id) to --out."""
    try:
        with AuditLog.open(db, key=audit_key) as log:
            point = write_checkpoint(log, out)
    except AuditLogMissingError as exc:
        raise _usage(str(exc)) from None
    except AuditLogTamperedError as exc:
        typer.echo(f"TAMPERED: {printable(str(exc))}", err=True)
        raise typer.Exit(EXIT_TAMPERED) from None
    except AuditLogError as exc:
        raise _usage(str(exc)) from None
    typer.echo(f"checkpoint of {point.url}: {point.count} entries, last tag "
               f"{point.last_hash or '(none)'}, appended to {printable(str(out))}")
