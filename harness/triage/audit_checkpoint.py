"""Checkpoints: the audit log's head anchored outside the database, MAC'd with the audit key.

A checkpoint is one JSON line (log id, URL, entry count, the last entry's tag, time, key id,
MAC) appended to a file kept away from the database: another disk, a git repository, a
write-once share, a printout.  ``audit verify --checkpoint FILE`` then proves the log still
holds, unchanged, every entry a checkpoint covers; this catches what the keyed chain alone
cannot: tail truncation with a replayed head (an old copy of the database restored) and a
log rewritten by someone holding the key.

Why an HMAC with the audit key and not an Ed25519 signature: checking a checkpoint is only
useful together with checking the chain, which needs the audit key anyway; against an
insider without the key both are unforgeable, and against the key holder a signature key on
the same machine would not help either: there, what protects the checkpoint is where it is
kept.  One secret to manage is one fewer to lose.  The MAC is domain-separated from entry tags.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

from harness.triage.audit import (
    DEFAULT_DB_URL,
    AuditLog,
    AuditLogError,
    AuditLogTamperedError,
    Problem,
    VerifyReport,
    canonical_json,
    printable,
    verify_log_and_key,
)
from harness.triage.audit_key import AuditKey

CHECKPOINTS_ENV = "MB_AUDIT_CHECKPOINTS"
"""The environment variable naming the checkpoint file a campaign appends to."""


def default_checkpoint_path() -> Path:
    """``$MB_AUDIT_CHECKPOINTS``, else ``$XDG_STATE_HOME/meterbench/audit-checkpoints.jsonl``."""
    named = os.environ.get(CHECKPOINTS_ENV)
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "meterbench" / "audit-checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    """The head of one log at one moment, and the MAC that binds it to the audit key."""

    log_id: str
    url: str
    count: int
    last_hash: str
    at: str
    key_id: str
    mac: str = ""

    def body(self) -> dict[str, Any]:
        """Every field but the MAC."""
        return {k: v for k, v in asdict(self).items() if k != "mac"}

    def computed_mac(self, key: AuditKey) -> str:
        """HMAC-SHA256 of the body under ``key``, domain-separated from the entries' tags."""
        return key.mac(("meterbench-audit-checkpoint\n" + canonical_json(self.body()))
                       .encode("utf-8"))


def make_checkpoint(log: AuditLog) -> Checkpoint:
    """A checkpoint of ``log`` as it is now; AuditLogError when the log does not verify
    (a checkpoint must never bless a tampered log)."""
    report = log.verify()
    if not report.ok:
        raise AuditLogTamperedError(f"the audit log at {log.shown_url} does not verify "
                            f"({report.problems[0].message}): no checkpoint written")
    at = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    point = Checkpoint(report.log_id or "", log.shown_url, report.count,
                       report.last_hash or "", at, log.key.key_id)
    return Checkpoint(**{**point.body(), "mac": point.computed_mac(log.key)})


def write_checkpoint(log: AuditLog, path: Path) -> Checkpoint:
    """Append a checkpoint of ``log`` to ``path`` (one line, flushed to disk)."""
    point = make_checkpoint(log)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(point), sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        raise AuditLogError(f"cannot write the checkpoint file {printable(str(path))}: "
                            f"{exc.strerror}") from None
    return point


def checkpoint_after_campaign(log: AuditLog, path: Path | None = None) -> Path:
    """What a campaign calls at its end: append a checkpoint to ``path`` (default:
    :func:`default_checkpoint_path`, or ``checkpoints.jsonl`` beside a scratch log)."""
    target = path or log.checkpoints or default_checkpoint_path()
    write_checkpoint(log, target)
    return target


def read_checkpoints(path: Path) -> list[tuple[int, Checkpoint | str]]:
    """Each line of ``path``: its number and the checkpoint, or why it is unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise AuditLogError(f"cannot read the checkpoint file {printable(str(path))}: "
                            f"{why}") from None
    found: list[tuple[int, Checkpoint | str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            fields = json.loads(line)
            found.append((number, Checkpoint(**fields)))
        except (ValueError, TypeError) as exc:
            found.append((number, f"not a checkpoint ({exc})"))
    return found


def verify_against_checkpoints(checkpoint: Path, url: str | Path | URL = DEFAULT_DB_URL, *,
                               key: AuditKey | str | None = None) -> VerifyReport:
    """``audit.verify_log``, then the log against its checkpoints in the file ``checkpoint``
    (``audit verify --checkpoint``); a missing or partly lost log is reported as it is."""
    report, used = verify_log_and_key(url, key=key)
    if used is not None:
        check_checkpoints(report, used, checkpoint)
    return report


def check_checkpoints(report: VerifyReport, key: AuditKey, path: Path) -> None:
    """Add to ``report`` every checkpoint of this log in ``path`` that the log no longer holds.

    A line is about this log when it names its log id or its URL; AuditLogError when no
    line is (the wrong file: nothing was checked).
    """
    shown = printable(str(path))
    for number, point in read_checkpoints(path):
        where = f"checkpoint {shown}:{number}"
        if isinstance(point, str):
            report.problems.append(Problem("checkpoint", f"{where}: {point}"))
            continue
        if point.log_id != report.log_id and point.url != report.url:
            continue  # another log's checkpoint
        report.checkpoints += 1
        if point.computed_mac(key) != point.mac:
            report.problems.append(Problem(
                "checkpoint", f"{where}: its MAC does not match: edited, or made with "
                f"another key (key id {point.key_id})"))
        elif point.log_id != report.log_id:
            report.problems.append(Problem(
                "replaced", f"{where} ({point.at}) is of log {point.log_id}, but this "
                f"database now holds log {report.log_id}: the whole log was replaced"))
        elif report.count < point.count and point.count not in report.tags:
            report.problems.append(Problem(
                "truncated", f"{where} ({point.at}) recorded {point.count} entries, the log "
                f"now ends at entry {max(report.tags, default=0)}: entries were removed from "
                "its end", max(report.tags, default=0) + 1))
        elif point.count and report.tags.get(point.count) != point.last_hash:
            report.problems.append(Problem(
                "replaced", f"{where} ({point.at}): entry {point.count} is not the entry it "
                "recorded: the log was rewritten up to there", point.count))
    if report.checkpoints == 0:
        raise AuditLogError(f"the checkpoint file {shown} has no checkpoint of the audit log "
                            f"at {report.url} (log id {report.log_id})")
